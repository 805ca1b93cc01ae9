/**
 * The b2bua sample (samples/b2bua) on an unreliable (UDP-like) memory network, with
 * retransmissions: calls to the Request-URI and to a configured target.
 *
 *   alice                Siplet: b2bua (sample)                  bob
 *     | INVITE sip:bob@… ---> | INVITE (target) -------------------> |
 *     | <--- 180, 200 ------- | <---------------------------- 180, 200 |
 *     | ACK, BYE -----------> | ACK, BYE ---------------------------> |
 *     | <-------------- 200 - | <---------------------------------- 200 |
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { TopologyHidingB2bua } from '../../../samples/b2bua/index.js';
import { noSessionsLeft, SDP_A, SDP_B } from './call-helpers.js';

const DAR = 'INVITE: ("b2bua", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")';

let siplet: TestSiplet;
let alice: ScriptedUa;
let bob: ScriptedUa;

async function start(config: Record<string, unknown>): Promise<void> {
  siplet = await createTestSiplet({ apps: [{ exports: { TopologyHidingB2bua }, config }], dar: DAR, reliable: false });
  alice = await siplet.ua('alice');
  bob = await siplet.ua('bob');
}

afterEach(async () => {
  await siplet.close();
});

describe('samples/b2bua', () => {
  it('calls the Request-URI and relays the call until the caller hangs up', async () => {
    await start({});
    const invite = alice.createRequest('INVITE', { to: bob.uri, body: SDP_A });
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    expect(atBob.uri.toString()).toBe(bob.uri.toString());
    expect(atBob.callId).not.toBe(invite.callId);
    await bob.respond(atBob, 180, { toTag: 'b1' });
    await bob.respond(atBob, 200, { toTag: 'b1', body: SDP_B });
    await alice.expectResponse(invite, 180);
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);
    await bob.expectRequest('ACK');
    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    await bob.respond(await bob.expectRequest('BYE'), 200);
    expect((await alice.expectResponse(bye)).status).toBe(200);
    await noSessionsLeft(siplet, 3000);
  });

  it('calls the configured target instead, and cancels it when the caller gives up', async () => {
    // bob is the second UA of the memory network: 127.0.0.3.
    await start({ target: 'sip:bob@127.0.0.3:5060' });
    const invite = alice.createRequest('INVITE', { to: 'sip:anyone@example.com', body: SDP_A });
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    expect(atBob.uri.toString()).toBe('sip:bob@127.0.0.3:5060');
    expect(atBob.to.uri.toString()).toBe('sip:anyone@example.com');
    await bob.respond(atBob, 180, { toTag: 'b1' });
    await alice.expectResponse(invite, 180);
    await alice.cancel(invite);
    const final = await alice.expectResponse(invite);
    expect(final.status).toBe(487);
    await alice.ack(invite, final);
    const cancel = await bob.expectRequest('CANCEL');
    await bob.respond(cancel, 200);
    await bob.respond(atBob, 487, { toTag: 'b1' });
    await bob.expectRequest('ACK');
    // Timer I/K keep the transactions a few seconds on UDP; the sessions go at once.
    await noSessionsLeft(siplet, 3000);
  });
});
