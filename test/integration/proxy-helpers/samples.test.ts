/**
 * The find-me-follow-me and ring-group samples, driven through their
 * config.json as an operator would write it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { CallScreening, http as callScreeningHttp } from '../../../samples/call-screening/index.js';
import { FindMeFollowMe, followMeTargets } from '../../../samples/find-me-follow-me/index.js';
import { groupMembers, RingGroup } from '../../../samples/ring-group/index.js';
import { settle } from '../container/helpers.js';

let siplet: TestSiplet | undefined;

afterEach(async () => {
  await siplet?.close();
  siplet = undefined;
});

async function start(apps: Parameters<typeof createTestSiplet>[0], names: string[]): Promise<ScriptedUa[]> {
  siplet = await createTestSiplet(apps);
  const uas: ScriptedUa[] = [];
  for (const name of names) uas.push(await siplet.ua(name));
  return uas;
}

function app(name: string) {
  const found = siplet?.container.applications().find((a) => a.name === name);
  if (found === undefined) throw new Error(`${name} is not deployed`);
  return found;
}

describe('find-me-follow-me sample', () => {
  const DAR = 'INVITE: ("find-me-follow-me", "DAR:To", "TERMINATING", "", "NO_ROUTE", "0")';

  /*
   *  caller         Siplet: find-me-follow-me          desk (0, rings 600)     mobile (300, rings 2 s)
   *    | INVITE sip:alice@ -> | INVITE (Record-Route) --> |                        |
   *    |                      | <----------------------- 180 |                        |
   *    |                      | INVITE (300 ms, Record-Route) --------------------> |
   *    |                      | CANCEL (600 ms) ---------> |                        |
   *    |                      | <------------------ 200, 487 |                        |
   *    |                      | <------------------------------------------------ 200 |
   *    | <--------------- 200 |                           |                        |
   *    | ACK (Route: Siplet) ─► | ─► ACK ------------------------------------------> |
   */
  it('hunts over the called user’s list from config.json', async () => {
    const [caller, desk, mobile] = await start({ apps: [], dar: DAR }, ['caller', 'desk', 'mobile']) as [ScriptedUa, ScriptedUa, ScriptedUa];
    await siplet!.deploy({
      exports: { FindMeFollowMe },
      config: {
        users: {
          alice: [
            { uri: desk.uri.toString(), delayMs: 0, timeoutMs: 600 },
            { uri: mobile.uri.toString(), delayMs: 300, timeoutMs: 2000 },
          ],
        },
      },
    });
    siplet!.setDar(DAR);
    const started = Date.now();
    const invite = caller.createRequest('INVITE', { to: 'sip:alice@127.0.0.1', body: 'v=0\r\n' });
    await caller.send(invite);
    const atDesk = await desk.expectRequest('INVITE');
    expect(atDesk.recordRoute).toHaveLength(1);
    await desk.respond(atDesk, 180, { toTag: 'd' });
    const atMobile = await mobile.expectRequest('INVITE');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await mobile.respond(atMobile, 180, { toTag: 'm' });
    const cancel = await desk.expectRequest('CANCEL');
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    await desk.respond(cancel, 200);
    await desk.respond(atDesk, 487, { toTag: 'd' });
    await mobile.respond(atMobile, 200, { toTag: 'm', body: 'v=0\r\n' });
    const ok = await caller.expectResponse(invite, 200);
    expect(ok.recordRoute).toHaveLength(1);
    await caller.ack(invite, ok);
    await mobile.expectRequest('ACK');
  });

  it('answers 404 for a user without a list, and takes a new list without a restart', async () => {
    const [caller, desk] = await start({ apps: [{ exports: { FindMeFollowMe }, config: { users: {} } }], dar: DAR }, ['caller', 'desk']) as [ScriptedUa, ScriptedUa];
    const first = caller.createRequest('INVITE', { to: 'sip:bob@127.0.0.1', body: 'v=0\r\n' });
    await caller.send(first);
    expect((await caller.expectResponse(first)).status).toBe(404);

    app('find-me-follow-me').loaded.config.replace({ users: { bob: [{ uri: desk.uri.toString() }] } });
    const second = caller.createRequest('INVITE', { to: 'sip:bob@127.0.0.1', body: 'v=0\r\n' });
    await caller.send(second);
    await desk.respond(await desk.expectRequest('INVITE'), 486);
    expect((await caller.expectResponse(second)).status).toBe(486);
  });

  /*
   *  caller        Siplet: find-me-follow-me ─► call-screening (composed)                 desk
   *    | INVITE sip:alice@ ─► | follow-me hunts; each leg continues to call-screening ─► |
   *    |                      |                        call-screening proxies: INVITE -> |
   *    | <----------------------------------------------------------------------- 200   |
   *    | INVITE sip:bob@ (not alice): follow-me skipped, call-screening proxies to bob as before
   *    | INVITE from a blocked caller to alice: every leg gets 403 from call-screening ─► 403
   */
  it('runs in the default chain with the DAR line its README shows', async () => {
    const line =
      'INVITE: ("hello-uas", "DAR:To", "TERMINATING", "", "NO_ROUTE", "0", "REGEX=To:sip:hello@"), ("find-me-follow-me", "DAR:To", "TERMINATING", "", "NO_ROUTE", "1", "REGEX=To:sip:alice@"), ("call-screening", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "2")';
    const [caller, desk, bob, spammer] = (await start({ apps: [] }, ['caller', 'desk', 'bob', 'spammer'])) as [ScriptedUa, ScriptedUa, ScriptedUa, ScriptedUa];
    await siplet!.deploy({ exports: { CallScreening, http: callScreeningHttp }, config: { blocked: [`spammer@${spammer.address}`] } });
    await siplet!.deploy({ exports: { FindMeFollowMe }, config: { users: { alice: [{ uri: desk.uri.toString() }] } } });
    siplet!.setDar(line);

    const toAlice = caller.createRequest('INVITE', { to: 'sip:alice@127.0.0.1', body: 'v=0\r\n' });
    await caller.send(toAlice);
    const atDesk = await desk.expectRequest('INVITE');
    expect(atDesk.recordRoute.length).toBeGreaterThanOrEqual(2); // both applications record-route
    await desk.respond(atDesk, 200, { toTag: 'd' });
    const ok = await caller.expectResponse(toAlice, 200);
    await caller.ack(toAlice, ok);
    await desk.expectRequest('ACK');

    const toBob = caller.createRequest('INVITE', { to: bob.uri, body: 'v=0\r\n' });
    await caller.send(toBob);
    await bob.respond(await bob.expectRequest('INVITE'), 486);
    expect((await caller.expectResponse(toBob)).status).toBe(486);

    const blocked = spammer.createRequest('INVITE', { to: 'sip:alice@127.0.0.1', body: 'v=0\r\n' });
    await spammer.send(blocked);
    expect((await spammer.expectResponse(blocked)).status).toBe(403);
    expect(desk.unread()).toHaveLength(0);
  });

  it('reads the hunt list from config entries, skipping malformed ones', () => {
    const users = { alice: [{ uri: 'sip:a@x', delayMs: 5, timeoutMs: 9 }, { nope: true }, 'x', { uri: 'sip:b@y' }], bob: 'not a list' };
    expect(followMeTargets(users, 'alice')).toEqual([{ uri: 'sip:a@x', delayMs: 5, timeoutMs: 9 }, { uri: 'sip:b@y' }]);
    expect(followMeTargets(users, 'bob')).toEqual([]);
    expect(followMeTargets(users, 'constructor')).toEqual([]);
  });
});

describe('ring-group sample', () => {
  const DAR = 'INVITE: ("ring-group", "DAR:To", "TERMINATING", "", "NO_ROUTE", "0")';

  /*
   *  caller         Siplet: ring-group             ann              bob
   *    | INVITE sip:sales@ -> | INVITE ------------> |                  |
   *    |                      | INVITE -------------------------------> |
   *    |                      | <-------------- 180  | <----------- 180 |
   *    |                      | <-------------------------------- 200   |
   *    | <--------------- 200 | CANCEL ------------> |                  |
   *    |                      | <--------- 200, 487  |                  |
   */
  it('rings every member of the group at once; the first to answer gets the call', async () => {
    const [caller, ann, bob] = await start({ apps: [], dar: DAR }, ['caller', 'ann', 'bob']) as [ScriptedUa, ScriptedUa, ScriptedUa];
    await siplet!.deploy({ exports: { RingGroup }, config: { groups: { sales: [ann.uri.toString(), bob.uri.toString()] } } });
    siplet!.setDar(DAR);
    const invite = caller.createRequest('INVITE', { to: 'sip:sales@127.0.0.1', body: 'v=0\r\n' });
    await caller.send(invite);
    const atAnn = await ann.expectRequest('INVITE');
    const atBob = await bob.expectRequest('INVITE');
    expect(atAnn.recordRoute).toHaveLength(1);
    await ann.respond(atAnn, 180, { toTag: 'a' });
    await bob.respond(atBob, 180, { toTag: 'b' });
    await bob.respond(atBob, 200, { toTag: 'b', body: 'v=0\r\n' });
    const ok = await caller.expectResponse(invite, 200);
    expect(ok.to.tag).toBe('b');
    await caller.ack(invite, ok);
    await ann.respond(await ann.expectRequest('CANCEL'), 200);
    await ann.respond(atAnn, 487, { toTag: 'a' });
    await bob.expectRequest('ACK');
  });

  /*
   *  caller         Siplet: ring-group (timeoutMs 300)    ann
   *    | INVITE sip:sales@ -> | INVITE ------------------> |
   *    |                      | <-------------------- 180  |
   *    |                      |   ... 300 ms ...           |
   *    |                      | CANCEL ------------------> |
   *    | <--------------- 408 | <--------------- 200, 487  |
   */
  it('answers 408 when nobody picks up within the configured timeout, and 404 for an unknown group', async () => {
    const [caller, ann] = await start({ apps: [], dar: DAR }, ['caller', 'ann']) as [ScriptedUa, ScriptedUa];
    await siplet!.deploy({ exports: { RingGroup }, config: { groups: { sales: [ann.uri.toString()] }, timeoutMs: 300 } });
    siplet!.setDar(DAR);
    const invite = caller.createRequest('INVITE', { to: 'sip:sales@127.0.0.1', body: 'v=0\r\n' });
    await caller.send(invite);
    const atAnn = await ann.expectRequest('INVITE');
    await ann.respond(atAnn, 180, { toTag: 'a' });
    await ann.respond(await ann.expectRequest('CANCEL'), 200);
    await ann.respond(atAnn, 487, { toTag: 'a' });
    expect((await caller.expectResponse(invite, (s) => s >= 200)).status).toBe(408);

    const unknown = caller.createRequest('INVITE', { to: 'sip:support@127.0.0.1', body: 'v=0\r\n' });
    await caller.send(unknown);
    expect((await caller.expectResponse(unknown)).status).toBe(404);
    await settle(20);
  });

  it('reads group members from config, skipping entries that are not strings', () => {
    expect(groupMembers({ sales: ['sip:a@x', 7, 'sip:b@y'] }, 'sales')).toEqual(['sip:a@x', 'sip:b@y']);
    expect(groupMembers({ sales: 'sip:a@x' }, 'sales')).toEqual([]);
    expect(groupMembers({}, 'toString')).toEqual([]);
  });
});
