/**
 * Call screening's block list over HTTP: the routes and the servlet share the list kept in the
 * data store, so a caller blocked over HTTP is refused on its next INVITE, without a restart.
 *
 *   test (HTTP)                            Siplet: call-screening            alice        bob
 *     | POST /blocked { alice@… } -------> | blocked:alice@… in APP_DATA      |            |
 *     |                                    | <---------------- INVITE (bob) -- |            |
 *     |                                    | 403 ----------------------------> |            |
 *     | DELETE /blocked/alice@… ----------> | removed                         |            |
 *     |                                    | <---------------- INVITE (bob) -- |            |
 *     |                                    | INVITE (Record-Route) ----------------------> |
 *
 *   config.json seeds the list; its later edits apply as edits; the list survives a restart (SQLite).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import * as callScreening from '../../../samples/call-screening/index.js';
import { normalizeEntry } from '../../../samples/call-screening/index.js';
import { openDataStore, type DataStore } from '../../../src/store/index.js';
import { silentLogger } from '../../../src/util/index.js';

const DAR = 'INVITE: ("call-screening", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")';

let siplet: TestSiplet | undefined;
let store: DataStore | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await siplet?.close();
  await store?.close();
  siplet = undefined;
  store = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(options: { blocked?: string[]; store?: DataStore } = {}): Promise<{ alice: ScriptedUa; bob: ScriptedUa; base: string }> {
  siplet = await createTestSiplet({ apps: [{ exports: callScreening, config: { blocked: options.blocked ?? ['robocall', 'Spammer@EXAMPLE.com'] } }], dar: DAR, http: true, reliable: false, store: options.store });
  return { alice: await siplet.ua('alice'), bob: await siplet.ua('bob'), base: `${siplet.httpUrl}/call-screening` };
}

async function blocked(base: string): Promise<string[]> {
  const res = await fetch(`${base}/blocked`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { blocked: string[] }).blocked;
}

function block(base: string, caller: unknown): Promise<Response> {
  return fetch(`${base}/blocked`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ caller }) });
}

/** Alice calls bob: the final status alice gets (bob answers 200 when the call reaches him). */
async function call(alice: ScriptedUa, bob: ScriptedUa): Promise<number> {
  const invite = alice.createRequest('INVITE', { to: bob.uri, body: 'v=0\r\n' });
  await alice.send(invite);
  const first = await alice.expectResponse(invite, (s) => s >= 200 || s === 100);
  if (first.status >= 200) {
    await alice.ack(invite, first);
    return first.status;
  }
  const atBob = await bob.expectRequest('INVITE');
  await bob.respond(atBob, 200, { toTag: 'b', body: 'v=0\r\n' });
  const ok = await alice.expectResponse(invite, 200);
  await alice.ack(invite, ok);
  await bob.expectRequest('ACK');
  const bye = alice.createInDialog(invite, ok, 'BYE');
  await alice.send(bye);
  await bob.respond(await bob.expectRequest('BYE'), 200);
  await alice.expectResponse(bye, 200);
  return 200;
}

describe('call screening\'s block list over HTTP', () => {
  it('lists the seed from config.json, blocks a caller for its next INVITE (403), and unblocks it (proxied again)', async () => {
    const { alice, bob, base } = await start();
    expect(await blocked(base)).toEqual(['Spammer@example.com', 'robocall']);
    expect(await call(alice, bob)).toBe(200);

    const added = await block(base, `alice@${alice.address}`);
    expect(added.status).toBe(201);
    expect(await added.json()).toEqual({ caller: `alice@${alice.address}` });
    expect(await call(alice, bob)).toBe(403);
    expect((await block(base, `sip:alice@${alice.address}`)).status).toBe(200);

    const removed = await fetch(`${base}/blocked/${encodeURIComponent(`alice@${alice.address}`)}`, { method: 'DELETE' });
    expect(removed.status).toBe(204);
    expect(await call(alice, bob)).toBe(200);
    expect((await fetch(`${base}/blocked/nobody`, { method: 'DELETE' })).status).toBe(404);
  });

  it('blocks a bare user at any host', async () => {
    const { alice, bob, base } = await start({ blocked: [] });
    expect((await block(base, 'alice')).status).toBe(201);
    expect(await blocked(base)).toEqual(['alice']);
    expect(await call(alice, bob)).toBe(403);
  });

  it('refuses what is not a caller with 400', async () => {
    const { base } = await start({ blocked: [] });
    for (const caller of ['', 'a b', 'alice@', '@example.com', 'alice@exa mple.com', 42, undefined]) {
      const res = await block(base, caller);
      expect(res.status, String(caller)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/caller|user@host/);
    }
    const notJson = await fetch(`${base}/blocked`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(notJson.status).toBe(400);
    expect(await blocked(base)).toEqual([]);
  });

  it('applies config.json edits as edits: what the API added stays', async () => {
    const { base } = await start({ blocked: ['robocall', 'spammer@example.com'] });
    await block(base, 'carol@example.com');
    const app = siplet?.container.applications().find((a) => a.name === 'call-screening');
    app?.loaded.config.replace({ blocked: ['robocall', 'telemarketer'] });
    await expect.poll(() => blocked(base)).toEqual(['carol@example.com', 'robocall', 'telemarketer']);
  });

  it('keeps the list in the data store across a restart, without seeding config.json again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siplet-screening-'));
    dirs.push(dir);
    store = openDataStore(dir, silentLogger());
    let started = await start({ store, blocked: ['robocall'] });
    await block(started.base, 'mallory@example.com');
    expect((await fetch(`${started.base}/blocked/robocall`, { method: 'DELETE' })).status).toBe(204);
    await siplet?.close();
    await store.close();

    store = openDataStore(dir, silentLogger());
    started = await start({ store, blocked: ['robocall'] });
    expect(await blocked(started.base)).toEqual(['mallory@example.com']);
  });

  it('normalises entries: the host lower-cased, a sip: scheme dropped, the user kept as written', () => {
    expect(normalizeEntry('sip:Alice@Example.COM')).toBe('Alice@example.com');
    expect(normalizeEntry(' robocall ')).toBe('robocall');
    expect(normalizeEntry('bob@[2001:db8::1]')).toBe('bob@[2001:db8::1]');
    expect(() => normalizeEntry('bob@ex ample.com')).toThrow(/not a caller/);
  });
});
