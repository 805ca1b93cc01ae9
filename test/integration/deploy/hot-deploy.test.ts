/**
 * The deploy folder, watched: archives and app folders added, replaced and removed while the
 * server runs are deployed, redeployed and undeployed without a restart.
 *
 *   operator                     apps/ (watched)                Siplet
 *     | versioned.sar (v1) ───────► |  at start ─────────────────► v1 active
 *     | rewrite versioned.sar (v2) ► |  stable 150 ms ────────────► v2 active, v1 drains
 *     | half of v3, then the rest ─► |  does not open yet: retried ► v3 active
 *     | rm versioned.sar ──────────► | ───────────────────────────► undeployed: INVITE → 404
 *
 *   alice ── INVITE ──► Siplet ── 200 (X-Version: vN) ──► alice, after each step
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { events, PRELUDE } from '../../unit/container/deploy/app-fixtures.js';
import { deployHarness, eventually, inviteStatus, versionedArchive, versionedFiles, type DeployHarness } from './deploy-fixtures.js';

let h: DeployHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  events().length = 0;
});

const versionOf = (harness: DeployHarness, name = 'versioned') => harness.deployer.list().filter((d) => d.name === name && d.state === 'active').map((d) => d.version)[0];

describe('the watched deploy folder', () => {
  it('deploys at start, redeploys a replaced archive, waits out a partial write, undeploys a removed one', async () => {
    h = await deployHarness({ start: false, watch: true });
    const path = join(h.deployDir, 'versioned.sar');
    await writeFile(path, await versionedArchive('v1'));
    await h.deployer.start();
    const alice = await h.siplet.ua('alice');
    expect(await inviteStatus(alice)).toEqual({ status: 200, version: 'v1' });

    // Replaced atomically (write elsewhere, rename over).
    await writeFile(join(h.deployDir, '.incoming'), await versionedArchive('v2'));
    await rename(join(h.deployDir, '.incoming'), path);
    await eventually(() => expect(versionOf(h!)).toBe('v2'));
    expect(await inviteStatus(alice)).toEqual({ status: 200, version: 'v2' });

    // Written in two halves: the first half is no zip yet; it is retried, v2 serves meanwhile.
    const v3 = await versionedArchive('v3');
    await writeFile(path, v3.subarray(0, v3.length >> 1));
    await new Promise((r) => setTimeout(r, 250));
    expect(versionOf(h)).toBe('v2');
    expect(await inviteStatus(alice)).toEqual({ status: 200, version: 'v2' });
    await writeFile(path, v3);
    await eventually(() => expect(versionOf(h!)).toBe('v3'));
    expect(await inviteStatus(alice)).toEqual({ status: 200, version: 'v3' });

    await rm(path);
    await eventually(() => expect(h!.deployer.list()).toEqual([]));
    expect((await inviteStatus(alice)).status).toBe(404);
  }, 20_000);

  it('deploys, redeploys and undeploys an exploded app folder', async () => {
    h = await deployHarness({ watch: true });
    const folder = join(h.deployDir, 'versioned');
    const staging = join(h.deployDir, '.staging');
    await mkdir(staging);
    for (const [name, text] of Object.entries(versionedFiles('f1'))) await writeFile(join(staging, name), text);
    await rename(staging, folder);
    await eventually(() => expect(versionOf(h!)).toBe('f1'));
    const alice = await h.siplet.ua('alice');
    expect(await inviteStatus(alice)).toEqual({ status: 200, version: 'f1' });

    // A new entry module and descriptor: redeployed with fresh code.
    const f2 = versionedFiles('f2');
    await writeFile(join(folder, 'index.js'), f2['index.js']!);
    await writeFile(join(folder, 'siplet.json'), f2['siplet.json']!);
    await eventually(() => expect(versionOf(h!)).toBe('f2'));
    expect(await inviteStatus(alice)).toEqual({ status: 200, version: 'f2' });

    await rm(folder, { recursive: true });
    await eventually(() => expect(h!.deployer.list()).toEqual([]));
  }, 20_000);

  it('a broken archive dropped in is refused and the running version stays; a later good one is deployed', async () => {
    h = await deployHarness({ watch: true });
    await h.deployer.deployArchive(await versionedArchive('v1'), { persist: true });
    const alice = await h.siplet.ua('alice');
    const deployedAt = h.deployer.get('versioned')?.deployedAt;
    // The archive persist wrote is known: the watcher does not deploy it again.
    await new Promise((r) => setTimeout(r, 400));
    expect(h.deployer.get('versioned')?.deployedAt).toBe(deployedAt);

    await writeFile(join(h.deployDir, 'other.sar'), `${PRELUDE} not a zip at all`);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await inviteStatus(alice)).toEqual({ status: 200, version: 'v1' });
    expect(h.deployer.list().map((d) => d.version)).toEqual(['v1']);

    await writeFile(join(h.deployDir, 'other.sar'), await versionedArchive('v9', { name: 'other' }));
    await eventually(() => expect(versionOf(h!, 'other')).toBe('v9'));
    expect(versionOf(h)).toBe('v1');
  }, 20_000);
});
