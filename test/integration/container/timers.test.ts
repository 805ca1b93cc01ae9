/**
 * The TimerService (JSR 289 §17): timers an app creates in an application
 * session reach its TimerListener, serialised with the session's messages.
 *
 *   alice (scripted)            Siplet: app "timers"
 *      | MESSAGE (X-Timer) -----> | doMessage: TimerService.createTimer(appSession, …) → 200
 *      | <------------------- 200 |   the SIP session is done; the timer holds the app session
 *      |                          | … TimerListener.timeout(timer): getInfo()
 *      |                          |   one-shot fired → nothing holds the app session: invalidated
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  inject,
  SipApplication,
  SipListener,
  SipServlet,
  TIMER_SERVICE,
  type ServletTimer,
  type SipApplicationSession,
  type SipServletRequest,
  type TimerListener,
  type TimerService,
} from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { gate, live, settle, until, type Gate } from './helpers.js';

const DAR = ['INVITE', 'MESSAGE', 'INFO', 'BYE'].map((m) => `${m}: ("timers", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")`).join('\n');
const NONE = { applicationSessions: 0, sipSessions: 0, dialogs: 0 };

let siplet: TestSiplet | undefined;
afterEach(async () => {
  await siplet?.close();
  siplet = undefined;
});

interface Fired {
  info: unknown;
  appSession: string;
  valid: boolean;
}
const fired: Fired[] = [];
const created: { timer?: ServletTimer; appSession?: SipApplicationSession } = {};
/** Ticks after which a periodic timer's listener cancels it, or invalidates its session. */
const stopAfter = { cancel: 0, invalidate: 0 };
/** Handler entries and exits, and timeouts, in the order they happened. */
const order: string[] = [];
let timerGate: Gate | undefined;

/**
 * X-Timer: "<delay>" one-shot, "<delay>/<period>" periodic; X-Persistent: "no"
 * for a timer that does not hold its session; X-Cancel: "yes" cancels it at once.
 */
@SipApplication({ name: 'timers' })
@SipServlet({ name: 'timers' })
class TimerServlet extends SipServlet {
  constructor(@inject(TIMER_SERVICE) private readonly timers: TimerService) {
    super();
  }

  #create(req: SipServletRequest): void {
    const spec = req.getHeader('X-Timer');
    if (spec === undefined) return;
    const [delay, period] = spec.split('/').map(Number);
    const appSession = req.getApplicationSession();
    const timer = this.timers.createTimer(appSession, {
      delay: delay ?? 0,
      period,
      persistent: req.getHeader('X-Persistent') !== 'no',
      info: { from: req.getMethod(), body: req.getContent() },
    });
    created.timer = timer;
    created.appSession = appSession;
    if (req.getHeader('X-Cancel') === 'yes') timer.cancel();
  }

  override async doMessage(req: SipServletRequest): Promise<void> {
    this.#create(req);
    if (req.getHeader('X-Gate') !== undefined) {
      order.push('message:enter');
      await timerGate?.promise;
      order.push('message:exit');
    }
    await req.createResponse(200).send();
  }

  override async doInvite(req: SipServletRequest): Promise<void> {
    this.#create(req);
    await req.createResponse(200).send();
  }

  /** INFO in the call cancels the app session's timers. */
  override async doInfo(req: SipServletRequest): Promise<void> {
    for (const t of req.getApplicationSession().getTimers()) t.cancel();
    await req.createResponse(200, `timers left ${req.getApplicationSession().getTimers().length}`).send();
  }

  override async doBye(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
  }
}

@SipListener()
class Timeouts implements TimerListener {
  timeout(timer: ServletTimer): void {
    const appSession = timer.getApplicationSession();
    fired.push({ info: timer.getInfo(), appSession: appSession.getId(), valid: appSession.isValid() });
    order.push('timeout');
    const n = fired.length;
    if (stopAfter.cancel > 0 && n === stopAfter.cancel) timer.cancel();
    if (stopAfter.invalidate > 0 && n === stopAfter.invalidate) appSession.invalidate();
  }
}

async function message(ua: ScriptedUa, headers: Record<string, string>, body = 'tick'): Promise<void> {
  const msg = ua.createRequest('MESSAGE', { to: 'sip:bob@127.0.0.1', headers, body, contentType: 'text/plain' });
  await ua.send(msg);
  expect((await ua.expectResponse(msg)).status).toBe(200);
}

async function start(): Promise<ScriptedUa> {
  fired.length = 0;
  created.timer = undefined;
  created.appSession = undefined;
  stopAfter.cancel = 0;
  stopAfter.invalidate = 0;
  order.length = 0;
  siplet = await createTestSiplet({ apps: [{ exports: { TimerServlet, Timeouts } }], dar: DAR });
  return siplet.ua('alice');
}

describe('TimerService', () => {
  it('fires a one-shot timer into the TimerListener with its info; the persistent timer kept the session alive until then', async () => {
    const alice = await start();
    await message(alice, { 'X-Timer': '150' }, 'one');
    await settle(5);
    // The SIP session is done, the application session waits for its timer.
    expect(live(siplet!.container.stats().sessions)).toEqual({ applicationSessions: 1, sipSessions: 0, dialogs: 0 });
    expect(created.appSession?.getTimers()).toHaveLength(1);
    expect(created.timer?.getTimeRemaining()).toBeGreaterThan(0);
    expect(created.timer?.getTimeRemaining()).toBeLessThanOrEqual(150);
    expect(fired).toEqual([]);
    await until(() => fired.length === 1, 'the timer to fire', 2000);
    expect(fired[0]).toEqual({ info: { from: 'MESSAGE', body: 'one' }, appSession: created.appSession?.getId(), valid: true });
    await until(() => created.appSession?.isValid() === false, 'the application session to be invalidated');
    expect(live(siplet!.container.stats().sessions)).toEqual(NONE);
    await settle(60);
    expect(fired).toHaveLength(1);
  });

  it('fires a periodic timer until the listener cancels it', async () => {
    const alice = await start();
    stopAfter.cancel = 3;
    await message(alice, { 'X-Timer': '10/15' });
    await until(() => fired.length === 3, 'three ticks', 2000);
    await settle(60);
    expect(fired).toHaveLength(3);
    expect(new Set(fired.map((f) => f.appSession)).size).toBe(1);
    // Cancelled: nothing holds the application session any more.
    await until(() => siplet?.container.stats().sessions.applicationSessions === 0, 'the application session to go');
    expect(created.timer?.getTimeRemaining()).toBe(0);
  });

  it('never fires a timer cancelled right after it was created', async () => {
    const alice = await start();
    await message(alice, { 'X-Timer': '10', 'X-Cancel': 'yes' });
    await settle(50);
    expect(fired).toEqual([]);
    expect(live(siplet!.container.stats().sessions)).toEqual(NONE);
  });

  it('cancels the timers of an application session when it is invalidated', async () => {
    const alice = await start();
    stopAfter.invalidate = 2;
    await message(alice, { 'X-Timer': '10/10' });
    await until(() => fired.length === 2, 'two ticks');
    expect(created.appSession?.isValid()).toBe(false);
    expect(created.appSession?.getTimers()).toEqual([]);
    await settle(60);
    expect(fired).toHaveLength(2);
    expect(live(siplet!.container.stats().sessions)).toEqual(NONE);
  });

  it('drops a non-persistent timer with its session: it does not keep the session alive', async () => {
    const alice = await start();
    await message(alice, { 'X-Timer': '30', 'X-Persistent': 'no' });
    await until(() => created.appSession?.isValid() === false, 'the application session to be invalidated');
    await settle(60);
    expect(fired).toEqual([]);
  });

  /*
   *   alice                      Siplet "timers"
   *     | INVITE (X-Timer 10 s) -> | timer created in the call's application session
   *     | <------------------ 200  |
   *     | ACK -------------------> |
   *     | INFO ------------------> | cancels the session's timers
   *     | <------------------ 200  |   "timers left 0"
   *     | BYE -------------------> |
   *     | <------------------ 200  | nothing holds the session: gone at once
   */
  it('a cancelled timer no longer holds the call\'s application session', async () => {
    const alice = await start();
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@127.0.0.1', headers: { 'X-Timer': '10000' } });
    await alice.send(invite);
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);
    expect(created.appSession?.getTimers()).toHaveLength(1);
    const info = alice.createInDialog(invite, ok, 'INFO');
    await alice.send(info);
    const infoOk = await alice.expectResponse(info, 200);
    expect(infoOk.reason).toBe('timers left 0');
    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    await alice.expectResponse(bye, 200);
    await until(() => created.appSession?.isValid() === false, 'the application session to be invalidated');
    expect(live(siplet!.container.stats().sessions)).toEqual(NONE);
    expect(fired).toEqual([]);
  });

  it('runs a timeout after the handler of its application session that is still awaiting', async () => {
    const alice = await start();
    timerGate = gate();
    const msg = alice.createRequest('MESSAGE', { to: 'sip:bob@127.0.0.1', headers: { 'X-Timer': '5', 'X-Gate': 'yes' }, body: 'x', contentType: 'text/plain' });
    await alice.send(msg);
    await settle(40);
    // Due long ago, but the handler has not returned.
    expect(order).toEqual(['message:enter']);
    timerGate.open();
    expect((await alice.expectResponse(msg)).status).toBe(200);
    await until(() => order.length === 3, 'the timeout');
    expect(order).toEqual(['message:enter', 'message:exit', 'timeout']);
  });
});
