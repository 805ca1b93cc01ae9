/**
 * hunt(): find-me-follow-me with per-target start delays and ring timeouts
 * (FreeSWITCH leg_delay_start / leg_timeout). The delays here are a few
 * hundred milliseconds; timing windows are loose on purpose.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hunt } from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { settle, until } from '../container/helpers.js';
import { DAR, HelperApp, outcomes, reset } from './helper-apps.js';

let siplet: TestSiplet;
let alice: ScriptedUa;
let desk: ScriptedUa;
let mobile: ScriptedUa;
let voicemail: ScriptedUa;

beforeEach(async () => {
  siplet = await createTestSiplet({ apps: [{ exports: { HelperApp } }], dar: DAR });
  alice = await siplet.ua('alice');
  desk = await siplet.ua('desk');
  mobile = await siplet.ua('mobile');
  voicemail = await siplet.ua('voicemail');
});

afterEach(async () => {
  await siplet.close();
});

const call = () => alice.createRequest('INVITE', { to: 'sip:alice-followme@127.0.0.1', body: 'v=0\r\n' });

function clock(): () => number {
  const start = Date.now();
  return () => Date.now() - start;
}

describe('hunt: delays and ring timeouts', () => {
  /*
   *  alice          Siplet (hunt)                 desk (0 ms, rings 700)    mobile (300 ms, rings 2 s)
   *    | INVITE ----> | INVITE --------------------> |                          |
   *    |              | <------------------------ 180 |                          |
   *    | <------- 180 |   ... 300 ms: mobile joins while desk still rings       |
   *    |              | INVITE ------------------------------------------------> |
   *    |              |   ... 700 ms: desk's ring timeout cancels desk only     |
   *    |              | CANCEL ----------------------> |                          |
   *    |              | <------------------- 200, 487 |                          |
   *    |              | <---------------------------------------------------- 200 |
   *    | <------- 200 |                               |                          |
   *    outcome: { answered: true, target: mobile }
   */
  it('starts each leg after its delay, overlapping, and cancels a leg alone at its ring timeout', async () => {
    reset({
      run: (req) =>
        hunt(req, [
          { uri: desk.uri, delayMs: 0, timeoutMs: 700 },
          { uri: mobile.uri, delayMs: 300, timeoutMs: 2000 },
        ]),
    });
    const elapsed = clock();
    const req = call();
    await alice.send(req);
    const atDesk = await desk.expectRequest('INVITE');
    expect(elapsed()).toBeLessThan(200);
    await desk.respond(atDesk, 180, { toTag: 'd' });
    await alice.expectResponse(req, 180);
    await settle(100);
    expect(mobile.unread()).toHaveLength(0);

    const atMobile = await mobile.expectRequest('INVITE');
    const mobileAt = elapsed();
    expect(mobileAt).toBeGreaterThanOrEqual(250);
    expect(mobileAt).toBeLessThan(650);
    expect(desk.unread()).toHaveLength(0); // desk still rings: the legs overlap
    await mobile.respond(atMobile, 180, { toTag: 'm' });

    const cancel = await desk.expectRequest('CANCEL');
    const deskCancelledAt = elapsed();
    expect(deskCancelledAt).toBeGreaterThanOrEqual(650);
    expect(deskCancelledAt).toBeLessThan(1300);
    await desk.respond(cancel, 200);
    await desk.respond(atDesk, 487, { toTag: 'd' });
    await settle(50);
    expect(mobile.unread()).toHaveLength(0); // mobile's leg goes on

    await mobile.respond(atMobile, 200, { toTag: 'm', body: 'v=0\r\n' });
    const ok = await alice.expectResponse(req, 200);
    expect(ok.to.tag).toBe('m');
    await alice.ack(req, ok);
    await until(() => outcomes.length === 1, 'the outcome');
    const outcome = outcomes[0];
    expect(outcome?.answered && outcome.target.toString()).toBe(mobile.uri.toString());
  });

  /*
   *  alice          Siplet (hunt)                desk (0, rings 400)      mobile (200, rings 500)
   *    | INVITE ----> | INVITE -------------------> |                         |
   *    |              | <----------------------- 180 |                         |
   *    |              | INVITE (200 ms) -------------------------------------> |
   *    |              | <--------------------------------------------------- 180 |
   *    |              | CANCEL (400 ms) -----------> |                         |
   *    |              | CANCEL (700 ms) -------------------------------------> |
   *    | <------- 408 |   (both legs timed out)     |                         |
   */
  it('answers 408 when every leg rings out, each cancelled at its own timeout', async () => {
    reset({
      run: (req) =>
        hunt(req, [
          { uri: desk.uri, timeoutMs: 400 },
          { uri: mobile.uri, delayMs: 200, timeoutMs: 500 },
        ]),
    });
    const elapsed = clock();
    const req = call();
    await alice.send(req);
    const atDesk = await desk.expectRequest('INVITE');
    await desk.respond(atDesk, 180, { toTag: 'd' });
    const atMobile = await mobile.expectRequest('INVITE');
    await mobile.respond(atMobile, 180, { toTag: 'm' });

    const deskCancel = await desk.expectRequest('CANCEL');
    const deskAt = elapsed();
    await desk.respond(deskCancel, 200);
    await desk.respond(atDesk, 487, { toTag: 'd' });
    const mobileCancel = await mobile.expectRequest('CANCEL');
    const mobileAt = elapsed();
    await mobile.respond(mobileCancel, 200);
    await mobile.respond(atMobile, 487, { toTag: 'm' });
    expect(deskAt).toBeGreaterThanOrEqual(350);
    expect(deskAt).toBeLessThan(900);
    expect(mobileAt).toBeGreaterThanOrEqual(650); // 200 ms delay + 500 ms of ringing
    expect(mobileAt).toBeLessThan(1400);

    expect((await alice.expectResponse(req, (s) => s >= 200)).status).toBe(408);
    await until(() => outcomes.length === 1, 'the outcome');
    const outcome = outcomes[0];
    expect(outcome).toMatchObject({ answered: false, status: 408 });
    if (outcome?.answered === false) expect(outcome.responses).toHaveLength(2);
  });

  /*
   *  alice          Siplet (hunt)          desk (0)      mobile (3 s)    voicemail (4 s)
   *    | INVITE ----> | INVITE ------------> |               |                |
   *    |              | <---------------- 486 |               |                |
   *    |              | INVITE (at once: nothing rings) ---> |                |
   *    |              | <-------------------------------- 480 |                |
   *    |              | INVITE (at once) -------------------------------------> |
   *    |              | <---------------------------------------------------- 200 |
   *    | <------- 200 |                      |               |                |
   */
  it('never waits in silence: when no leg rings, the next waiting one starts at once', async () => {
    reset({
      run: (req) =>
        hunt(req, [
          { uri: desk.uri, delayMs: 0 },
          { uri: mobile.uri, delayMs: 3000 },
          { uri: voicemail.uri, delayMs: 4000 },
        ]),
    });
    const elapsed = clock();
    const req = call();
    await alice.send(req);
    await desk.respond(await desk.expectRequest('INVITE'), 486);
    const atMobile = await mobile.expectRequest('INVITE');
    expect(elapsed()).toBeLessThan(1000);
    await mobile.respond(atMobile, 180, { toTag: 'm' });
    await settle(100);
    expect(voicemail.unread()).toHaveLength(0); // still 1 s after mobile started
    await mobile.respond(atMobile, 480, { toTag: 'm' });
    const atVoicemail = await voicemail.expectRequest('INVITE');
    expect(elapsed()).toBeLessThan(1000);
    await voicemail.respond(atVoicemail, 200, { toTag: 'v' });
    const ok = await alice.expectResponse(req, 200);
    await alice.ack(req, ok);
    await until(() => outcomes.length === 1, 'the outcome');
    expect(outcomes[0]?.answered && outcomes[0].target.toString()).toBe(voicemail.uri.toString());
  });

  it('starts a first target with a delay at once (nothing else rings)', async () => {
    reset({ run: (req) => hunt(req, [{ uri: desk.uri, delayMs: 2000 }]) });
    const elapsed = clock();
    const req = call();
    await alice.send(req);
    await desk.respond(await desk.expectRequest('INVITE'), 486);
    expect(elapsed()).toBeLessThan(500);
    expect((await alice.expectResponse(req)).status).toBe(486);
  });
});

describe('hunt: overlapping legs and endings', () => {
  /*
   *  alice          Siplet (hunt)        desk (0)      mobile (150)     voicemail (300)
   *    | INVITE ----> | INVITE ---------> |               |                 |
   *    |              | INVITE (150 ms) -------------->  |                 |
   *    |              | INVITE (300 ms) ----------------------------------> |   three legs ring
   *    |              | <------------------------------------------------ 200 |
   *    |              | CANCEL ---------> | CANCEL -----> |                 |
   *    | <------- 200 |                   |               |                 |
   */
  it('lets three legs ring together and cancels the two others when the last one answers', async () => {
    reset({
      run: (req) =>
        hunt(req, [
          { uri: desk.uri, delayMs: 0, timeoutMs: 3000 },
          { uri: mobile.uri, delayMs: 150, timeoutMs: 3000 },
          { uri: voicemail.uri, delayMs: 300, timeoutMs: 3000 },
        ]),
    });
    const req = call();
    await alice.send(req);
    const atDesk = await desk.expectRequest('INVITE');
    await desk.respond(atDesk, 180, { toTag: 'd' });
    const atMobile = await mobile.expectRequest('INVITE');
    await mobile.respond(atMobile, 180, { toTag: 'm' });
    const atVoicemail = await voicemail.expectRequest('INVITE');
    await voicemail.respond(atVoicemail, 200, { toTag: 'v' });
    const ok = await alice.expectResponse(req, 200);
    expect(ok.to.tag).toBe('v');
    for (const [ua, invite, tag] of [[desk, atDesk, 'd'], [mobile, atMobile, 'm']] as const) {
      const cancel = await ua.expectRequest('CANCEL');
      await ua.respond(cancel, 200);
      await ua.respond(invite, 487, { toTag: tag });
    }
    await alice.ack(req, ok);
    await until(() => outcomes.length === 1, 'the outcome');
    expect(outcomes[0]?.answered).toBe(true);
  });

  /*
   *  alice          Siplet (hunt)           desk (0)          mobile (400 ms)
   *    | INVITE ----> | INVITE -------------> |                    |
   *    |              | <----------------- 180 |                    |
   *    | CANCEL ----> | CANCEL -------------> |                    |
   *    | <-- 200      | <------------ 200, 487 |                    |
   *    | <------- 487 |   mobile's leg never starts                 |
   */
  it('starts no waiting leg after the caller cancels', async () => {
    reset({ run: (req) => hunt(req, [{ uri: desk.uri }, { uri: mobile.uri, delayMs: 400 }]) });
    const req = call();
    await alice.send(req);
    const atDesk = await desk.expectRequest('INVITE');
    await desk.respond(atDesk, 180, { toTag: 'd' });
    await alice.expectResponse(req, 180);
    const cancel = await alice.cancel(req);
    await alice.expectResponse(cancel);
    await desk.respond(await desk.expectRequest('CANCEL'), 200);
    await desk.respond(atDesk, 487, { toTag: 'd' });
    expect((await alice.expectResponse(req)).status).toBe(487);
    await settle(600);
    expect(mobile.received).toHaveLength(0);
    expect(outcomes[0]).toMatchObject({ answered: false, status: 487 });
  });

  /*
   *  alice          Siplet (hunt)           desk (0)          mobile (300 ms)
   *    | INVITE ----> | INVITE -------------> |                    |
   *    |              | <----------------- 603 |                    |
   *    | <------- 603 |   a 6xx ends the hunt (RFC 3261 §16.7); mobile never rings
   */
  it('ends the hunt on a 6xx', async () => {
    reset({ run: (req) => hunt(req, [{ uri: desk.uri }, { uri: mobile.uri, delayMs: 300 }]) });
    const req = call();
    await alice.send(req);
    await desk.respond(await desk.expectRequest('INVITE'), 603);
    expect((await alice.expectResponse(req)).status).toBe(603);
    await settle(500);
    expect(mobile.received).toHaveLength(0);
    expect(outcomes[0]).toMatchObject({ answered: false, status: 603 });
  });
});
