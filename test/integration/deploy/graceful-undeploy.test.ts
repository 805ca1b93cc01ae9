/**
 * Graceful and forced undeploy, the drain timeout, and a redeploy while the old version drains.
 *
 * Graceful (the default):
 *   alice            Siplet: versioned v1                 bob
 *     | INVITE/200/ACK ─► |                                |
 *     |                   |  <── undeploy('versioned')     |
 *     |                   | <──────────────────── INVITE   |   no app any more: 404
 *     |                   | ─────────────────────── 404 ─► |
 *     | BYE ────────────► | v1 doBye                       |   the live call still reaches v1
 *     | <──────── 200     |  → v1 destroyed                |
 *
 * Forced, or the drain timeout passing:
 *   alice            Siplet
 *     | <──────── BYE     |   the container ends the confirmed dialog
 *     | 200 ────────────► |   (the app is not shown the 200)
 *
 * Redeploy while draining:
 *   alice (call on v1)    Siplet: v2 active, v1 draining     bob
 *     |                   | <──────────────────── INVITE   |
 *     |                   | ─────── 200 (X-Version: v2) ─► |
 *     | BYE ────────────► | v1 doBye → 200                 |
 *
 * Keyed application sessions (JSR 289 §15.11.2) stay with the version that owns them:
 *   alice (X-Conf: room1, on v1)   Siplet: v2 active, v1 draining     bob, carol
 *     |                            | <──────── INVITE (X-Conf: room1)  bob   ─► 200 from v1
 *     |                            | <──────── INVITE (X-Conf: room2)  carol ─► 200 from v2
 */
import { afterEach, describe, expect, it } from 'vitest';
import { events } from '../../unit/container/deploy/app-fixtures.js';
import { call, deployHarness, eventually, inviteStatus, versionedArchive, type DeployHarness } from './deploy-fixtures.js';

let h: DeployHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  events().length = 0;
});

/** Bounded wait on a promise. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

describe('graceful undeploy', () => {
  it('lets a live call end with BYE/200 on the old version while new INVITEs are refused', async () => {
    h = await deployHarness();
    await h.deployer.deployArchive(await versionedArchive('v1'));
    const alice = await h.siplet.ua('alice');
    const bob = await h.siplet.ua('bob');
    const { invite, ok } = await call(alice, 'v1');

    const result = await h.deployer.undeploy('versioned');
    expect(result.draining.map((d) => `${d.name} ${d.version} ${d.state} ${d.sessions}`)).toEqual(['versioned v1 draining 1']);
    // No new initial request reaches it: our own domain gets 404, another one 403 (no open relay).
    expect((await inviteStatus(bob)).status).toBe(404);
    const elsewhere = bob.createRequest('INVITE', { to: 'sip:carol@example.org' });
    await bob.send(elsewhere);
    expect((await bob.expectResponse(elsewhere, (s) => s >= 200)).status).toBe(403);

    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    expect((await alice.expectResponse(bye)).status).toBe(200);
    await within(result.finished, 5000, 'the end of the drain');
    expect(events()).toContain('v1:bye');
    expect(h.deployer.list()).toEqual([]);
    expect(h.siplet.container.stats().sessions.applicationSessions).toBe(0);
  }, 15_000);

  it('removes the archive from the deploy folder (it stays undeployed after a restart) unless keepSource', async () => {
    h = await deployHarness();
    await h.deployer.deployArchive(await versionedArchive('v1'), { persist: true });
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(h.deployDir)).toEqual(['versioned.sar']);
    await (await h.deployer.undeploy('versioned')).finished;
    expect(await readdir(h.deployDir)).toEqual([]);
  });
});

describe('ending what is left', () => {
  it('a forced undeploy ends confirmed dialogs with BYE at once', async () => {
    h = await deployHarness();
    await h.deployer.deployArchive(await versionedArchive('v1'));
    const alice = await h.siplet.ua('alice');
    await call(alice, 'v1');

    const result = await h.deployer.undeploy('versioned', { force: true });
    const bye = await alice.expectRequest('BYE', { timeoutMs: 2000 });
    await alice.respond(bye, 200);
    await within(result.finished, 5000, 'the forced undeploy');
    // The container's BYE and its 200 are not the app's business.
    expect(events().filter((e) => e.includes('response'))).toEqual([]);
    expect(h.deployer.list()).toEqual([]);
  }, 15_000);

  it('the drain timeout ends the calls still up with BYE', async () => {
    h = await deployHarness({ drainTimeoutMs: 300 });
    await h.deployer.deployArchive(await versionedArchive('v1'));
    const alice = await h.siplet.ua('alice');
    await call(alice, 'v1');
    const started = Date.now();
    const result = await h.deployer.undeploy('versioned');
    const bye = await alice.expectRequest('BYE', { timeoutMs: 3000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await alice.respond(bye, 200);
    await within(result.finished, 5000, 'the end of the drain');
    expect(h.deployer.list()).toEqual([]);
  }, 15_000);

  it('a pending INVITE the app has not answered gets 503', async () => {
    h = await deployHarness();
    await h.deployer.deployArchive(await versionedArchive('v1', { ring: true }));
    const alice = await h.siplet.ua('alice');
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@127.0.0.1' });
    await alice.send(invite);
    await alice.expectResponse(invite, 180);
    const result = await h.deployer.undeploy('versioned', { force: true });
    const refused = await alice.expectResponse(invite, (s) => s >= 200, 2000);
    expect(refused.status).toBe(503);
    await alice.ack(invite, refused);
    await within(result.finished, 5000, 'the forced undeploy');
  }, 15_000);

  it('forcing an undeploy already draining ends it now', async () => {
    h = await deployHarness();
    await h.deployer.deployArchive(await versionedArchive('v1'));
    const alice = await h.siplet.ua('alice');
    await call(alice, 'v1');
    const graceful = await h.deployer.undeploy('versioned');
    expect(h.deployer.list().map((d) => d.state)).toEqual(['draining']);
    const forced = await h.deployer.undeploy('versioned', { force: true });
    const bye = await alice.expectRequest('BYE', { timeoutMs: 2000 });
    await alice.respond(bye, 200);
    await within(Promise.all([graceful.finished, forced.finished]), 5000, 'both undeploys');
    expect(h.deployer.list()).toEqual([]);
  }, 15_000);
});

describe('redeploy while the old version drains', () => {
  it('sends new calls to the new version only; live calls stay on the old one', async () => {
    h = await deployHarness();
    await h.deployer.deployArchive(await versionedArchive('v1'));
    const alice = await h.siplet.ua('alice');
    const bob = await h.siplet.ua('bob');
    const first = await call(alice, 'v1');

    const v2 = await h.deployer.deployArchive(await versionedArchive('v2'));
    expect(v2).toMatchObject({ name: 'versioned', version: 'v2', state: 'active' });
    expect(h.deployer.list().map((d) => `${d.version} ${d.state}`)).toEqual(['v2 active', 'v1 draining']);
    const second = await call(bob, 'v2');
    expect(await inviteStatus(bob)).toEqual({ status: 200, version: 'v2' });

    const bye = alice.createInDialog(first.invite, first.ok, 'BYE');
    await alice.send(bye);
    expect((await alice.expectResponse(bye)).status).toBe(200);
    expect(events()).toContain('v1:bye');
    await eventually(() => expect(h!.deployer.list().map((d) => `${d.version} ${d.state}`)).toEqual(['v2 active']));

    const bye2 = bob.createInDialog(second.invite, second.ok, 'BYE');
    await bob.send(bye2);
    expect((await bob.expectResponse(bye2)).status).toBe(200);
    expect(events()).toContain('v2:bye');
  }, 15_000);

  it('sends an initial request joining a keyed application session of the old version to that version', async () => {
    h = await deployHarness();
    await h.deployer.deployArchive(await versionedArchive('v1', { keyed: true }));
    const [alice, bob, carol] = [await h.siplet.ua('alice'), await h.siplet.ua('bob'), await h.siplet.ua('carol')];
    const join = async (ua: typeof alice, room: string) => {
      const invite = ua.createRequest('INVITE', { to: 'sip:conf@127.0.0.1', headers: { 'X-Conf': room } });
      await ua.send(invite);
      const ok = await ua.expectResponse(invite, 200);
      await ua.ack(invite, ok);
      return { invite, ok, version: ok.get('x-version') };
    };
    const first = await join(alice, 'room1');
    expect(first.version).toBe('v1');
    await h.deployer.deployArchive(await versionedArchive('v2', { keyed: true }));
    const second = await join(bob, 'room1');
    const third = await join(carol, 'room2');
    expect([second.version, third.version]).toEqual(['v1', 'v2']);
    expect(h.deployer.list().map((d) => `${d.version} ${d.state} ${d.sessions}`)).toEqual(['v2 active 1', 'v1 draining 1']);
    for (const [ua, call] of [[alice, first], [bob, second], [carol, third]] as const) {
      const bye = ua.createInDialog(call.invite, call.ok, 'BYE');
      await ua.send(bye);
      expect((await ua.expectResponse(bye)).status).toBe(200);
    }
    await eventually(() => expect(h!.deployer.list().map((d) => `${d.version} ${d.state}`)).toEqual(['v2 active']));
  }, 15_000);

  it('an identical archive leaves the running version as it is', async () => {
    h = await deployHarness();
    const archive = await versionedArchive('v1');
    const first = await h.deployer.deployArchive(archive);
    const again = await h.deployer.deployArchive(archive);
    expect(again.deployedAt).toBe(first.deployedAt);
    expect(h.deployer.list()).toHaveLength(1);
  });
});
