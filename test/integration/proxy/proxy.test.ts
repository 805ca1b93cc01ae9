import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { events, Forker, PlainProxy } from './proxy-apps.js';

const DAR = [
  'INVITE: ("forker", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")',
  'OPTIONS: ("forker", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")',
].join('\n');

let siplet: TestSiplet;
let alice: ScriptedUa;
let bob: ScriptedUa;
let carol: ScriptedUa;

beforeEach(async () => {
  events.length = 0;
  siplet = await createTestSiplet({ apps: [{ exports: { Forker } }], dar: DAR });
  alice = await siplet.ua('alice');
  bob = await siplet.ua('bob');
  carol = await siplet.ua('carol');
});

afterEach(async () => {
  await siplet.close();
});

function invite(targets: ScriptedUa[], headers: Record<string, string> = {}) {
  return alice.createRequest('INVITE', {
    to: 'sip:group@127.0.0.1',
    body: 'v=0\r\n',
    headers: { 'X-Targets': targets.map((t) => t.uri.toString()).join(', '), ...headers },
  });
}

describe('proxy: parallel forking', () => {
  /*
   *  alice              Siplet (forker)              bob            carol
   *    | INVITE ------------> |                          |                |
   *    |                      | INVITE ---------------> |                |
   *    |                      | INVITE ------------------------------->  |
   *    |                      | <------------------------------- 486     |
   *    |                      | ACK -------------------------------->    |  (doBranchResponse 486)
   *    |                      | <--------------- 200    |                |
   *    | <--------------- 200 |                          |                |
   */
  it('forwards the 200, gives the 486 to doBranchResponse, and never forwards the 486', async () => {
    const req = invite([bob, carol]);
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    const atCarol = await carol.expectRequest('INVITE');
    expect(atBob.maxForwards).toBe(69);
    expect(atBob.recordRoute[0]?.uri.toString()).toContain('lr');
    expect(atBob.via).toHaveLength(2);
    await carol.respond(atCarol, 486);
    await carol.expectRequest('ACK');
    await bob.respond(atBob, 200, { toTag: 'b1' });
    const ok = await alice.expectResponse(req, 200);
    expect(ok.to.tag).toBe('b1');
    expect(ok.via).toHaveLength(1);
    expect(alice.received.some((m) => !m.isRequest && m.status === 486)).toBe(false);
    expect(events).toContain('branch:486');
    expect(events).toContain('success:200:INVITE');
  });

  /*
   *  alice              Siplet                    bob                    carol
   *    | INVITE ----------> | INVITE ---------------> | INVITE ------------> |
   *    |                    | <-------------------------------------- 603 |
   *    |                    | CANCEL --------------> |                      |
   *    |                    | <------- 200 (CANCEL), 487 (INVITE) -------- |
   *    | <------------- 603 |                        |                      |
   */
  it('cancels the other branches on a 6xx and forwards the 6xx', async () => {
    const req = invite([bob, carol]);
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    const atCarol = await carol.expectRequest('INVITE');
    await bob.respond(atBob, 180, { toTag: 'b1' });
    await alice.expectResponse(req, 180);
    await carol.respond(atCarol, 603);
    const cancel = await bob.expectRequest('CANCEL');
    await bob.respond(cancel, 200);
    await bob.respond(atBob, 487, { toTag: 'b1' });
    const final = await alice.expectResponse(req);
    expect(final.status).toBe(603);
  });

  /*
   *  alice              Siplet                    bob            carol
   *    | INVITE ----------> | INVITE ----------------> | ----------> |
   *    |                    | <------ 180 ------------ |             |
   *    | CANCEL ----------> |                          |             |
   *    | <---- 200 (CANCEL) | CANCEL ----------------> |             |
   *    |                    | <---- 200, 487 --------- |             |
   *    | <------------- 487 |   (carol had no 1xx: her branch ends at once, CANCEL follows a late 1xx)
   */
  it('cancels every branch when the caller cancels, and answers 487', async () => {
    const req = invite([bob, carol]);
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    await carol.expectRequest('INVITE');
    await bob.respond(atBob, 180, { toTag: 'b1' });
    await alice.expectResponse(req, 180);
    const cancel = await alice.cancel(req);
    expect((await alice.expectResponse(cancel)).status).toBe(200);
    const atBobCancel = await bob.expectRequest('CANCEL');
    await bob.respond(atBobCancel, 200);
    await bob.respond(atBob, 487, { toTag: 'b1' });
    expect((await alice.expectResponse(req)).status).toBe(487);
  });

  /*
   *  alice              Siplet                  bob            carol
   *    | INVITE ----------> | INVITE ------------> |               |
   *    |                    | <---- 302 Contact: carol              |
   *    |                    | INVITE ----------------------------> |   (recursion)
   *    |                    | <----------------------------- 200   |
   *    | <------------- 200 |                                       |
   */
  it('recurses on a 3xx to its Contacts', async () => {
    const req = invite([bob]);
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 302, { headers: { Contact: `<${carol.uri.toString()}>` } });
    const atCarol = await carol.expectRequest('INVITE');
    await carol.respond(atCarol, 200, { toTag: 'c1' });
    const ok = await alice.expectResponse(req, 200);
    expect(ok.to.tag).toBe('c1');
  });

  it('aggregates the challenges of 401 and 407 branches (RFC 3261 §16.7 step 7)', async () => {
    const req = invite([bob, carol]);
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    const atCarol = await carol.expectRequest('INVITE');
    await bob.respond(atBob, 407, { headers: { 'Proxy-Authenticate': 'Digest realm="b.example", nonce="1"' } });
    await carol.respond(atCarol, 401, { headers: { 'WWW-Authenticate': 'Digest realm="c.example", nonce="2"' } });
    const final = await alice.expectResponse(req);
    expect([401, 407]).toContain(final.status);
    expect(final.getAll('proxy-authenticate').join()).toContain('b.example');
    expect(final.getAll('www-authenticate').join()).toContain('c.example');
  });
});

describe('proxy: sequential forking with branch timeouts', () => {
  /*
   *  alice              Siplet                       bob                 carol
   *    | INVITE ----------> | INVITE ----------------> |                    |
   *    |                    | <------------------ 180  |                    |
   *    |                    |   ... 1 s branch timeout |                    |
   *    |                    | CANCEL ----------------> |                    |
   *    |                    | INVITE ------------------------------------> |
   *    |                    | <------------------------------------- 200  |
   *    | <------------- 200 |                          |                    |
   */
  it('moves to the next target when a branch times out', async () => {
    const req = invite([bob, carol], { 'X-Mode': 'sequential', 'X-Branch-Timeout': '1' });
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 180, { toTag: 'b1' });
    expect(carol.unread()).toHaveLength(0);
    const cancel = await bob.expectRequest('CANCEL', { timeoutMs: 2500 });
    await bob.respond(cancel, 200);
    await bob.respond(atBob, 487, { toTag: 'b1' });
    const atCarol = await carol.expectRequest('INVITE', { timeoutMs: 2500 });
    await carol.respond(atCarol, 200, { toTag: 'c1' });
    expect((await alice.expectResponse(req, 200)).to.tag).toBe('c1');
  });

  it('tries the next target after a failure, and forwards the best final response when all fail', async () => {
    const req = invite([bob, carol], { 'X-Mode': 'sequential' });
    await alice.send(req);
    await bob.respond(await bob.expectRequest('INVITE'), 480);
    const atCarol = await carol.expectRequest('INVITE');
    await carol.respond(atCarol, 503);
    // RFC 3261 §16.7 step 6: the lowest class wins (480), and a 503 would have become 500.
    expect((await alice.expectResponse(req)).status).toBe(480);
  });
});

describe('proxy: record-routed dialogs (RFC 3261 §16.12 loose routing)', () => {
  /*
   *  alice                 Siplet (Record-Route)             bob
   *    | INVITE ---------------> | INVITE -------------------> |
   *    | <-------------------------------------------- 200    |
   *    | ACK (Route: Siplet) --> | ACK ----------------------> |   doAck (isInitial false)
   *    | re-INVITE ------------> | re-INVITE ----------------> |
   *    | <---------------------- 200 <---------------------- |
   *    | <---------------------- BYE <---------------------- |   doBye
   *    | 200 ------------------> | 200 ----------------------> |
   */
  it('passes ACK, re-INVITE and BYE from either side through the proxy', async () => {
    const req = invite([bob]);
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    const bobOk = await bob.respond(atBob, 200, { toTag: 'b1' });
    const ok = await alice.expectResponse(req, 200);
    expect(ok.recordRoute).toHaveLength(1);

    await alice.ack(req, ok);
    const ack = await bob.expectRequest('ACK');
    expect(ack.route).toHaveLength(0);
    expect(ack.maxForwards).toBe(69);

    const reinvite = alice.createInDialog(req, ok, 'INVITE', { body: 'v=0\r\n' });
    expect(reinvite.route[0]?.uri.toString()).toBe(ok.recordRoute[0]?.uri.toString());
    await alice.send(reinvite);
    const reAtBob = await bob.expectRequest('INVITE', { callId: req.callId });
    expect(reAtBob.to.tag).toBe('b1');
    await bob.respond(reAtBob, 200, { toTag: 'b1' });
    const reOk = await alice.expectResponse(reinvite, 200);
    await alice.ack(reinvite, reOk);
    await bob.expectRequest('ACK');

    const bye = bob.createInDialogAsUas(atBob, 'b1', 'BYE');
    await bob.send(bye);
    const byeAtAlice = await alice.expectRequest('BYE');
    await alice.respond(byeAtAlice, 200);
    expect((await bob.expectResponse(bye)).status).toBe(200);
    expect(events).toContain('ack:false');
    expect(events).toContain('bye:false');
    void bobOk;
    await new Promise((r) => setTimeout(r, 20));
    expect(siplet.container.stats().sessions).toMatchObject({ applicationSessions: 0, sipSessions: 0 });
  });

  it('answers 483 to an initial request that arrives with Max-Forwards 0 and would be proxied', async () => {
    const req = invite([bob], { 'Max-Forwards': '0' });
    await alice.send(req);
    expect((await alice.expectResponse(req)).status).toBe(483);
    expect(bob.unread()).toHaveLength(0);
  });
});

describe('proxy: JSR 359 decorators', () => {
  it('proxies from a plain class and reaches its @SuccessResponse handler', async () => {
    await siplet.close();
    siplet = await createTestSiplet({ apps: [{ exports: { PlainProxy } }], dar: 'INVITE: ("plain-proxy", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")' });
    alice = await siplet.ua('alice');
    bob = await siplet.ua('bob');
    const req = alice.createRequest('INVITE', { to: bob.uri, body: 'v=0\r\n' });
    await alice.send(req);
    await bob.respond(await bob.expectRequest('INVITE'), 200, { toTag: 'b1' });
    await alice.expectResponse(req, 200);
    expect(events).toContain('pojo-success:200');
  });
});

describe('proxy: recursion while other branches ring', () => {
  /*
   *  alice            Siplet (parallel)           bob                carol            dave
   *    | INVITE -------> | INVITE ---------------> |                  |                 |
   *    |                 | INVITE ---------------------------------> |                 |
   *    |                 | <------------------------------------ 180 |  (carol rings)  |
   *    |                 | <-- 302 Contact: dave   |                  |                 |
   *    |                 | INVITE (at once, carol still ringing) -------------------> |
   */
  it('starts the branches of a 3xx at once in parallel mode', async () => {
    const dave = await siplet.ua('dave');
    const req = invite([bob, carol]);
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    const atCarol = await carol.expectRequest('INVITE');
    await carol.respond(atCarol, 180, { toTag: 'c1' });
    await bob.respond(atBob, 302, { headers: { Contact: `<${dave.uri.toString()}>` } });
    const atDave = await dave.expectRequest('INVITE', { timeoutMs: 1000 });
    await dave.respond(atDave, 200, { toTag: 'd1' });
    expect((await alice.expectResponse(req, 200)).to.tag).toBe('d1');
    const cancel = await carol.expectRequest('CANCEL');
    await carol.respond(cancel, 200);
    await carol.respond(atCarol, 487, { toTag: 'c1' });
  });
});
