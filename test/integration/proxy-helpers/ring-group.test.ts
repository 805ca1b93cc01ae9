/**
 * ringGroup(): parallel forking to every member, resolved with the outcome.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ringGroup } from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { until } from '../container/helpers.js';
import { DAR, errors, events, HelperApp, outcomes, reset } from './helper-apps.js';

let siplet: TestSiplet;
let alice: ScriptedUa;
let bob: ScriptedUa;
let carol: ScriptedUa;
let dave: ScriptedUa;

beforeEach(async () => {
  siplet = await createTestSiplet({ apps: [{ exports: { HelperApp } }], dar: DAR });
  alice = await siplet.ua('alice');
  bob = await siplet.ua('bob');
  carol = await siplet.ua('carol');
  dave = await siplet.ua('dave');
});

afterEach(async () => {
  await siplet.close();
});

const call = () => alice.createRequest('INVITE', { to: 'sip:sales@127.0.0.1', body: 'v=0\r\n' });
const members = () => [bob.uri, carol.uri, dave.uri];

describe('ringGroup', () => {
  /*
   *  alice            Siplet (ringGroup)          bob        carol        dave
   *    | INVITE -------> | INVITE -----------------> |           |            |
   *    |                 | INVITE ----------------------------> |            |
   *    |                 | INVITE -----------------------------------------> |
   *    |                 | <-------------------- 180 | <--- 180  | <----- 180 |
   *    | <---------- 180 |                           |           |            |
   *    |                 | <------------------------------ 200  |            |
   *    | <---------- 200 | CANCEL ----------------> |            CANCEL ----> |
   *    |                 | <------------- 200, 487  |    <------ 200, 487 --- |
   *    outcome: { answered: true, target: carol }
   */
  it('rings every member at once; the first 2xx wins and the others are cancelled', async () => {
    reset({ run: (req) => ringGroup(req, members(), { recordRoute: true }) });
    const req = call();
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    const atCarol = await carol.expectRequest('INVITE');
    const atDave = await dave.expectRequest('INVITE');
    expect(atBob.recordRoute).toHaveLength(1);
    await bob.respond(atBob, 180, { toTag: 'b' });
    await carol.respond(atCarol, 180, { toTag: 'c' });
    await dave.respond(atDave, 180, { toTag: 'd' });
    await alice.expectResponse(req, 180);
    await carol.respond(atCarol, 200, { toTag: 'c', body: 'v=0\r\n' });
    const ok = await alice.expectResponse(req, 200);
    expect(ok.to.tag).toBe('c');
    for (const [ua, invite, tag] of [[bob, atBob, 'b'], [dave, atDave, 'd']] as const) {
      const cancel = await ua.expectRequest('CANCEL');
      await ua.respond(cancel, 200);
      await ua.respond(invite, 487, { toTag: tag });
    }
    await until(() => outcomes.length === 1, 'the outcome');
    const outcome = outcomes[0];
    expect(outcome?.answered).toBe(true);
    if (outcome?.answered) {
      expect(outcome.target.toString()).toBe(carol.uri.toString());
      expect(outcome.response.getStatus()).toBe(200);
    }
    await alice.ack(req, ok);
    await carol.expectRequest('ACK');
  });

  /*
   *  alice            Siplet (ringGroup)          bob        carol        dave
   *    | INVITE -------> | INVITE ×3 --------------> | --------> | ---------> |
   *    |                 | <-------------------- 486 | <--- 486  | <----- 503 |
   *    | <---------- 486 |   (best response, RFC 3261 §16.7: the lowest class)
   *    outcome: { answered: false, status: 486, responses: [486, 486, 503] }
   */
  it('answers the best response when every member refuses', async () => {
    reset({ run: (req) => ringGroup(req, members()) });
    const req = call();
    await alice.send(req);
    await bob.respond(await bob.expectRequest('INVITE'), 486);
    await carol.respond(await carol.expectRequest('INVITE'), 486);
    await dave.respond(await dave.expectRequest('INVITE'), 503);
    expect((await alice.expectResponse(req)).status).toBe(486);
    await until(() => outcomes.length === 1, 'the outcome');
    const outcome = outcomes[0];
    expect(outcome).toMatchObject({ answered: false, status: 486 });
    if (outcome?.answered === false) expect(outcome.responses.map((r) => r.getStatus()).sort()).toEqual([486, 486, 503]);
    expect(events).toEqual([]); // not supervised: the servlet's callbacks stay quiet
  });

  /*
   *  alice            Siplet (ringGroup, 400 ms)   bob             carol
   *    | INVITE -------> | INVITE -----------------> | ------------> |
   *    |                 | <-------------------- 180 |   (carol: no answer at all)
   *    |                 |  ... 400 ms ...           |               |
   *    |                 | CANCEL -----------------> |               |
   *    |                 | <--------------- 200, 487 |               |
   *    | <---------- 408 |   (carol's leg counts as 408, RFC 3261 §16.8)
   */
  it('cancels every leg at the overall timeout', async () => {
    reset({ run: (req) => ringGroup(req, [bob.uri, carol.uri], { timeoutMs: 400 }) });
    const started = Date.now();
    const req = call();
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    await carol.expectRequest('INVITE');
    await bob.respond(atBob, 180, { toTag: 'b' });
    const cancel = await bob.expectRequest('CANCEL');
    const at = Date.now() - started;
    expect(at).toBeGreaterThanOrEqual(350);
    expect(at).toBeLessThan(1500);
    await bob.respond(cancel, 200);
    await bob.respond(atBob, 487, { toTag: 'b' });
    expect((await alice.expectResponse(req, (s) => s >= 200)).status).toBe(408);
    await until(() => outcomes.length === 1, 'the outcome');
    expect(outcomes[0]).toMatchObject({ answered: false, status: 408 });
  });

  /*
   *  alice            Siplet (ringGroup)          bob          carol
   *    | INVITE -------> | INVITE -----------------> | ----------> |
   *    |                 | <-------------------- 180 |             |
   *    | CANCEL -------> |                           |             |
   *    | <---- 200       | CANCEL -----------------> |  (carol, no 1xx: her leg ends at once)
   *    |                 | <--------------- 200, 487 |             |
   *    | <---------- 487 |                           |             |
   */
  it("ends with 487 when the caller cancels", async () => {
    reset({ run: (req) => ringGroup(req, [bob.uri, carol.uri]) });
    const req = call();
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    await carol.expectRequest('INVITE');
    await bob.respond(atBob, 180, { toTag: 'b' });
    await alice.expectResponse(req, 180);
    const cancel = await alice.cancel(req);
    expect((await alice.expectResponse(cancel)).status).toBe(200);
    await bob.respond(await bob.expectRequest('CANCEL'), 200);
    await bob.respond(atBob, 487, { toTag: 'b' });
    expect((await alice.expectResponse(req)).status).toBe(487);
    await until(() => outcomes.length === 1, 'the outcome');
    expect(outcomes[0]).toMatchObject({ answered: false, status: 487 });
  });

  /*
   *  alice            Siplet (ringGroup, supervised)    bob         carol
   *    | INVITE -------> | INVITE --------------------> | ---------> |
   *    |                 | <------------------------ 486 |            |   doBranchResponse 486
   *    |                 | <------------------------------------ 200  |   doSuccessResponse 200
   *    | <---------- 200 |                               |            |
   */
  it('lets the servlet see the responses when supervised (outcome not awaited in doInvite)', async () => {
    reset({ run: (req) => ringGroup(req, [bob.uri, carol.uri], { supervised: true }), detach: true });
    const req = call();
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    const atCarol = await carol.expectRequest('INVITE');
    await bob.respond(atBob, 486);
    await carol.respond(atCarol, 200, { toTag: 'c' });
    const ok = await alice.expectResponse(req, 200);
    await alice.ack(req, ok);
    await until(() => outcomes.length === 1, 'the outcome');
    expect(outcomes[0]?.answered).toBe(true);
    expect(events).toContain('branch:486');
    expect(events).toContain('success:200');
  });

  it('rejects an empty or malformed target list; awaited in doInvite, that answers 500', async () => {
    reset({ run: (req) => ringGroup(req, []), rethrow: true });
    const req = call();
    await alice.send(req);
    expect((await alice.expectResponse(req)).status).toBe(500);
    expect(errors[0]).toBeInstanceOf(RangeError);
    reset({ run: (req) => ringGroup(req, ['not a uri']), rethrow: true });
    const again = call();
    await alice.send(again);
    expect((await alice.expectResponse(again)).status).toBe(500);
    expect(String(errors[0])).toContain('not a SIP URI');
    expect(bob.received).toHaveLength(0);
  });
});
