/**
 * The call-screening sample, with the registrar sample beside it (realm example.com).
 *
 *   alice (allowed)          Siplet: call-screening             bob
 *     | INVITE -----------------> | INVITE (Record-Route) ------> |
 *     | <------------------------------------------ 180, 200 --- |
 *     | ACK, BYE (Route) -------> | ACK, BYE ------------------> |
 *
 *   spammer (blocked)
 *     | INVITE -----------------> | 403 Forbidden; the ACK is absorbed, bob sees nothing
 *
 *   registration, then a call to the address of record
 *                                 Siplet: registrar, call-screening      bob, desk (bob's 2nd UA)
 *     |                           | <------------ REGISTER sip:bob@example.com (Contact: bob, desk)
 *     |                           | 200 (both bindings) ---------------> |
 *     | INVITE sip:bob@example.com ─► | INVITE to each contact (parallel) ─► bob, desk
 *     | <------------------------------------------------ 200 from bob   |
 *     |                           | CANCEL ---------------------------> desk (487)
 *     | ACK, BYE (Route) ─► | ─► bob
 *
 *   sip:carol@example.com (a user, not registered) ─► 480;  sip:nobody@example.com ─► 404
 *   a binding with Path ─► the INVITE goes to the Path's first hop, with the Path as Route
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SipUri } from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import type { SipRequest } from '../../../src/sip/message/index.js';
import { CallScreening, http, isBlocked } from '../../../samples/call-screening/index.js';
import { Registrar } from '../../../samples/registrar/index.js';

const DAR = [
  'INVITE: ("call-screening", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")',
  'REGISTER: ("registrar", "DAR:To", "TERMINATING", "", "NO_ROUTE", "0")',
].join('\n');

let siplet: TestSiplet;
let alice: ScriptedUa;
let spammer: ScriptedUa;
let bob: ScriptedUa;

beforeEach(async () => {
  siplet = await createTestSiplet({
    // The registrar runs open here (its digest authentication: registrar.test.ts).
    apps: [{ exports: { CallScreening, http }, config: { blocked: ['spammer@127.0.0.4'] } }, { exports: { Registrar }, descriptor: { securityConstraints: [] } }],
    dar: DAR,
    reliable: false,
  });
  await siplet.store.users.addRealm('example.com');
  alice = await siplet.ua('alice');
  bob = await siplet.ua('bob');
  spammer = await siplet.ua('spammer');
});

afterEach(async () => {
  await siplet.close();
});

describe('call screening', () => {
  it('proxies an allowed caller with record-routing, so ACK and BYE pass through Siplet', async () => {
    const invite = alice.createRequest('INVITE', { to: bob.uri, body: 'v=0\r\n' });
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    expect(atBob.recordRoute).toHaveLength(1);
    await bob.respond(atBob, 180, { toTag: 'b1' });
    await bob.respond(atBob, 200, { toTag: 'b1', body: 'v=0\r\n' });
    await alice.expectResponse(invite, 180);
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);
    const ack = await bob.expectRequest('ACK');
    expect(ack.topVia?.host).toBe('127.0.0.1');
    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    const byeAtBob = await bob.expectRequest('BYE');
    expect(byeAtBob.topVia?.host).toBe('127.0.0.1');
    await bob.respond(byeAtBob, 200);
    expect((await alice.expectResponse(bye)).status).toBe(200);
  });

  it('refuses a blocked caller with 403, absorbs its ACK, and never reaches the callee', async () => {
    const invite = spammer.createRequest('INVITE', { to: bob.uri, body: 'v=0\r\n' });
    await spammer.send(invite);
    const res = await spammer.expectResponse(invite);
    expect(res.status).toBe(403);
    await spammer.ack(invite, res);
    // Over UDP an unacknowledged 403 would be retransmitted after T1 (500 ms): none comes.
    await new Promise((r) => setTimeout(r, 700));
    expect(spammer.unread().filter((m) => !m.isRequest && m.status === 403)).toHaveLength(0);
    expect(bob.received).toHaveLength(0);
  });

  it('takes a new block list without a restart', async () => {
    const app = siplet.container.applications().find((a) => a.name === 'call-screening');
    app?.loaded.config.replace({ blocked: ['alice'] });
    const invite = alice.createRequest('INVITE', { to: bob.uri, body: 'v=0\r\n' });
    await alice.send(invite);
    expect((await alice.expectResponse(invite)).status).toBe(403);
  });

  it('matches callers on user@host or on the user alone', () => {
    const caller = new SipUri({ user: 'spammer', host: 'Example.COM' });
    expect(isBlocked(caller, ['spammer@example.com'])).toBe(true);
    expect(isBlocked(caller, ['spammer'])).toBe(true);
    expect(isBlocked(caller, ['spammer@other.example'])).toBe(false);
    expect(isBlocked(caller, ['alice'])).toBe(false);
  });
});

/** Registers `contacts` for `aor` from `ua`; resolves once the registrar said 200. */
async function register(ua: ScriptedUa, aor: string, contacts: string[], headers: Record<string, string | string[]> = {}): Promise<void> {
  const request = ua.createRequest('REGISTER', { to: aor, requestUri: 'sip:example.com', headers: { Contact: contacts, ...headers } });
  await ua.send(request);
  expect((await ua.expectResponse(request)).status).toBe(200);
}

describe('call screening with the location service', () => {
  it('forks a call for a registered address of record to every contact; the first 200 wins, the other branch is cancelled', async () => {
    const desk = await siplet.ua('desk');
    await register(bob, 'sip:bob@example.com', [bob.contact, desk.contact.replace('sip:desk@', 'sip:bob@') + ';q=0.5']);
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@example.com', body: 'v=0\r\n' });
    await alice.send(invite);
    const [atBob, atDesk] = await Promise.all([bob.expectRequest('INVITE'), desk.expectRequest('INVITE')]);
    expect(atBob.uriText).toBe(`sip:bob@${bob.address}:${bob.port}`);
    expect(atDesk.uriText).toBe(`sip:bob@${desk.address}:${desk.port}`);
    expect(atBob.recordRoute).toHaveLength(1);
    await desk.respond(atDesk, 180, { toTag: 'd1' });
    await bob.respond(atBob, 200, { toTag: 'b1', body: 'v=0\r\n' });
    const cancel = await desk.expectRequest('CANCEL');
    await desk.respond(cancel, 200);
    await desk.respond(atDesk, 487, { toTag: 'd1' });
    await desk.expectRequest('ACK');
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);
    await bob.expectRequest('ACK');
    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    await bob.respond(await bob.expectRequest('BYE'), 200);
    expect((await alice.expectResponse(bye)).status).toBe(200);
  });

  it('sends the call through the Path stored with the binding (RFC 3327)', async () => {
    const edge = await siplet.ua('edge');
    const edgeHop = `<sip:${edge.address}:${edge.port};lr>`;
    await register(bob, 'sip:bob@example.com', [bob.contact], { Path: edgeHop, Supported: 'path' });
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@example.com', body: 'v=0\r\n' });
    await alice.send(invite);
    const atEdge: SipRequest = await edge.expectRequest('INVITE');
    expect(atEdge.uriText).toBe(`sip:bob@${bob.address}:${bob.port}`);
    expect(atEdge.route.map((r) => r.uri.toString())).toEqual([`sip:${edge.address}:${edge.port};lr`]);
    await edge.respond(atEdge, 486, { toTag: 'e1' });
    const busy = await alice.expectResponse(invite);
    expect(busy.status).toBe(486);
    await alice.ack(invite, busy);
    expect(bob.unread().filter((m) => m.isRequest && m.method === 'INVITE')).toHaveLength(0);
  });

  it('answers 480 for a known user without bindings and 404 for an unknown one, and reaches nobody', async () => {
    await siplet.store.users.addUser('carol', 'example.com', 'pw');
    const toCarol = alice.createRequest('INVITE', { to: 'sip:carol@example.com', body: 'v=0\r\n' });
    await alice.send(toCarol);
    const unavailable = await alice.expectResponse(toCarol);
    expect(unavailable.status).toBe(480);
    await alice.ack(toCarol, unavailable);
    const toNobody = alice.createRequest('INVITE', { to: 'sip:nobody@example.com', body: 'v=0\r\n' });
    await alice.send(toNobody);
    const notFound = await alice.expectResponse(toNobody);
    expect(notFound.status).toBe(404);
    await alice.ack(toNobody, notFound);
    expect(bob.received).toHaveLength(0);
  });

  it('answers 480 once the only binding is removed, for a user who registered', async () => {
    await siplet.store.users.addUser('bob', 'example.com', 'pw');
    await register(bob, 'sip:bob@example.com', [bob.contact]);
    await register(bob, 'sip:bob@example.com', ['*'], { Expires: '0' });
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@example.com', body: 'v=0\r\n' });
    await alice.send(invite);
    expect((await alice.expectResponse(invite)).status).toBe(480);
  });

  it('still proxies a Request-URI outside its domains to that URI', async () => {
    await register(bob, 'sip:bob@example.com', [bob.contact]);
    const invite = alice.createRequest('INVITE', { to: bob.uri, body: 'v=0\r\n' });
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    expect(atBob.uriText).toBe(bob.uri.toString());
    await bob.respond(atBob, 486, { toTag: 'b2' });
    const busy = await alice.expectResponse(invite);
    expect(busy.status).toBe(486);
    await alice.ack(invite, busy);
  });
});
