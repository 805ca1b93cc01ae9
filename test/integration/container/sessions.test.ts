/**
 * SIP sessions and application sessions as an app sees them (JSR 289 §6):
 * the session state machine, attributes, explicit invalidation,
 * invalidate-when-ready, and application-session expiry.
 *
 *   alice (scripted)            Siplet: app "sessions"
 *      | INVITE ------------------> | doInvite: state INITIAL
 *      | <------------------- 180   |   → EARLY
 *      | <------------------- 200   |   → CONFIRMED
 *      | ACK ---------------------> | doAck: CONFIRMED
 *      | BYE ---------------------> | doBye → 200: TERMINATED
 *      | <------------------- 200   |   sessions gone once ready
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  inject,
  SIP_FACTORY,
  SipApplication,
  SipApplicationKey,
  SipListener,
  SipServlet,
  type SipApplicationSession,
  type SipApplicationSessionEvent,
  type SipApplicationSessionListener,
  type SipFactory,
  type SipServletResponse,
  type SipServletRequest,
  type SipSession,
} from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { gate, live, settle, until, type Gate } from './helpers.js';

const route = (app: string): string =>
  ['INVITE', 'MESSAGE', 'OPTIONS', 'INFO'].map((m) => `${m}: ("${app}", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")`).join('\n');

let siplet: TestSiplet | undefined;
afterEach(async () => {
  await siplet?.close();
  siplet = undefined;
  vi.useRealTimers();
});

const NONE = { applicationSessions: 0, sipSessions: 0, dialogs: 0 };

/** INVITE → 200 → ACK from `ua`; returns the INVITE and its 200. */
async function call(ua: ScriptedUa, to = 'sip:bob@127.0.0.1') {
  const invite = ua.createRequest('INVITE', { to, body: 'v=0\r\n' });
  await ua.send(invite);
  const ok = await ua.expectResponse(invite, 200);
  await ua.ack(invite, ok);
  return { invite, ok };
}

// ---- state machine and attributes ---------------------------------------------------

const states: string[] = [];
const reads: Record<string, unknown> = {};

@SipApplication({ name: 'sessions' })
@SipServlet({ name: 'states' })
class StateServlet extends SipServlet {
  override async doInvite(req: SipServletRequest): Promise<void> {
    const session = req.getSession();
    states.push(`invite:${session.getState()}`);
    session.setAttribute('caller', req.getFrom().uri.toString());
    req.getApplicationSession().setAttribute('hits', 1);
    await req.createResponse(180).send();
    states.push(`after180:${session.getState()}`);
    await req.createResponse(200).send();
    states.push(`after200:${session.getState()}`);
  }
  override doAck(req: SipServletRequest): void {
    const session = req.getSession();
    states.push(`ack:${session.getState()}`);
    const appSession = req.getApplicationSession();
    appSession.setAttribute('hits', (appSession.getAttribute<number>('hits') ?? 0) + 1);
  }
  override async doInfo(req: SipServletRequest): Promise<void> {
    const session = req.getSession();
    const appSession = req.getApplicationSession();
    reads['caller'] = session.getAttribute('caller');
    reads['hits'] = appSession.getAttribute('hits');
    reads['names'] = [...session.getAttributeNames(), ...appSession.getAttributeNames()];
    session.removeAttribute('caller');
    reads['afterRemove'] = session.getAttribute('caller');
    reads['sameSession'] = appSession.getSessions().map((s) => s.getId()).includes(session.getId());
    await req.createResponse(200).send();
  }
  override async doBye(req: SipServletRequest): Promise<void> {
    const session = req.getSession();
    states.push(`bye:${session.getState()}`);
    await req.createResponse(200).send();
    states.push(`after-bye-200:${session.getState()}`);
  }
}

describe('SipSession state and attributes', () => {
  it('goes INITIAL → EARLY (180 with a tag) → CONFIRMED (200) → TERMINATED (BYE answered), as the app reads it', async () => {
    states.length = 0;
    siplet = await createTestSiplet({ apps: [{ exports: { StateServlet } }], dar: route('sessions') });
    const alice = await siplet.ua('alice');
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@127.0.0.1' });
    await alice.send(invite);
    const ringing = await alice.expectResponse(invite, 180);
    const ok = await alice.expectResponse(invite, 200);
    expect(ringing.to.tag).toBeDefined();
    expect(ok.to.tag).toBe(ringing.to.tag);
    await alice.ack(invite, ok);
    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    expect((await alice.expectResponse(bye)).status).toBe(200);
    await until(() => states.length === 6, 'doBye to finish');
    expect(states).toEqual([
      'invite:INITIAL',
      'after180:EARLY',
      'after200:CONFIRMED',
      'ack:CONFIRMED',
      'bye:CONFIRMED',
      'after-bye-200:TERMINATED',
    ]);
    await until(() => siplet?.container.stats().sessions.applicationSessions === 0, 'the sessions to go');
    expect(live(siplet.container.stats().sessions)).toEqual(NONE);
  });

  it('keeps attributes of the SipSession and the SipApplicationSession across the dialog', async () => {
    siplet = await createTestSiplet({ apps: [{ exports: { StateServlet } }], dar: route('sessions') });
    const alice = await siplet.ua('alice');
    const { invite, ok } = await call(alice);
    const info = alice.createInDialog(invite, ok, 'INFO');
    await alice.send(info);
    expect((await alice.expectResponse(info)).status).toBe(200);
    expect(reads).toMatchObject({
      caller: alice.uri.toString(),
      hits: 2,
      afterRemove: undefined,
      sameSession: true,
    });
    expect(reads['names']).toEqual(expect.arrayContaining(['caller', 'hits']));
  });
});

// ---- invalidate() and invalidate-when-ready -----------------------------------------

interface Kept {
  app?: SipApplicationSession;
  session?: SipSession;
  validAfterInvalidate?: boolean;
  errors: string[];
}
const kept: Kept = { errors: [] };
/** Forgets what the last test kept (a function, so that TypeScript does not narrow `kept` for good). */
function resetKept(): void {
  Object.assign(kept, { app: undefined, session: undefined, validAfterInvalidate: undefined, errors: [] });
}

@SipApplication({ name: 'ender' })
@SipServlet({ name: 'ender' })
class EnderServlet extends SipServlet {
  override async doInvite(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
  }
  override async doInfo(req: SipServletRequest): Promise<void> {
    // Answer, then end everything of the call at once.
    await req.createResponse(200).send();
    const appSession = req.getApplicationSession();
    kept.session = req.getSession();
    appSession.invalidate();
    kept.validAfterInvalidate = appSession.isValid() || req.getSession().isValid();
    try {
      appSession.setAttribute('late', 1);
    } catch (error) {
      kept.errors.push((error as Error).name);
    }
  }
  override async doMessage(req: SipServletRequest): Promise<void> {
    if (req.getHeader('X-Keep') === 'yes') {
      req.getSession().setInvalidateWhenReady(false);
      req.getApplicationSession().setInvalidateWhenReady(false);
    }
    await req.createResponse(200).send();
    if (req.getHeader('X-Keep') === 'after') {
      // JSR 289 §6.1.2.2.2: the container checks readiness once the servlet is done with the message.
      req.getSession().setInvalidateWhenReady(false);
      req.getApplicationSession().setInvalidateWhenReady(false);
      req.getSession().setAttribute('still', 'here');
    }
    kept.app = req.getApplicationSession();
    kept.session = req.getSession();
  }
  override async doOptions(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
  }
  override async doBye(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
  }
}

describe('invalidation', () => {
  it('invalidate() on the application session ends its SIP sessions; the dialog is gone (481)', async () => {
    resetKept();
    siplet = await createTestSiplet({ apps: [{ exports: { EnderServlet } }], dar: route('ender') });
    const alice = await siplet.ua('alice');
    const { invite, ok } = await call(alice);
    expect(live(siplet.container.stats().sessions)).toEqual({ applicationSessions: 1, sipSessions: 1, dialogs: 1 });
    const info = alice.createInDialog(invite, ok, 'INFO');
    await alice.send(info);
    expect((await alice.expectResponse(info)).status).toBe(200);
    await until(() => kept.validAfterInvalidate !== undefined, 'doInfo to finish');
    expect(kept.validAfterInvalidate).toBe(false);
    expect(kept.session?.getState()).toBe('TERMINATED');
    expect(kept.errors).toEqual(['IllegalStateError']);
    expect(live(siplet.container.stats().sessions)).toEqual(NONE);
    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    expect((await alice.expectResponse(bye)).status).toBe(481);
  });

  it('invalidates when ready by default: after a short call, a MESSAGE and an OPTIONS nothing is left', async () => {
    siplet = await createTestSiplet({ apps: [{ exports: { EnderServlet } }], dar: route('ender') });
    const alice = await siplet.ua('alice');
    const { invite, ok } = await call(alice);
    const bye = alice.createInDialog(invite, ok, 'BYE');
    await alice.send(bye);
    expect((await alice.expectResponse(bye)).status).toBe(200);
    for (const method of ['MESSAGE', 'OPTIONS']) {
      const req = alice.createRequest(method, { to: 'sip:bob@127.0.0.1' });
      await alice.send(req);
      expect((await alice.expectResponse(req)).status).toBe(200);
    }
    await until(() => siplet?.container.stats().sessions.applicationSessions === 0, 'the sessions to go');
    expect(live(siplet.container.stats().sessions)).toEqual(NONE);
    expect(siplet.container.stats().sessions.created.applicationSessions).toBe(3);
  });
});

describe('setInvalidateWhenReady(false)', () => {
  for (const when of ['yes', 'after'] as const) {
    it(`keeps both sessions after a standalone MESSAGE (flag set ${when === 'yes' ? 'before' : 'after'} the 200 is sent) until the app invalidates them`, async () => {
      resetKept();
      siplet = await createTestSiplet({ apps: [{ exports: { EnderServlet } }], dar: route('ender') });
      const alice = await siplet.ua('alice');
      const msg = alice.createRequest('MESSAGE', { to: 'sip:bob@127.0.0.1', headers: { 'X-Keep': when }, body: 'hi', contentType: 'text/plain' });
      await alice.send(msg);
      expect((await alice.expectResponse(msg)).status).toBe(200);
      await until(() => kept.app !== undefined, 'doMessage to finish');
      await settle();
      expect(live(siplet.container.stats().sessions)).toEqual({ applicationSessions: 1, sipSessions: 1, dialogs: 0 });
      expect(kept.session?.isValid()).toBe(true);
      expect(kept.session?.isReadyToInvalidate()).toBe(true);
      expect(kept.app?.isReadyToInvalidate()).toBe(true);
      expect(kept.app?.getInvalidateWhenReady()).toBe(false);
      kept.app?.invalidate();
      expect(kept.session?.isValid()).toBe(false);
      expect(live(siplet.container.stats().sessions)).toEqual(NONE);
    });
  }

  it('turning the flag back on invalidates a ready session', async () => {
    resetKept();
    siplet = await createTestSiplet({ apps: [{ exports: { EnderServlet } }], dar: route('ender') });
    const alice = await siplet.ua('alice');
    const msg = alice.createRequest('MESSAGE', { to: 'sip:bob@127.0.0.1', headers: { 'X-Keep': 'yes' }, body: 'hi', contentType: 'text/plain' });
    await alice.send(msg);
    await alice.expectResponse(msg, 200);
    await until(() => kept.app !== undefined, 'doMessage to finish');
    kept.session?.setInvalidateWhenReady(true);
    kept.app?.setInvalidateWhenReady(true);
    await until(() => kept.app?.isValid() === false, 'the application session to be invalidated');
    expect(live(siplet.container.stats().sessions)).toEqual(NONE);
  });
});

// ---- application-session expiry ------------------------------------------------------

const expiry: string[] = [];
/** Opened by the test: a MESSAGE with X-Gate waits for it before answering. */
let expiryGate: Gate | undefined;

@SipApplication({ name: 'expiry', sessionTimeout: 1 })
@SipServlet({ name: 'expiry' })
class ExpiryServlet extends SipServlet {
  @SipApplicationKey()
  static key(req: SipServletRequest): string | undefined {
    return req.getHeader('X-Key');
  }
  override async doMessage(req: SipServletRequest): Promise<void> {
    const appSession = req.getApplicationSession();
    appSession.setInvalidateWhenReady(false);
    const extend = req.getHeader('X-Extend');
    if (extend !== undefined) appSession.setAttribute('extend', Number(extend));
    const expires = req.getHeader('X-Expires');
    if (expires !== undefined) appSession.setExpires(Number(expires));
    expiry.push(`message:${appSession.getId()}`);
    if (req.getHeader('X-Gate') !== undefined) await expiryGate?.promise;
    await req.createResponse(200).send();
  }
}

@SipListener({ kinds: ['applicationSession'] })
class ExpiryListener implements SipApplicationSessionListener {
  sessionExpired({ session }: SipApplicationSessionEvent): void {
    expiry.push('expired');
    const extend = session.getAttribute<number>('extend') ?? 0;
    if (extend > 0) {
      session.setAttribute('extend', extend - 1);
      session.setExpires(1);
    }
  }
  sessionDestroyed(): void {
    expiry.push('destroyed');
  }
}

describe('application-session expiry', () => {
  const fake = (): void => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  const minutes = async (m: number): Promise<void> => {
    await vi.advanceTimersByTimeAsync(m * 60_000);
  };

  async function message(ua: ScriptedUa, headers: Record<string, string>): Promise<void> {
    const msg = ua.createRequest('MESSAGE', { to: 'sip:bob@127.0.0.1', headers, body: 'hi', contentType: 'text/plain' });
    await ua.send(msg);
    expect((await ua.expectResponse(msg)).status).toBe(200);
    await vi.advanceTimersByTimeAsync(0);
  }

  it('expires sessionTimeout minutes after the last access: sessionExpired, then invalidated and sessionDestroyed', async () => {
    fake();
    expiry.length = 0;
    siplet = await createTestSiplet({ apps: [{ exports: { ExpiryServlet, ExpiryListener } }], dar: route('expiry') });
    const alice = await siplet.ua('alice');
    await message(alice, { 'X-Key': 'a' });
    expect(siplet.container.stats().sessions.applicationSessions).toBe(1);
    await minutes(0.75);
    // Activity slides the expiry: a second request of the same application session at 45 s.
    await message(alice, { 'X-Key': 'a' });
    expect(expiry.filter((e) => e.startsWith('message'))).toHaveLength(2);
    expect(new Set(expiry.filter((e) => e.startsWith('message'))).size).toBe(1);
    await minutes(0.75);
    expect(expiry).not.toContain('expired');
    await minutes(0.3);
    expect(expiry.slice(-2)).toEqual(['expired', 'destroyed']);
    expect(live(siplet.container.stats().sessions)).toEqual(NONE);
  });

  it('a sessionExpired listener that calls setExpires keeps the session valid for that long', async () => {
    fake();
    expiry.length = 0;
    siplet = await createTestSiplet({ apps: [{ exports: { ExpiryServlet, ExpiryListener } }], dar: route('expiry') });
    const alice = await siplet.ua('alice');
    await message(alice, { 'X-Extend': '1' });
    const appSession = siplet.container.sessions.applicationSessionsOf('expiry')[0];
    await minutes(1.01);
    expect(expiry.slice(1)).toEqual(['expired']);
    expect(appSession?.isValid()).toBe(true);
    expect(appSession?.getExpirationTime()).toBeGreaterThan(Date.now() + 55_000);
    await minutes(0.9);
    expect(appSession?.isValid()).toBe(true);
    await minutes(0.2);
    expect(expiry.slice(1)).toEqual(['expired', 'expired', 'destroyed']);
    expect(appSession?.isValid()).toBe(false);
    expect(live(siplet.container.stats().sessions)).toEqual(NONE);
  });

  /*
   *   alice                       Siplet "expiry" (sessionTimeout 1 min)
   *     | MESSAGE (gate) t=0 ---> | handler waits past the expiry time
   *     |                  t=60 s |   expiry due: queued behind the handler
   *     | MESSAGE t=61 s -------> |   queued behind the expiry
   *     |         (gate opens)    | 200, then the second MESSAGE runs first
   *     | <--------------- 200 x2 |   (activity): the session does not expire
   */
  it('does not expire a session under a request that was queued before the expiry ran', async () => {
    fake();
    expiry.length = 0;
    expiryGate = gate();
    siplet = await createTestSiplet({ apps: [{ exports: { ExpiryServlet, ExpiryListener } }], dar: route('expiry') });
    const alice = await siplet.ua('alice');
    const first = alice.createRequest('MESSAGE', { to: 'sip:bob@127.0.0.1', headers: { 'X-Key': 'q', 'X-Gate': 'yes' }, body: '1', contentType: 'text/plain' });
    await alice.send(first);
    await vi.advanceTimersByTimeAsync(0);
    await minutes(1.01);
    const second = alice.createRequest('MESSAGE', { to: 'sip:bob@127.0.0.1', headers: { 'X-Key': 'q' }, body: '2', contentType: 'text/plain' });
    await alice.send(second);
    await vi.advanceTimersByTimeAsync(0);
    expiryGate.open();
    expect((await alice.expectResponse(first)).status).toBe(200);
    expect((await alice.expectResponse(second)).status).toBe(200);
    expect(expiry).not.toContain('expired');
    const [appSession] = siplet.container.sessions.applicationSessionsOf('expiry');
    expect(appSession?.isValid()).toBe(true);
    await minutes(1.01);
    expect(expiry.slice(-2)).toEqual(['expired', 'destroyed']);
  });

  it('setExpires from a handler sets the deadline; 0 or less never expires', async () => {
    fake();
    expiry.length = 0;
    siplet = await createTestSiplet({ apps: [{ exports: { ExpiryServlet, ExpiryListener } }], dar: route('expiry') });
    const alice = await siplet.ua('alice');
    const start = Date.now();
    await message(alice, { 'X-Expires': '3' });
    await message(alice, { 'X-Expires': '0' });
    const [three, never] = siplet.container.sessions.applicationSessionsOf('expiry');
    expect(three?.getExpirationTime()).toBe(start + 3 * 60_000);
    expect(never?.getExpirationTime()).toBe(0);
    await minutes(2.9);
    expect(three?.isValid()).toBe(true);
    await minutes(0.2);
    expect(three?.isValid()).toBe(false);
    await minutes(60);
    expect(never?.isValid()).toBe(true);
    expect(expiry.filter((e) => e === 'expired')).toHaveLength(1);
  });
});

// ---- a standalone request the app sends ----------------------------------------------

const uac: string[] = [];

@SipApplication({ name: 'sender' })
@SipServlet({ name: 'sender' })
class SenderServlet extends SipServlet {
  constructor(@inject(SIP_FACTORY) private readonly factory: SipFactory) {
    super();
  }
  override async doOptions(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
    const appSession = this.factory.createApplicationSession();
    // To the caller's Contact: where it can be reached (with its transport).
    const contact = req.getAddressHeader('Contact') ?? req.getFrom();
    const msg = this.factory.createRequest({ appSession, method: 'MESSAGE', from: 'sip:app@127.0.0.1', to: contact.uri });
    msg.setContent('hello', 'text/plain');
    await msg.send();
    uac.push(`sent:${msg.getSession().getState()}`);
  }
  override doSuccessResponse(res: SipServletResponse): void {
    const session = res.getSession();
    uac.push(`${res.getStatus()}:${session.isValid()}:${session.getApplicationSession().isValid()}`);
    session.getApplicationSession().setAttribute('answered', true);
  }
}

describe('a standalone request the app sends (UAC)', () => {
  /*
   *   alice                       Siplet: app "sender"
   *     | OPTIONS ----------------> | doOptions → 200, then SipFactory MESSAGE
   *     | <------------------ 200   |
   *     | <-------------- MESSAGE   |
   *     | 200 --------------------> | doSuccessResponse: sessions still valid
   *     |                           |   then invalidated when ready
   */
  it('hands the final response to the servlet with its sessions valid, then invalidates them', async () => {
    uac.length = 0;
    siplet = await createTestSiplet({ apps: [{ exports: { SenderServlet } }], dar: route('sender') });
    const alice = await siplet.ua('alice');
    const options = alice.createRequest('OPTIONS', { to: 'sip:bob@127.0.0.1' });
    await alice.send(options);
    await alice.expectResponse(options, 200);
    const msg = await alice.expectRequest('MESSAGE');
    await alice.respond(msg, 200);
    await until(() => uac.length === 2, 'doSuccessResponse');
    expect(uac).toEqual(['sent:INITIAL', '200:true:true']);
    await until(() => siplet?.container.stats().sessions.applicationSessions === 0, 'the sessions to go');
    expect(live(siplet.container.stats().sessions)).toEqual(NONE);
  });
});
