/**
 * The registrar sample (SDK RegistrarServlet, RFC 3261 §10.3) on the test network, realm example.com.
 *
 *   alice's UA                     Siplet: registrar                  data store
 *     | REGISTER sip:example.com ------> |                                  |
 *     |   To: sip:alice@example.com      | AOR ours, contacts valid,        |
 *     |   Contact: <sip:alice@10.0.0.1>  | Call-ID/CSeq in order ---------> | bindings of the AOR
 *     | <------ 200 OK: Contact: every binding;expires=left, Date, (Path)   |
 *     | <------ 423 + Min-Expires | 404 not ours | 400 | 500 out of order   |
 *
 *   restart: Siplet #1 (SQLite in a temp dir) ─ REGISTER ─ close; Siplet #2 on the same dir ─ REGISTER
 *   without Contact (a query) ─► 200 lists the binding.
 *
 *   digest (the sample's security constraint, users from the data store):
 *     | REGISTER ----------------------> | 401: SHA-256 and MD5 challenges, realm example.com
 *     | REGISTER + Authorization ------> | alice's HA1 verified ─► the registrar ─► 200, bound
 *     | REGISTER + wrong password -----> | 401 again, nothing bound
 *
 * The registrar behaviour tests run the sample with its constraint list emptied (siplet.json
 * `securityConstraints: []`), so that each REGISTER reaches the servlet in one round trip.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import type { SipRequest, SipResponse } from '../../../src/sip/message/index.js';
import { openDataStore, type DataStore } from '../../../src/store/index.js';
import { silentLogger } from '../../../src/util/index.js';
import { Registrar } from '../../../samples/registrar/index.js';
import { authorization, challengeParams } from '../../unit/container/auth/helpers.js';

const DAR = 'REGISTER: ("registrar", "DAR:To", "TERMINATING", "", "NO_ROUTE", "0")';
const ALICE = 'sip:alice@example.com';

let siplet: TestSiplet;
let ua: ScriptedUa;

async function start(options: { store?: DataStore; config?: Record<string, unknown>; authenticate?: boolean; authRealm?: string } = {}): Promise<void> {
  const descriptor = options.authenticate ? {} : { securityConstraints: [] };
  siplet = await createTestSiplet({
    apps: [{ exports: { Registrar }, config: options.config ?? {}, descriptor }],
    dar: DAR,
    store: options.store,
    config: options.authRealm === undefined ? {} : { authRealm: options.authRealm },
  });
  if (!(await siplet.store.users.hasRealm('example.com'))) await siplet.store.users.addRealm('example.com');
  ua = await siplet.ua('alice');
}

interface RegisterOptions {
  to?: string;
  requestUri?: string;
  /** Contact values; [] sends none (a query). */
  contacts?: string[];
  expires?: string;
  callId?: string;
  cseq?: number;
  headers?: Record<string, string | string[]>;
}

/** Sends a REGISTER and resolves with its final response. */
async function register(options: RegisterOptions = {}): Promise<{ request: SipRequest; response: SipResponse }> {
  const headers: Record<string, string | string[]> = { Contact: options.contacts ?? ['<sip:alice@10.0.0.1:5060>'], ...options.headers };
  if (options.expires !== undefined) headers['Expires'] = options.expires;
  const request = ua.createRequest('REGISTER', { to: options.to ?? ALICE, requestUri: options.requestUri ?? 'sip:example.com', headers });
  if (options.callId !== undefined) request.set('Call-ID', options.callId);
  if (options.cseq !== undefined) request.set('CSeq', `${options.cseq} REGISTER`);
  await ua.send(request);
  return { request, response: await ua.expectResponse(request) };
}

/** `uri expires` of every Contact of a 200, in order. */
function listed(response: SipResponse): string[] {
  return response.contact.map((c) => `${c.uri.toString()} ${c.params.get('expires')}`);
}

afterEach(async () => {
  await siplet?.close();
});

describe('registrar', () => {
  beforeEach(async () => {
    await start();
  });

  it('adds a binding and answers 200 with it, its remaining expiry and a Date', async () => {
    const { request, response } = await register({ expires: '1800' });
    expect(response.status).toBe(200);
    expect(listed(response)).toEqual(['sip:alice@10.0.0.1:5060 1800']);
    expect(response.get('Date')).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const [b] = await siplet.store.location.lookup(ALICE);
    expect(b).toMatchObject({ aor: ALICE, uri: 'sip:alice@10.0.0.1:5060', callId: request.callId, cseq: 1, q: 1, path: [] });
    expect(b?.source).toEqual({ address: ua.address, port: ua.port, protocol: 'tcp' });
    expect((b?.expires ?? 0) - Date.now()).toBeGreaterThan(1790_000);
  });

  it('takes the expiry from the contact parameter over the Expires header, else the default (3600)', async () => {
    const { response } = await register({ contacts: ['<sip:alice@10.0.0.1>;expires=120', '<sip:alice@10.0.0.2>'], expires: '600' });
    expect(listed(response).sort()).toEqual(['sip:alice@10.0.0.1 120', 'sip:alice@10.0.0.2 600']);
    const { response: defaulted } = await register({ contacts: ['<sip:alice@10.0.0.3>'] });
    expect(listed(defaulted)).toContain('sip:alice@10.0.0.3 3600');
  });

  it('refreshes a binding (same Call-ID, higher CSeq) and adds another from a second Call-ID', async () => {
    const first = await register({ expires: '600' });
    const refresh = await register({ callId: first.request.callId, cseq: 2, expires: '900' });
    expect(listed(refresh.response)).toEqual(['sip:alice@10.0.0.1:5060 900']);
    const other = await register({ contacts: ['<sip:alice@10.0.0.9>'], expires: '300' });
    expect(listed(other.response).sort()).toEqual(['sip:alice@10.0.0.1:5060 900', 'sip:alice@10.0.0.9 300']);
    expect((await siplet.store.location.lookup(ALICE)).find((b) => b.uri === 'sip:alice@10.0.0.1:5060')?.cseq).toBe(2);
  });

  it('matches contacts by URI equality: a refresh with the host in other case is the same binding', async () => {
    const first = await register({ contacts: ['<sip:alice@UA.example.net:5060;transport=tcp>'] });
    const again = await register({ contacts: ['<sip:alice@ua.EXAMPLE.net:5060;transport=TCP>'], callId: first.request.callId, cseq: 5 });
    expect(again.response.contact).toHaveLength(1);
  });

  it('removes a binding with expires=0, and lists what is left', async () => {
    await register({ contacts: ['<sip:alice@10.0.0.1>', '<sip:alice@10.0.0.2>'] });
    const { response } = await register({ contacts: ['<sip:alice@10.0.0.1>;expires=0'] });
    expect(response.status).toBe(200);
    expect(listed(response)).toEqual(['sip:alice@10.0.0.2 3600']);
    const gone = await register({ contacts: ['<sip:alice@10.0.0.2>'], expires: '0' });
    expect(gone.response.status).toBe(200);
    expect(gone.response.contact).toEqual([]);
    expect(await siplet.store.location.lookup(ALICE)).toEqual([]);
  });

  it('lists the bindings for a REGISTER without Contact, changing nothing', async () => {
    await register({ contacts: ['<sip:alice@10.0.0.1>'] });
    const { response } = await register({ contacts: [] });
    expect(response.status).toBe(200);
    expect(listed(response)).toEqual(['sip:alice@10.0.0.1 3600']);
  });

  it('Contact: * with Expires: 0 removes every binding; without Expires: 0, or beside another Contact, 400', async () => {
    await register({ contacts: ['<sip:alice@10.0.0.1>', '<sip:alice@10.0.0.2>'] });
    expect((await register({ contacts: ['*'], expires: '60' })).response.status).toBe(400);
    expect((await register({ contacts: ['*'] })).response.status).toBe(400);
    expect((await register({ contacts: ['*', '<sip:alice@10.0.0.3>'], expires: '0' })).response.status).toBe(400);
    expect(await siplet.store.location.lookup(ALICE)).toHaveLength(2);
    const { response } = await register({ contacts: ['*'], expires: '0' });
    expect(response.status).toBe(200);
    expect(response.contact).toEqual([]);
    expect(await siplet.store.location.lookup(ALICE)).toEqual([]);
  });

  it('answers 423 Interval Too Brief with Min-Expires below the minimum, and stores nothing', async () => {
    const { response } = await register({ contacts: ['<sip:alice@10.0.0.1>', '<sip:alice@10.0.0.2>;expires=30'] });
    expect(response.status).toBe(423);
    expect(response.reason).toBe('Interval Too Brief');
    expect(response.get('Min-Expires')).toBe('60');
    expect(await siplet.store.location.lookup(ALICE)).toEqual([]);
    expect((await register({ expires: '60' })).response.status).toBe(200);
  });

  it('caps the expiry at the maximum (3600 s by default)', async () => {
    const { response } = await register({ expires: '86400' });
    expect(listed(response)).toEqual(['sip:alice@10.0.0.1:5060 3600']);
    const [b] = await siplet.store.location.lookup(ALICE);
    expect((b?.expires ?? 0) - Date.now()).toBeLessThanOrEqual(3600_000);
  });

  it('orders the 200 by q, highest first (no q counts as 1), and refuses a malformed q with 400', async () => {
    const { response } = await register({ contacts: ['<sip:low@10.0.0.1>;q=0.1', '<sip:mid@10.0.0.2>;q=0.5', '<sip:top@10.0.0.3>'] });
    expect(response.contact.map((c) => c.uri.toString())).toEqual(['sip:top@10.0.0.3', 'sip:mid@10.0.0.2', 'sip:low@10.0.0.1']);
    expect(response.contact.map((c) => c.params.get('q'))).toEqual([undefined, '0.5', '0.1']);
    expect((await siplet.store.location.lookup(ALICE)).map((b) => b.q)).toEqual([1, 0.5, 0.1]);
    expect((await register({ contacts: ['<sip:x@10.0.0.4>;q=1.5'] })).response.status).toBe(400);
  });

  it('stores the Path (RFC 3327) and returns it in the 200 only when the UA supports path', async () => {
    const path = ['<sip:edge1.example.net;lr>', '<sip:edge2.example.net;lr>'];
    const withSupport = await register({ headers: { Path: path, Supported: 'path' } });
    expect(withSupport.response.status).toBe(200);
    expect(withSupport.response.getAll('Path')).toEqual(path);
    expect((await siplet.store.location.lookup(ALICE))[0]?.path).toEqual(path);
    const without = await register({ contacts: ['<sip:alice@10.0.0.7>'], headers: { Path: '<sip:edge3.example.net;lr>' } });
    expect(without.response.status).toBe(200);
    expect(without.response.getAll('Path')).toEqual([]);
    expect((await siplet.store.location.lookup(ALICE)).find((b) => b.uri === 'sip:alice@10.0.0.7')?.path).toEqual(['<sip:edge3.example.net;lr>']);
  });

  it('stores +sip.instance and reg-id (RFC 5626); the same pair at a new URI replaces the binding', async () => {
    const instance = '"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"';
    await register({ contacts: [`<sip:alice@10.0.0.1;transport=tcp>;+sip.instance=${instance};reg-id=1`], headers: { Supported: 'path, outbound' } });
    const [b] = await siplet.store.location.lookup(ALICE);
    expect(b).toMatchObject({ instance: '<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>', regId: 1 });
    expect(b?.contact).toContain('+sip.instance=');
    const moved = await register({ contacts: [`<sip:alice@10.0.0.2;transport=tcp>;+sip.instance=${instance};reg-id=1`] });
    expect(moved.response.contact.map((c) => c.uri.toString())).toEqual(['sip:alice@10.0.0.2;transport=tcp']);
    // Another reg-id is another flow: both stay.
    const second = await register({ contacts: [`<sip:alice@10.0.0.3;transport=tcp>;+sip.instance=${instance};reg-id=2`] });
    expect(second.response.contact).toHaveLength(2);
    expect((await register({ contacts: ['<sip:alice@10.0.0.4>;reg-id=x'] })).response.status).toBe(400);
  });

  it('refuses with 500 and changes nothing when the Call-ID is a binding\'s and the CSeq is not higher (§10.3 step 7)', async () => {
    const first = await register({ cseq: 10, expires: '600' });
    const same = await register({ callId: first.request.callId, cseq: 10, expires: '0' });
    expect(same.response.status).toBe(500);
    const lower = await register({ callId: first.request.callId, cseq: 9, expires: '0' });
    expect(lower.response.status).toBe(500);
    const wildcard = await register({ callId: first.request.callId, cseq: 3, contacts: ['*'], expires: '0' });
    expect(wildcard.response.status).toBe(500);
    expect(await siplet.store.location.lookup(ALICE)).toHaveLength(1);
    // Another Call-ID may carry any CSeq: a rebooted UA starts again.
    const rebooted = await register({ cseq: 1, expires: '0' });
    expect(rebooted.response.status).toBe(200);
    expect(await siplet.store.location.lookup(ALICE)).toEqual([]);
  });

  it('takes only sip/sips addresses of record of its domains: 404 for other domains, 400 for other schemes', async () => {
    expect((await register({ to: 'sip:alice@elsewhere.example' })).response.status).toBe(404);
    expect((await register({ requestUri: 'sip:elsewhere.example' })).response.status).toBe(404);
    const tel = await register({ to: 'tel:+15551234567' });
    expect(tel.response.status).toBe(400);
    expect(await siplet.store.location.aors()).toEqual([]);
    // The server's own address is one of its domains; so is sips: in a realm.
    expect((await register({ to: 'sip:alice@127.0.0.1:5060', requestUri: 'sip:127.0.0.1:5060' })).response.status).toBe(200);
    expect((await register({ to: 'sips:alice@example.com' })).response.status).toBe(200);
    expect(await siplet.store.location.aors()).toEqual(['sip:alice@127.0.0.1:5060', 'sips:alice@example.com']);
  });

  it('applies concurrent REGISTERs for one address of record one after the other', async () => {
    const requests = [1, 2, 3, 4].map((n) =>
      ua.createRequest('REGISTER', { to: ALICE, requestUri: 'sip:example.com', headers: { Contact: `<sip:alice@10.0.0.${n}>` } }),
    );
    await Promise.all(requests.map((r) => ua.send(r)));
    const responses = await Promise.all(requests.map((r) => ua.expectResponse(r)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(await siplet.store.location.lookup(ALICE)).toHaveLength(4);
    // Each 200 lists at least its own binding and every one registered before it.
    expect(Math.max(...responses.map((r) => r.contact.length))).toBe(4);
  });

  it('uses the To URI as the address of record, normalised', async () => {
    await register({ headers: { To: '"Alice" <sip:alice@EXAMPLE.com;transport=tcp>' } });
    expect(await siplet.store.location.aors()).toEqual([ALICE]);
  });
});

describe('registrar configuration and restarts', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('reads minExpires and maxExpires from its configuration', async () => {
    await start({ config: { minExpires: 300, maxExpires: 600 } });
    const brief = await register({ expires: '120' });
    expect(brief.response.status).toBe(423);
    expect(brief.response.get('Min-Expires')).toBe('300');
    expect(listed((await register({ expires: '3600' })).response)).toEqual(['sip:alice@10.0.0.1:5060 600']);
  });

  it('keeps bindings across a restart with the SQLite store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siplet-registrar-'));
    dirs.push(dir);
    const first = openDataStore(dir, silentLogger());
    await start({ store: first });
    const { request } = await register({ contacts: ['<sip:alice@10.0.0.1>;q=0.8'], expires: '900', headers: { Path: '<sip:edge.example.net;lr>' } });
    await siplet.close();
    await first.close();

    const second = openDataStore(dir, silentLogger());
    try {
      await start({ store: second });
      const { response } = await register({ contacts: [] });
      expect(response.status).toBe(200);
      expect(response.contact.map((c) => c.uri.toString())).toEqual(['sip:alice@10.0.0.1']);
      expect(Number(response.contact[0]?.params.get('expires'))).toBeGreaterThan(890);
      expect(await second.location.lookup(ALICE)).toEqual([
        expect.objectContaining({ callId: request.callId, cseq: 1, q: 0.8, path: ['<sip:edge.example.net;lr>'] }),
      ]);
      // The Call-ID/CSeq rule holds across the restart too.
      expect((await register({ contacts: ['<sip:alice@10.0.0.1>'], callId: request.callId, cseq: 1, expires: '0' })).response.status).toBe(500);
    } finally {
      await siplet.close();
      await second.close();
    }
  });
});

describe('registrar with digest authentication (the sample as shipped)', () => {
  beforeEach(async () => {
    await start({ authenticate: true });
    await siplet.store.users.addUser('alice', 'example.com', 'wonderland');
  });

  /** The first REGISTER of a Call-ID: expects 401 and returns the challenge for `algorithm`. */
  async function challenge(algorithm: 'SHA-256' | 'MD5', callId?: string): Promise<{ callId: string; challenge: string; offered: Record<string, string>[] }> {
    const { request, response } = await register({ callId, cseq: 1 });
    expect(response.status).toBe(401);
    const offered = response.getAll('www-authenticate').map(challengeParams);
    const value = response.getAll('www-authenticate').find((c) => challengeParams(c)['algorithm'] === algorithm);
    expect(value).toBeDefined();
    return { callId: request.callId, challenge: value!, offered };
  }

  it('challenges a REGISTER (MD5, then SHA-256, realm of the domain) and binds nothing until it is answered', async () => {
    const { offered } = await challenge('SHA-256');
    expect(offered.map((c) => c['algorithm'])).toEqual(['MD5', 'SHA-256']);
    expect(offered.every((c) => c['realm'] === 'example.com' && c['qop'] === 'auth')).toBe(true);
    expect(await siplet.store.location.lookup(ALICE)).toEqual([]);
  });

  it.each(['SHA-256', 'MD5'] as const)('binds the contact once alice answers the %s challenge with her password', async (algorithm) => {
    const { callId, challenge: value } = await challenge(algorithm);
    const header = authorization({ challenge: value, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: 'sip:example.com' });
    const { response } = await register({ callId, cseq: 2, headers: { Authorization: header } });
    expect(response.status).toBe(200);
    expect(listed(response)).toEqual(['sip:alice@10.0.0.1:5060 3600']);
    expect(await siplet.store.location.lookup(ALICE)).toHaveLength(1);
  });

  it('challenges a wrong password again and binds nothing', async () => {
    const { callId, challenge: value } = await challenge('MD5');
    const header = authorization({ challenge: value, username: 'alice', password: 'guess', method: 'REGISTER', uri: 'sip:example.com' });
    const { response } = await register({ callId, cseq: 2, headers: { Authorization: header } });
    expect(response.status).toBe(401);
    expect(await siplet.store.location.lookup(ALICE)).toEqual([]);
    expect(siplet.container.stats().auth).toMatchObject({ failures: 1, authenticated: 0 });
  });
});

describe('registrar with digest authentication and --auth-realm', () => {
  it('names the configured realm in its challenge, and takes the users of that realm', async () => {
    await start({ authenticate: true, authRealm: 'voip.example.net' });
    await siplet.store.users.addRealm('voip.example.net');
    await siplet.store.users.addUser('alice', 'voip.example.net', 'looking-glass');
    const first = await register({ cseq: 1 });
    expect(first.response.status).toBe(401);
    const value = first.response.getAll('www-authenticate')[0]!;
    expect(challengeParams(value)['realm']).toBe('voip.example.net');
    const header = authorization({ challenge: value, username: 'alice', password: 'looking-glass', method: 'REGISTER', uri: 'sip:example.com' });
    const { response } = await register({ callId: first.request.callId, cseq: 2, headers: { Authorization: header } });
    expect(response.status).toBe(200);
    expect(await siplet.store.location.lookup(ALICE)).toHaveLength(1);
  });
});
