/**
 * A finished b2bua() call is not kept alive by the transactions that outlive it (RFC 6026 Timers L
 * and M, RFC 3261 Timer J: 64*T1). The UAC core's listener on the callee leg's INVITE transaction
 * stays for Timer M to re-send the ACK for a retransmitted 2xx; it must hold that ACK, not the
 * request, its sessions and the app's call. Counted with v8.queryObjects after a full collection,
 * and shown with a WeakRef to one call.
 *
 *   alice ×N             Siplet: b2bua (sample)                 bob
 *     | INVITE ----------> | INVITE ---------------------------> |
 *     | <--- 180, 200 ---- | <--------------------------- 180, 200 |
 *     | ACK -------------> | ACK ------------------------------> |
 *     | BYE -------------> | BYE ------------------------------> |
 *     | <---------- 200 -- | <-------------------------------- 200 |
 *     |   (sessions gone; transactions linger: counted here)     |
 *     | <-- 200 (bob retransmits) ------------------------------- |
 *     |                    | ACK again ------------------------> |
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { B2buaCall } from 'siplet/sdk';
import { ApplicationSessionImpl, SipSessionImpl } from '../../../src/container/session/index.js';
import { TopologyHidingB2bua } from '../../../samples/b2bua/index.js';
import { answer, callerInvite, DAR as CALL_APP_DAR, establishCall, liveObjects, noSessionsLeft, SDP_B } from './call-helpers.js';
import { callApp, calls, resetTrace } from './b2bua-apps.js';

const DAR = 'INVITE: ("b2bua", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")';
const CALLS = 20;

let siplet: TestSiplet;

afterEach(async () => {
  await siplet.close();
});

type Request = Parameters<ScriptedUa['respond']>[0];

/** A whole call, alice hanging up; returns bob's INVITE and 200 for a retransmission. */
async function placeCall(alice: ScriptedUa, bob: ScriptedUa, n: number): Promise<{ atBob: Request }> {
  const { invite, ok, atBob } = await establishCall(alice, bob, n);
  const bye = alice.createInDialog(invite, ok, 'BYE');
  await alice.send(bye);
  const byeAtBob = await bob.expectRequest('BYE');
  await bob.respond(byeAtBob, 200);
  expect((await alice.expectResponse(bye)).status).toBe(200);
  return { atBob };
}

describe('b2bua(): a finished call while its transactions linger', () => {
  it('keeps no session or call alive, and still re-ACKs a retransmitted 2xx', async () => {
    // T1 500 ms: the INVITE transactions linger 32 s, far longer than the test.
    siplet = await createTestSiplet({ apps: [{ exports: { TopologyHidingB2bua }, config: {} }], dar: DAR, config: { t1: 500 } });
    const alice = await siplet.ua('alice');
    const bob = await siplet.ua('bob');
    const uas = [alice, bob];
    // One call first, so that what the first call creates once (caches, shapes) is not counted.
    await placeCall(alice, bob, 0);
    await noSessionsLeft(siplet);
    const sessions0 = await liveObjects(uas, SipSessionImpl);
    const appSessions0 = await liveObjects(uas, ApplicationSessionImpl);
    const calls0 = await liveObjects(uas, B2buaCall);

    let last: Request | undefined;
    for (let n = 1; n <= CALLS; n++) last = (await placeCall(alice, bob, n)).atBob;
    await noSessionsLeft(siplet);
    expect(siplet.stack.transactions.size).toBeGreaterThanOrEqual(2 * CALLS);

    expect((await liveObjects(uas, SipSessionImpl)) - sessions0).toBe(0);
    expect((await liveObjects(uas, ApplicationSessionImpl)) - appSessions0).toBe(0);
    expect((await liveObjects(uas, B2buaCall)) - calls0).toBe(0);

    // RFC 3261 §13.2.2.4: the callee retransmits its 2xx; the INVITE transaction (Accepted, Timer M)
    // still hands it to the UAC core, which sends the same ACK again.
    await bob.respond(last as Request, 200, { toTag: `b${CALLS}`, body: SDP_B });
    const again = await bob.expectRequest('ACK');
    expect(again.callId).toBe((last as Request).callId);
  });

  it('lets a finished call, its sessions and its requests be collected (WeakRef)', async () => {
    resetTrace();
    siplet = await createTestSiplet({ apps: [{ exports: { CallApp: callApp() } }], dar: CALL_APP_DAR, config: { t1: 500 } });
    const alice = await siplet.ua('alice');
    const bob = await siplet.ua('bob');
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    const { ok } = await answer(alice, bob, invite, atBob);
    const call = new WeakRef(calls[0] as B2buaCall);
    const callee = new WeakRef((calls[0] as B2buaCall).callee as object);
    const appSession = new WeakRef((calls[0] as B2buaCall).caller.getApplicationSession());
    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    await bob.respond(await bob.expectRequest('BYE'), 200);
    await alice.expectResponse(bye);
    expect(await calls[0]?.ended).toMatchObject({ by: 'caller', cause: 'bye' });
    await noSessionsLeft(siplet);
    calls.length = 0;
    expect(siplet.stack.transactions.size).toBeGreaterThanOrEqual(2);
    await liveObjects([alice, bob], B2buaCall);
    expect(call.deref()).toBeUndefined();
    expect(callee.deref()).toBeUndefined();
    expect(appSession.deref()).toBeUndefined();
  });
});
