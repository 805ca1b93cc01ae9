/**
 * Digest authentication in the container, UAS side (RFC 3261 §22.2, RFC 8760): a registrar-like
 * app behind a security constraint, driven by scripted UAs that compute their credentials with
 * node:crypto (test/unit/container/auth/helpers.ts), not with Siplet's code.
 *
 *   alice (scripted)                       Siplet: app "registrar" (constraint: REGISTER)
 *      | REGISTER sip:example.com --------> | covered, no credentials
 *      | <------ 401 WWW-Authenticate ×2    |   SHA-256 first, then MD5 (one nonce, qop="auth")
 *      | REGISTER + Authorization --------> | verified from HA1 → doRegister
 *      | <---------- 200 (X-Principal) ---- |   getUserPrincipal() = alice
 *
 *   mallory (scripted), wrong passwords
 *      | REGISTER + Authorization (bad) --> | counted failure
 *      | <----------------- 401 ----------- |   (×2)
 *      | REGISTER + Authorization (bad) --> | third failure: banned
 *      | <----------------- 403 ----------- |   and 403 without a challenge until the ban ends
 *
 *   alice, MESSAGE (constraint: roles ["admin"])     carol (admin)
 *      | MESSAGE + Authorization --> 403             | MESSAGE + Authorization --> 200
 *
 *   alice → app "pbx" (constraint: INVITE, BYE: in-dialog BYE challenged too)
 *      | INVITE --> 401, ACK; INVITE + Authorization --> 200, ACK
 *      | BYE ------> 401;     BYE + Authorization ------> 200
 *
 *   dora: the REGISTER flow again, her password in the server's data store (no credentials option)
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SipApplication, SipServlet, type SipServletRequest } from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import type { SipRequest, SipResponse } from '../../../src/sip/message/index.js';
import { authorization, challengeParams, memoryCredentials } from '../../unit/container/auth/helpers.js';

const REALM = 'example.com';

@SipApplication({ name: 'registrar', securityConstraints: [{ methods: ['REGISTER'] }, { methods: ['MESSAGE'], roles: ['admin'] }] })
@SipServlet({ name: 'main' })
class Registrar extends SipServlet {
  override async doRegister(req: SipServletRequest): Promise<void> {
    const ok = req.createResponse(200);
    ok.setHeader('X-Principal', req.getUserPrincipal() ?? '(none)');
    ok.setHeader('X-Caller', String(req.isUserInRole('caller')));
    ok.setHeader('X-Authorization-Kept', String(req.getHeader('Authorization') !== undefined));
    await ok.send();
  }
  override async doMessage(req: SipServletRequest): Promise<void> {
    const ok = req.createResponse(200);
    ok.setHeader('X-Principal', req.getUserPrincipal() ?? '(none)');
    await ok.send();
  }
}

@SipApplication({ name: 'pbx', realm: REALM, securityConstraints: [{ methods: ['INVITE', 'BYE'] }] })
@SipServlet({ name: 'main' })
class Pbx extends SipServlet {
  override async doInvite(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
  }
  override async doBye(req: SipServletRequest): Promise<void> {
    const ok = req.createResponse(200);
    ok.setHeader('X-Principal', req.getUserPrincipal() ?? '(none)');
    await ok.send();
  }
}

const DAR = [
  'REGISTER: ("registrar", "DAR:To", "TERMINATING", "", "NO_ROUTE", "0")',
  'MESSAGE: ("registrar", "DAR:To", "TERMINATING", "", "NO_ROUTE", "0")',
  'INVITE: ("pbx", "DAR:To", "TERMINATING", "", "NO_ROUTE", "0")',
].join('\n');

const users = memoryCredentials([
  { username: 'alice', realm: REALM, password: 'wonderland', roles: ['caller'] },
  { username: 'carol', realm: REALM, password: 'c4r0l', roles: ['admin'] },
]);

let siplet: TestSiplet;
let alice: ScriptedUa;

beforeEach(async () => {
  siplet = await createTestSiplet({
    apps: [{ exports: { Registrar } }, { exports: { Pbx } }],
    dar: DAR,
    credentials: users,
    config: { authMaxFailures: 3, authFailureWindow: 60_000, authBanTime: 300_000 },
  });
  alice = await siplet.ua('alice');
});

afterEach(async () => {
  vi.useRealTimers();
  await siplet.close();
});

function register(ua: ScriptedUa, headers: Record<string, string> = {}, callId?: string, cseq = 1): SipRequest {
  const req = ua.createRequest('REGISTER', { to: `sip:${ua.name}@${REALM}`, requestUri: `sip:${REALM}`, headers });
  if (callId !== undefined) {
    req.set('Call-ID', callId);
    req.set('CSeq', `${cseq} REGISTER`);
  }
  return req;
}

/** Sends `request`, expects 401/407 and returns the challenge for `algorithm`. */
async function challenged(ua: ScriptedUa, request: SipRequest, algorithm: 'SHA-256' | 'MD5' = 'SHA-256', status = 401): Promise<{ res: SipResponse; challenge: string }> {
  await ua.send(request);
  const res = await ua.expectResponse(request);
  expect(res.status).toBe(status);
  const challenge = res.getAll(status === 401 ? 'www-authenticate' : 'proxy-authenticate').find((c) => challengeParams(c)['algorithm'] === algorithm);
  expect(challenge).toBeDefined();
  return { res, challenge: challenge! };
}

describe('digest authentication of a registrar (401 flow)', () => {
  it('challenges with MD5 then SHA-256, and lets the SHA-256 answer through with getUserPrincipal set', async () => {
    const first = register(alice);
    const { res, challenge } = await challenged(alice, first);
    const offered = res.getAll('www-authenticate').map(challengeParams);
    expect(offered.map((c) => c['algorithm'])).toEqual(['MD5', 'SHA-256']);
    expect(offered.every((c) => c['realm'] === REALM && c['qop'] === 'auth' && c['opaque'] !== undefined)).toBe(true);

    const header = authorization({ challenge, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}` });
    const second = register(alice, { Authorization: header }, first.callId, 2);
    await alice.send(second);
    const ok = await alice.expectResponse(second);
    expect(ok.status).toBe(200);
    expect(ok.get('x-principal')).toBe('alice');
    expect(ok.get('x-caller')).toBe('true');
    expect(ok.get('x-authorization-kept')).toBe('true');
  });

  it('accepts MD5 too, and a REGISTER refresh on the same nonce with a higher nonce-count', async () => {
    const first = register(alice);
    const { challenge } = await challenged(alice, first, 'MD5');
    for (const nc of [1, 2]) {
      const header = authorization({ challenge, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}`, nc });
      const again = register(alice, { Authorization: header }, first.callId, nc + 1);
      await alice.send(again);
      expect((await alice.expectResponse(again)).status).toBe(200);
    }
    // The same nonce-count again is a replay: a new challenge, not a 200.
    const replay = register(alice, { Authorization: authorization({ challenge, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}`, nc: 2 }) }, first.callId, 4);
    await alice.send(replay);
    expect((await alice.expectResponse(replay)).status).toBe(401);
  });

  it('answers a correct response with an expired nonce with stale=true, and the fresh nonce works', async () => {
    const first = register(alice);
    const { challenge } = await challenged(alice, first);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 301_000);
    const late = register(alice, { Authorization: authorization({ challenge, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}` }) }, first.callId, 2);
    const stale = await challenged(alice, late);
    expect(challengeParams(stale.challenge)['stale']).toBe('true');
    const retry = register(alice, { Authorization: authorization({ challenge: stale.challenge, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}` }) }, first.callId, 3);
    await alice.send(retry);
    expect((await alice.expectResponse(retry)).status).toBe(200);
  });

  it('challenges wrong passwords again, bans the address after 3 failures (403, no challenge), and leaves other addresses alone', async () => {
    const mallory = await siplet.ua('mallory');
    const first = register(mallory);
    let { challenge } = await challenged(mallory, first);
    for (let i = 1; i <= 2; i++) {
      const bad = register(mallory, { Authorization: authorization({ challenge, username: 'alice', password: `guess${i}`, method: 'REGISTER', uri: `sip:${REALM}` }) }, first.callId, i + 1);
      ({ challenge } = await challenged(mallory, bad));
    }
    const third = register(mallory, { Authorization: authorization({ challenge, username: 'alice', password: 'guess3', method: 'REGISTER', uri: `sip:${REALM}` }) }, first.callId, 4);
    await mallory.send(third);
    const banned = await mallory.expectResponse(third);
    expect(banned.status).toBe(403);
    expect(banned.getAll('www-authenticate')).toHaveLength(0);
    // Even the right password from the banned address is refused.
    const right = register(mallory, { Authorization: authorization({ challenge, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}` }) }, first.callId, 5);
    await mallory.send(right);
    expect((await mallory.expectResponse(right)).status).toBe(403);
    expect(siplet.container.stats().auth).toMatchObject({ failures: 3, bans: 1, refusedBanned: 1 });
    // alice, from her own address, is not affected.
    const mine = register(alice);
    const c = await challenged(alice, mine);
    const ok = register(alice, { Authorization: authorization({ challenge: c.challenge, username: 'alice', password: 'wonderland', method: 'REGISTER', uri: `sip:${REALM}` }) }, mine.callId, 2);
    await alice.send(ok);
    expect((await alice.expectResponse(ok)).status).toBe(200);
  });

  it('forgets failures after a success, so only consecutive failures ban', async () => {
    const first = register(alice);
    let { challenge } = await challenged(alice, first);
    let cseq = 2;
    const attempt = async (password: string): Promise<SipResponse> => {
      const req = register(alice, { Authorization: authorization({ challenge, username: 'alice', password, method: 'REGISTER', uri: `sip:${REALM}` }) }, first.callId, cseq++);
      await alice.send(req);
      const res = await alice.expectResponse(req);
      const next = res.getAll('www-authenticate')[0];
      if (next !== undefined) challenge = next;
      return res;
    };
    expect((await attempt('x')).status).toBe(401);
    expect((await attempt('y')).status).toBe(401);
    expect((await attempt('wonderland')).status).toBe(200);
    ({ challenge } = await challenged(alice, register(alice)));
    expect((await attempt('x')).status).toBe(401);
    expect((await attempt('y')).status).toBe(401);
    expect((await attempt('z')).status).toBe(403);
  });

  it('answers 403 to an authenticated user in none of the roles, 200 to one in a role', async () => {
    const carol = await siplet.ua('carol');
    for (const [ua, password, status] of [
      [alice, 'wonderland', 403],
      [carol, 'c4r0l', 200],
    ] as const) {
      // No realm configured: a MESSAGE is challenged in the realm of its From host.
      const from = `sip:${ua.name}@${REALM}`;
      const first = ua.createRequest('MESSAGE', { to: `sip:service@${REALM}`, from, body: 'hi', contentType: 'text/plain' });
      const { challenge } = await challenged(ua, first);
      const second = ua.createRequest('MESSAGE', {
        to: `sip:service@${REALM}`,
        from,
        body: 'hi',
        contentType: 'text/plain',
        headers: { Authorization: authorization({ challenge, username: ua.name, password, method: 'MESSAGE', uri: `sip:service@${REALM}` }) },
      });
      await ua.send(second);
      const res = await ua.expectResponse(second);
      expect(res.status).toBe(status);
      if (status === 200) expect(res.get('x-principal')).toBe('carol');
    }
  });
});

describe('digest authentication inside a dialog', () => {
  it('challenges the INVITE and, since the constraint lists it, the BYE', async () => {
    const to = `sip:pbx@${REALM}`;
    const first = alice.createRequest('INVITE', { to, body: 'v=0\r\n' });
    const { res, challenge } = await challenged(alice, first);
    await alice.ack(first, res);
    const invite = alice.createRequest('INVITE', {
      to,
      body: 'v=0\r\n',
      headers: { Authorization: authorization({ challenge, username: 'alice', password: 'wonderland', method: 'INVITE', uri: to }) },
    });
    await alice.send(invite);
    const ok = await alice.expectResponse(invite);
    expect(ok.status).toBe(200);
    await alice.ack(invite, ok);

    const bye = alice.createInDialog(invite, ok, 'BYE');
    const byeChallenge = await challenged(alice, bye);
    const byeUri = bye.uriText;
    const authed = alice.createInDialog(invite, ok, 'BYE', {
      headers: { Authorization: authorization({ challenge: byeChallenge.challenge, username: 'alice', password: 'wonderland', method: 'BYE', uri: byeUri }) },
    });
    await alice.send(authed);
    const byeOk = await alice.expectResponse(authed);
    expect(byeOk.status).toBe(200);
    expect(byeOk.get('x-principal')).toBe('alice');
  });
});

describe('the data store as the credential source', () => {
  it('checks the users of the server\'s store when no credentials option is given', async () => {
    const own = await createTestSiplet({ apps: [{ exports: { Registrar } }], dar: DAR });
    try {
      await own.store.users.addRealm(REALM);
      await own.store.users.addUser('dora', REALM, 'expl0rer', ['caller']);
      const dora = await own.ua('dora');
      const first = register(dora);
      const { challenge } = await challenged(dora, first);
      const second = register(dora, { Authorization: authorization({ challenge, username: 'dora', password: 'expl0rer', method: 'REGISTER', uri: `sip:${REALM}` }) }, first.callId, 2);
      await dora.send(second);
      const ok = await dora.expectResponse(second);
      expect(ok.status).toBe(200);
      expect(ok.get('x-principal')).toBe('dora');
    } finally {
      await own.close();
    }
  });
});
