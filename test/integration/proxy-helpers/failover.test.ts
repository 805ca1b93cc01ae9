/**
 * failover(): targets in order, on to the next on 5xx, 408 or a transport
 * error (503 from the container), stopping on any other final response.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failover } from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { settle, until } from '../container/helpers.js';
import { DAR, HelperApp, outcomes, reset } from './helper-apps.js';

let siplet: TestSiplet;
let alice: ScriptedUa;
let primary: ScriptedUa;
let backup: ScriptedUa;

beforeEach(async () => {
  siplet = await createTestSiplet({ apps: [{ exports: { HelperApp } }], dar: DAR });
  alice = await siplet.ua('alice');
  primary = await siplet.ua('primary');
  backup = await siplet.ua('backup');
});

afterEach(async () => {
  await siplet.close();
});

const call = () => alice.createRequest('INVITE', { to: 'sip:trunk@127.0.0.1', body: 'v=0\r\n' });

async function answeredBy(ua: ScriptedUa, req: ReturnType<typeof call>): Promise<void> {
  const invite = await ua.expectRequest('INVITE');
  await ua.respond(invite, 200, { toTag: ua.name });
  const ok = await alice.expectResponse(req, 200);
  await alice.ack(req, ok);
  await until(() => outcomes.length === 1, 'the outcome');
  const outcome = outcomes[0];
  expect(outcome?.answered && outcome.target.toString()).toBe(ua.uri.toString());
}

describe('failover', () => {
  /*
   *  alice          Siplet (failover)          primary            backup
   *    | INVITE ----> | INVITE -----------------> |                  |
   *    |              | <--------------------- 503 |                  |
   *    |              | INVITE ------------------------------------> |
   *    |              | <------------------------------------- 200  |
   *    | <------- 200 |                           |                  |
   */
  it('moves on when a target answers 503', async () => {
    reset({ run: (req) => failover(req, [primary.uri, backup.uri]) });
    const req = call();
    await alice.send(req);
    await primary.respond(await primary.expectRequest('INVITE'), 503);
    await answeredBy(backup, req);
  });

  /*
   *  alice          Siplet (failover, 300 ms a target)   primary (silent)    backup
   *    | INVITE ----> | INVITE ------------------------------> |                |
   *    |              |   ... 300 ms, no response: 408 (RFC 3261 §16.8)       |
   *    |              | INVITE ----------------------------------------------> |
   *    |              | <----------------------------------------------- 200  |
   *    | <------- 200 |                                        |                |
   */
  it('moves on when a target does not answer in time (408)', async () => {
    reset({ run: (req) => failover(req, [primary.uri, backup.uri], { attemptTimeoutMs: 300 }) });
    const started = Date.now();
    const req = call();
    await alice.send(req);
    await primary.expectRequest('INVITE');
    const atBackup = await backup.expectRequest('INVITE');
    const at = Date.now() - started;
    expect(at).toBeGreaterThanOrEqual(250);
    expect(at).toBeLessThan(1200);
    await backup.respond(atBackup, 200, { toTag: 'b' });
    const ok = await alice.expectResponse(req, 200);
    await alice.ack(req, ok);
    await until(() => outcomes.length === 1, 'the outcome');
    expect(outcomes[0]?.answered).toBe(true);
  });

  /*
   *  alice          Siplet (failover)                  nothing at 127.0.0.99      backup
   *    | INVITE ----> | INVITE --x  (transport error: 503 from the container)      |
   *    |              | INVITE ----------------------------------------------------> |
   *    |              | <----------------------------------------------------- 200  |
   *    | <------- 200 |                                                              |
   */
  it('moves on after a transport error', async () => {
    reset({ run: (req) => failover(req, ['sip:gw@127.0.0.99:5060;transport=tcp', backup.uri]) });
    const req = call();
    await alice.send(req);
    await answeredBy(backup, req);
  });

  /*
   *  alice          Siplet (failover)          primary            backup
   *    | INVITE ----> | INVITE -----------------> |                  |
   *    |              | <--------------------- 486 |                  |
   *    | <------- 486 |   (any other final response stops it)        |
   */
  it('stops on 486 Busy Here and never tries the next target', async () => {
    reset({ run: (req) => failover(req, [primary.uri, backup.uri]) });
    const req = call();
    await alice.send(req);
    await primary.respond(await primary.expectRequest('INVITE'), 486);
    expect((await alice.expectResponse(req)).status).toBe(486);
    await settle(100);
    expect(backup.received).toHaveLength(0);
    await until(() => outcomes.length === 1, 'the outcome');
    expect(outcomes[0]).toMatchObject({ answered: false, status: 486 });
  });

  /*
   *  alice          Siplet (failover)          primary            backup
   *    | INVITE ----> | INVITE -----------------> |                  |
   *    |              | <--------------------- 408 |                  |
   *    |              | INVITE ------------------------------------> |
   *    |              | <------------------------------------- 503  |
   *    | <------- 408 |   (every target failed: the best response, the lowest class, §16.7)
   */
  it('moves on after a 408 response and answers the best response when every target fails', async () => {
    reset({ run: (req) => failover(req, [primary.uri, backup.uri]) });
    const req = call();
    await alice.send(req);
    await primary.respond(await primary.expectRequest('INVITE'), 408);
    await backup.respond(await backup.expectRequest('INVITE'), 503);
    const final = await alice.expectResponse(req);
    expect(final.status).toBe(408);
    await until(() => outcomes.length === 1, 'the outcome');
    const outcome = outcomes[0];
    expect(outcome).toMatchObject({ answered: false, status: 408 });
    if (outcome?.answered === false) expect(outcome.responses.map((r) => r.getStatus())).toEqual([408, 503]);
  });

  it('sends a 503 upstream as 500 when every target answered 503 (RFC 3261 §16.7 step 6)', async () => {
    reset({ run: (req) => failover(req, [primary.uri, backup.uri]) });
    const req = call();
    await alice.send(req);
    await primary.respond(await primary.expectRequest('INVITE'), 503);
    await backup.respond(await backup.expectRequest('INVITE'), 503);
    expect((await alice.expectResponse(req)).status).toBe(500);
    await until(() => outcomes.length === 1, 'the outcome');
    expect(outcomes[0]).toMatchObject({ answered: false, status: 500 });
  });
});
