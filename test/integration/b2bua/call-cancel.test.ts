/**
 * b2bua(): calls that end before the answer.
 *
 * CANCEL before any 1xx (bob only sent 100 Trying):
 *   alice                 Siplet: b2bua()                      bob
 *     | INVITE ------------> | INVITE ----------------------------> |
 *     |                      | <---------------------- 100 Trying   |
 *     | CANCEL ------------> | (container: 200 CANCEL, 487 INVITE)  |
 *     | <--- 200, 487 ------ | CANCEL ----------------------------> |
 *     | ACK ---------------> | <-------------- 200 (CANCEL), 487    |
 *     |                      | ACK -------------------------------> |
 *
 * CANCEL after the 180: the same, once alice heard the 180.
 *
 * CANCEL crossing the 200:
 *   alice                 Siplet                                bob
 *     | CANCEL ------------> | CANCEL --------------------------> |
 *     | <--- 200, 487 ------ |          <------------------- 200 (INVITE, sent before the CANCEL arrived)
 *     |                      | <-------------------- 200 (CANCEL) |
 *     |                      | ACK, then BYE --------------------> |
 *
 * Ring timeout: no final answer within ringTimeoutMs → CANCEL to bob, 480 to alice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import type { B2buaOptions } from 'siplet/sdk';
import { callApp, calls, resetTrace, trace } from './b2bua-apps.js';
import { callerInvite, DAR, noSessionsLeft, SDP_B } from './call-helpers.js';

let siplet: TestSiplet;
let alice: ScriptedUa;
let bob: ScriptedUa;
let options: B2buaOptions = {};

async function start(o: B2buaOptions = {}, hold?: () => Promise<void>): Promise<void> {
  resetTrace();
  options = o;
  siplet = await createTestSiplet({ apps: [{ exports: { CallApp: callApp(() => options, hold) } }], dar: DAR });
  alice = await siplet.ua('alice');
  bob = await siplet.ua('bob');
}

afterEach(async () => {
  await siplet.close();
});

describe('b2bua(): CANCEL races', () => {
  it('cancels the callee when the caller cancels before any 1xx', async () => {
    await start();
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 100);
    const cancel = await alice.cancel(invite);
    expect((await alice.expectResponse(cancel)).status).toBe(200);
    expect((await alice.expectResponse(invite)).status).toBe(487);
    const cancelAtBob = await bob.expectRequest('CANCEL');
    expect(cancelAtBob.callId).toBe(atBob.callId);
    await bob.respond(cancelAtBob, 200);
    await bob.respond(atBob, 487, { toTag: 'b1' });
    await bob.expectRequest('ACK');
    expect(await calls[0]!.ended).toMatchObject({ by: 'caller', cause: 'cancel', status: 487 });
    expect(trace).toEqual(['failed:caller:cancel:487']);
    await noSessionsLeft(siplet);
  });

  it('cancels the callee when the caller cancels after the 180', async () => {
    await start();
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 180, { toTag: 'b1' });
    await alice.expectResponse(invite, 180);
    const cancel = await alice.cancel(invite);
    expect((await alice.expectResponse(cancel)).status).toBe(200);
    expect((await alice.expectResponse(invite)).status).toBe(487);
    const cancelAtBob = await bob.expectRequest('CANCEL');
    await bob.respond(cancelAtBob, 200);
    await bob.respond(atBob, 487, { toTag: 'b1' });
    await bob.expectRequest('ACK');
    await noSessionsLeft(siplet);
    // Nothing but the 487 reached alice after the CANCEL: no 200 and no BYE.
    expect(alice.unread()).toHaveLength(0);
  });

  it('acknowledges and hangs up a 200 that crosses the CANCEL; the caller still gets 487', async () => {
    await start();
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 180, { toTag: 'b1' });
    await alice.expectResponse(invite, 180);
    const cancel = await alice.cancel(invite);
    const cancelAtBob = await bob.expectRequest('CANCEL');
    // bob answered before the CANCEL reached him: 200 to the INVITE, then 200 to the CANCEL.
    await bob.respond(atBob, 200, { toTag: 'b1', body: SDP_B });
    await bob.respond(cancelAtBob, 200);
    const ack = await bob.expectRequest('ACK');
    expect(ack.to.tag).toBe('b1');
    const bye = await bob.expectRequest('BYE');
    expect(bye.callId).toBe(atBob.callId);
    await bob.respond(bye, 200);
    expect((await alice.expectResponse(cancel)).status).toBe(200);
    expect((await alice.expectResponse(invite)).status).toBe(487);
    expect(alice.received.some((m) => !m.isRequest && m.status === 200 && m.cseq.method === 'INVITE')).toBe(false);
    expect(await calls[0]!.ended).toMatchObject({ by: 'caller', cause: 'cancel' });
    await noSessionsLeft(siplet);
  });

  it('gives a call already failed when the CANCEL was answered before b2bua() ran; the callee never hears of it', async () => {
    let go!: () => void;
    const held = new Promise<void>((resolve) => (go = resolve));
    await start({}, () => held);
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    await new Promise((r) => setTimeout(r, 20));
    await alice.cancel(invite);
    expect((await alice.expectResponse(invite)).status).toBe(487);
    go();
    await new Promise((r) => setTimeout(r, 20));
    expect(await calls[0]!.ended).toMatchObject({ by: 'caller', cause: 'cancel', status: 487 });
    expect(trace).toEqual(['failed:caller:cancel:487']);
    expect(bob.received).toHaveLength(0);
    await noSessionsLeft(siplet);
  });

  it('answers a BYE on the early dialog like a CANCEL (RFC 3261 §15)', async () => {
    await start();
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 180, { toTag: 'b1' });
    const ringing = await alice.expectResponse(invite, 180);
    const bye = alice.createInDialog(invite, ringing, 'BYE');
    await alice.send(bye);
    expect((await alice.expectResponse(bye)).status).toBe(200);
    expect((await alice.expectResponse(invite)).status).toBe(487);
    const cancelAtBob = await bob.expectRequest('CANCEL');
    await bob.respond(cancelAtBob, 200);
    await bob.respond(atBob, 487, { toTag: 'b1' });
    await bob.expectRequest('ACK');
    expect(await calls[0]!.ended).toMatchObject({ by: 'caller', cause: 'bye', status: 487 });
    await noSessionsLeft(siplet);
  });
});

describe('b2bua(): timeouts and hangup', () => {
  it('cancels the callee and answers the caller 480 when the ring timeout passes', async () => {
    await start({ ringTimeoutMs: 150 });
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 180, { toTag: 'b1' });
    await alice.expectResponse(invite, 180);
    const started = Date.now();
    const cancelAtBob = await bob.expectRequest('CANCEL');
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect((await alice.expectResponse(invite)).status).toBe(480);
    await bob.respond(cancelAtBob, 200);
    await bob.respond(atBob, 487, { toTag: 'b1' });
    await bob.expectRequest('ACK');
    expect(await calls[0]!.ended).toMatchObject({ by: 'b2bua', cause: 'ring-timeout', status: 480 });
    await noSessionsLeft(siplet);
  });

  it('answers 408 on the ring timeout when asked to', async () => {
    await start({ ringTimeoutMs: 100, ringTimeoutStatus: 408 });
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 180, { toTag: 'b1' });
    expect((await alice.expectResponse(invite)).status).toBe(408);
    await bob.respond(await bob.expectRequest('CANCEL'), 200);
    await bob.respond(atBob, 487, { toTag: 'b1' });
    await noSessionsLeft(siplet);
  });

  it('hangup() before the answer cancels the callee and answers the caller; after it, BYEs both', async () => {
    await start();
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 180, { toTag: 'b1' });
    await alice.expectResponse(invite, 180);
    await calls[0]!.hangup({ status: 503, reason: 'Service Unavailable' });
    expect((await alice.expectResponse(invite)).status).toBe(503);
    await bob.respond(await bob.expectRequest('CANCEL'), 200);
    await bob.respond(atBob, 487, { toTag: 'b1' });
    expect(await calls[0]!.ended).toMatchObject({ by: 'b2bua', cause: 'hangup', status: 503 });
    await noSessionsLeft(siplet);

    const second = callerInvite(alice, bob);
    await alice.send(second);
    const atBob2 = await bob.expectRequest('INVITE');
    await bob.respond(atBob2, 200, { toTag: 'b2', body: SDP_B });
    const ok = await alice.expectResponse(second, 200);
    await alice.ack(second, ok);
    await bob.expectRequest('ACK');
    await calls[1]!.hangup();
    await bob.respond(await bob.expectRequest('BYE'), 200);
    await alice.respond(await alice.expectRequest('BYE'), 200);
    expect(await calls[1]!.ended).toMatchObject({ by: 'b2bua', cause: 'hangup' });
    await noSessionsLeft(siplet);
  });

  it('hangup() between the 2xx and the caller\'s ACK BYEs the callee at once and the caller after its ACK', async () => {
    await start();
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 200, { toTag: 'b1', body: SDP_B });
    const ok = await alice.expectResponse(invite, 200);
    await calls[0]!.hangup();
    await bob.expectRequest('ACK');
    await bob.respond(await bob.expectRequest('BYE'), 200);
    expect(alice.unread().filter((m) => m.isRequest)).toHaveLength(0);
    await alice.ack(invite, ok);
    await alice.respond(await alice.expectRequest('BYE'), 200);
    expect(await calls[0]!.ended).toMatchObject({ by: 'b2bua', cause: 'hangup' });
    await noSessionsLeft(siplet);
  });

  it('ends the call when the caller never acknowledges the 2xx', async () => {
    await start({ ackTimeoutMs: 150 });
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 200, { toTag: 'b1', body: SDP_B });
    await alice.expectResponse(invite, 200);
    const ack = await bob.expectRequest('ACK');
    expect(ack.body.length).toBe(0);
    await bob.respond(await bob.expectRequest('BYE'), 200);
    // alice gets her BYE too (her dialog is confirmed: the 200 was sent).
    const byeAtAlice = await alice.expectRequest('BYE');
    expect(byeAtAlice.callId).toBe(invite.callId);
    expect(await calls[0]!.ended).toMatchObject({ by: 'b2bua', cause: 'ack-timeout' });
  });
});
