/**
 * The SDK's b2bua() helper: basic calls and early media.
 *
 *   alice (caller)            Siplet: b2bua()                      bob (callee)
 *     | INVITE (SDP a) -------> |                                     |
 *     |                         | INVITE (SDP a; new Call-ID, tags) -> |
 *     |                         | <-------------------- 183 (SDP b)   |
 *     | <------- 183 (SDP b) -- |                                     |
 *     |                         | <-------------------- 200 (SDP b)   |
 *     | <------- 200 (SDP b) -- |                                     |
 *     | ACK ------------------> | ACK --------------------------->    |
 *     | BYE ------------------> | BYE --------------------------->    |   (or bob's BYE, relayed to alice)
 *     | <------------- 200 ---- | <-------------------------- 200     |
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { callApp, calls, resetTrace, trace } from './b2bua-apps.js';
import { answer, callerInvite, DAR, noSessionsLeft, SDP_A, SDP_B } from './call-helpers.js';

let siplet: TestSiplet;
let alice: ScriptedUa;
let bob: ScriptedUa;

beforeEach(async () => {
  resetTrace();
  siplet = await createTestSiplet({ apps: [{ exports: { CallApp: callApp() } }], dar: DAR });
  alice = await siplet.ua('alice');
  bob = await siplet.ua('bob');
});

afterEach(async () => {
  await siplet.close();
});

describe('b2bua(): basic calls', () => {
  it('connects caller and callee, relays SDP both ways and the ACK, and ends on the caller\'s BYE', async () => {
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    expect(atBob.body.toString()).toBe(SDP_A);
    expect(atBob.callId).not.toBe(invite.callId);
    expect(atBob.from.tag).not.toBe(invite.from.tag);
    expect(atBob.get('x-target')).toBeUndefined();
    expect(atBob.maxForwards).toBe(69);
    const { ok } = await answer(alice, bob, invite, atBob);
    expect(ok.body.toString()).toBe(SDP_B);
    expect(ok.to.tag).not.toBe('b1');
    expect(trace).toContain('answered');

    const bye = alice.createInDialog(invite, ok, 'BYE', { headers: { Reason: 'Q.850;cause=16' } });
    await alice.send(bye);
    const byeAtBob = await bob.expectRequest('BYE');
    expect(byeAtBob.get('reason')).toBe('Q.850;cause=16');
    expect((await alice.expectResponse(bye)).status).toBe(200);
    await bob.respond(byeAtBob, 200);
    expect(await calls[0]!.ended).toMatchObject({ by: 'caller', cause: 'bye', reason: 'Q.850;cause=16' });
    expect(trace).toContain('ended:caller:bye');
    await noSessionsLeft(siplet);
  });

  it('ends on the callee\'s BYE, relayed to the caller', async () => {
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    await answer(alice, bob, invite, atBob);
    const bye = bob.createInDialogAsUas(atBob, 'b1', 'BYE');
    await bob.send(bye);
    expect((await bob.expectResponse(bye)).status).toBe(200);
    const byeAtAlice = await alice.expectRequest('BYE');
    expect(byeAtAlice.callId).toBe(invite.callId);
    await alice.respond(byeAtAlice, 200);
    expect(await calls[0]!.ended).toMatchObject({ by: 'callee', cause: 'bye' });
    await noSessionsLeft(siplet);
  });

  it('relays early media: the 183 and its SDP reach the caller before the 200', async () => {
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 183, { toTag: 'b1', body: 'v=0\r\ns=early\r\n' });
    const early = await alice.expectResponse(invite, 183);
    expect(early.body.toString()).toBe('v=0\r\ns=early\r\n');
    expect(early.contentType).toBe('application/sdp');
    expect(calls[0]!.state).toBe('early');
    await bob.respond(atBob, 200, { toTag: 'b1', body: SDP_B });
    const ok = await alice.expectResponse(invite, 200);
    expect(ok.to.tag).toBe(early.to.tag);
    await alice.ack(invite, ok);
    await bob.expectRequest('ACK');
    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    await bob.respond(await bob.expectRequest('BYE'), 200);
    await noSessionsLeft(siplet);
  });

  it('relays a rejection, and the call fails with the callee\'s status', async () => {
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 486, { toTag: 'b1', headers: { 'Retry-After': '30' } });
    await bob.expectRequest('ACK');
    const busy = await alice.expectResponse(invite);
    expect(busy.status).toBe(486);
    expect(busy.get('retry-after')).toBe('30');
    await expect(calls[0]!.answered).rejects.toMatchObject({ name: 'B2buaError', end: { by: 'callee', cause: 'rejected', status: 486 } });
    expect(trace).toContain('failed:callee:rejected:486');
    await noSessionsLeft(siplet);
  });

  it('leaves messages of no call to the servlet\'s own handlers', async () => {
    const message = alice.createRequest('MESSAGE', { to: 'sip:b2b@127.0.0.1', body: 'hi', contentType: 'text/plain' });
    await alice.send(message);
    expect((await alice.expectResponse(message)).status).toBe(200);
    expect(trace).toEqual(['own doMessage']);
  });
});
