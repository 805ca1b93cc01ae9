/**
 * Proxy authentication (RFC 3261 §22.3): a record-routing proxy app whose constraint asks for
 * proxy authentication challenges with 407 and reads Proxy-Authorization, which it leaves in the
 * request it forwards.
 *
 *   alice (scripted)              Siplet: app "outbound" (proxyAuthentication)        bob
 *      | INVITE ----------------> | covered, no credentials                          |
 *      | <-- 407 Proxy-Authenticate ×2 (SHA-256, MD5)                                |
 *      | ACK -------------------> | (absorbed by the transaction)                    |
 *      | INVITE + Proxy-Authorization --> | verified → doInvite → proxyTo(bob) -----> |
 *      | <----------------------------------------------------------- 200 --------- |
 *      | ACK (Route) -----------> | ---------------------------------------------> |
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SipApplication, SipServlet, type SipServletRequest } from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { authorization, challengeParams, memoryCredentials } from '../../unit/container/auth/helpers.js';

const REALM = 'proxy.example';
const principals: (string | undefined)[] = [];

@SipApplication({ name: 'outbound', realm: REALM, securityConstraints: [{ methods: ['INVITE'], proxyAuthentication: true, roles: ['caller'] }] })
@SipServlet({ name: 'main' })
class Outbound extends SipServlet {
  override doInvite(req: SipServletRequest): void {
    if (!req.isInitial()) return;
    principals.push(req.getUserPrincipal());
    const proxy = req.getProxy();
    proxy.setRecordRoute(true);
    proxy.proxyTo([req.getRequestURI()]);
  }
}

let siplet: TestSiplet;
let alice: ScriptedUa;
let bob: ScriptedUa;

beforeEach(async () => {
  principals.length = 0;
  siplet = await createTestSiplet({
    apps: [{ exports: { Outbound } }],
    dar: 'INVITE: ("outbound", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")',
    credentials: memoryCredentials([
      { username: 'alice', realm: REALM, password: 'wonderland', roles: ['caller'] },
      { username: 'dave', realm: REALM, password: 'd4ve' },
    ]),
  });
  alice = await siplet.ua('alice');
  bob = await siplet.ua('bob');
});

afterEach(async () => {
  await siplet.close();
});

describe('proxy authentication (407 flow)', () => {
  it('challenges with 407, then forwards the authenticated INVITE with its Proxy-Authorization', async () => {
    const first = alice.createRequest('INVITE', { to: bob.uri, body: 'v=0\r\n' });
    await alice.send(first);
    const challenge407 = await alice.expectResponse(first);
    expect(challenge407.status).toBe(407);
    expect(challenge407.getAll('www-authenticate')).toHaveLength(0);
    const offered = challenge407.getAll('proxy-authenticate');
    expect(offered.map((c) => challengeParams(c)['algorithm'])).toEqual(['MD5', 'SHA-256']);
    await alice.ack(first, challenge407);
    expect(bob.received).toHaveLength(0);

    const credentials = authorization({ challenge: offered[0]!, username: 'alice', password: 'wonderland', method: 'INVITE', uri: first.uriText });
    const invite = alice.createRequest('INVITE', { to: bob.uri, body: 'v=0\r\n', headers: { 'Proxy-Authorization': credentials } });
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    expect(atBob.get('proxy-authorization')).toBe(credentials);
    expect(principals).toEqual(['alice']);
    await bob.respond(atBob, 200, { toTag: 'b1', body: 'v=0\r\n' });
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);
    await bob.expectRequest('ACK');
  });

  it('refuses with 403 a user authenticated but not in the role', async () => {
    const dave = await siplet.ua('dave');
    const first = dave.createRequest('INVITE', { to: bob.uri, body: 'v=0\r\n' });
    await dave.send(first);
    const res = await dave.expectResponse(first);
    await dave.ack(first, res);
    const credentials = authorization({ challenge: res.getAll('proxy-authenticate')[1]!, username: 'dave', password: 'd4ve', method: 'INVITE', uri: first.uriText });
    const invite = dave.createRequest('INVITE', { to: bob.uri, body: 'v=0\r\n', headers: { 'Proxy-Authorization': credentials } });
    await dave.send(invite);
    expect((await dave.expectResponse(invite)).status).toBe(403);
    expect(bob.received).toHaveLength(0);
  });
});
