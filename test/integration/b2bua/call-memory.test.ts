/**
 * What an established b2bua() call keeps (issue 5: memory per held call). Public API keeps
 * the four INVITE/2xx messages reachable for the whole call (`call.answered` resolves with the
 * callee's 2xx, whose request is linked to the caller's INVITE), so they must not carry their
 * parsed views (Via, From, To, Contact …) once the ACKs passed: those are parsed again on demand.
 * Counted with v8.queryObjects (after a full collection), per call held.
 *
 *   alice ×N             Siplet: b2bua (sample)                 bob
 *     | INVITE ----------> | INVITE ---------------------------> |
 *     | <--- 180, 200 ---- | <--------------------------- 180, 200 |
 *     | ACK -------------> | ACK ------------------------------> |
 *     |      (held: counted with every transaction ended)        |
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestSiplet, type TestSiplet } from 'siplet/sdk/testing';
import { NameAddress, Via } from '../../../src/sip/message/index.js';
import { TopologyHidingB2bua } from '../../../samples/b2bua/index.js';
import { establishCall, liveObjects, sleep } from './call-helpers.js';

const DAR = 'INVITE: ("b2bua", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")';
const CALLS = 20;

let siplet: TestSiplet;

afterEach(async () => {
  await siplet.close();
});

describe('b2bua(): memory of an established call', () => {
  it('keeps no parsed Via and at most the dialogs\' and sessions\' addresses per call once the ACKs passed', async () => {
    siplet = await createTestSiplet({ apps: [{ exports: { TopologyHidingB2bua }, config: {} }], dar: DAR, config: { t1: 10 } });
    const alice = await siplet.ua('alice');
    const bob = await siplet.ua('bob');
    // One call first, so that what the first call creates once (caches, shapes) is not counted.
    await establishCall(alice, bob, 0);
    const uas = [alice, bob];
    const via0 = await liveObjects(uas, Via);
    const names0 = await liveObjects(uas, NameAddress);
    for (let n = 1; n <= CALLS; n++) await establishCall(alice, bob, n);
    // RFC 6026: the INVITE transactions linger 64*T1 after their 2xx; the calls stay up.
    const deadline = Date.now() + 5000;
    while (siplet.stack.transactions.size > 0 && Date.now() < deadline) await sleep(20);
    expect(siplet.stack.transactions.size).toBe(0);
    expect(siplet.container.stats().sessions.sipSessions).toBe(2 * (CALLS + 1));

    const viaPerCall = ((await liveObjects(uas, Via)) - via0) / CALLS;
    const namesPerCall = ((await liveObjects(uas, NameAddress)) - names0) / CALLS;
    // Before the views were released: 4 Via and 17 name-addresses per call.
    expect(viaPerCall).toBeLessThan(0.5);
    // Each of the two sessions keeps its local and remote party; each dialog its local and remote URI.
    expect(namesPerCall).toBeLessThanOrEqual(8);
  });
});
