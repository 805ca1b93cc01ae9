/**
 * Listeners (JSR 289 §6.3, §7): what an app's @SipListener classes hear about
 * its servlets, sessions, attributes and UAS errors, and that a listener that
 * throws does not break the call.
 *
 *   alice (scripted)            Siplet: app "listen"
 *      |                          | deploy: servletInitialized(eager)
 *      | INVITE ------------------> | app session created, SIP session created
 *      |                          | servletInitialized(main) on its first message
 *      |                          | doInvite: attributes added / replaced / removed
 *      | <------------------- 200   |
 *      | ACK ---------------------> |
 *      | BYE ---------------------> |
 *      | <------------------- 200   | SIP session ready, destroyed, attributes removed;
 *      |                          |   app session ready, destroyed, attributes removed
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  SipApplication,
  SipListener,
  SipServlet,
  type AttributeEvent,
  type SipApplicationSession,
  type SipApplicationSessionEvent,
  type SipErrorEvent,
  type SipServletRequest,
  type SipSession,
  type SipSessionEvent,
} from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { capturingLogger, gate, live, settle, until, type Gate } from './helpers.js';

const dar = (app: string): string =>
  ['INVITE', 'MESSAGE', 'BYE'].map((m) => `${m}: ("${app}", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")`).join('\n');
const NONE = { applicationSessions: 0, sipSessions: 0, dialogs: 0 };

let siplet: TestSiplet | undefined;
afterEach(async () => {
  await siplet?.close();
  siplet = undefined;
});

async function shortCall(ua: ScriptedUa): Promise<void> {
  const invite = ua.createRequest('INVITE', { to: 'sip:bob@127.0.0.1' });
  await ua.send(invite);
  const ok = await ua.expectResponse(invite, 200);
  await ua.ack(invite, ok);
  const bye = ua.createInDialog(invite, ok, 'BYE');
  await ua.send(bye);
  expect((await ua.expectResponse(bye)).status).toBe(200);
}

// ---- every listener kind ------------------------------------------------------------

const heard: string[] = [];
const ids = { app: '', sip: '' };

@SipApplication({ name: 'listen', mainServlet: 'main' })
@SipServlet({ name: 'main' })
class MainServlet extends SipServlet {
  override async doInvite(req: SipServletRequest): Promise<void> {
    const session = req.getSession();
    const appSession = req.getApplicationSession();
    ids.app = appSession.getId();
    ids.sip = session.getId();
    session.setAttribute('a', 1);
    session.setAttribute('a', 2);
    session.removeAttribute('a');
    session.removeAttribute('never-set');
    appSession.setAttribute('b', 'x');
    appSession.setAttribute('b', 'y');
    appSession.removeAttribute('b');
    // Kept until the sessions are invalidated.
    session.setAttribute('k', 1);
    appSession.setAttribute('K', 'v');
    await req.createResponse(200).send();
  }
  override async doBye(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
  }
}

@SipServlet({ name: 'eager', loadOnStartup: 1 })
class EagerServlet extends SipServlet {}

@SipListener({ kinds: ['servlet'] })
class ServletEvents {
  servletInitialized({ servletName }: { servletName: string }): void {
    heard.push(`servlet:initialized:${servletName}`);
  }
}

const who = (s: SipApplicationSession | SipSession): string => (s.getId() === ids.app ? 'app' : s.getId() === ids.sip ? 'sip' : s.getId());

@SipListener({ kinds: ['applicationSession'] })
class ApplicationSessionEvents {
  sessionCreated({ session }: SipApplicationSessionEvent): void {
    heard.push(`app:created:${session.getApplicationName()}`);
  }
  sessionReadyToInvalidate({ session }: SipApplicationSessionEvent): void {
    heard.push(`app:ready:${who(session)}`);
  }
  sessionDestroyed({ session }: SipApplicationSessionEvent): void {
    heard.push(`app:destroyed:${who(session)}:${session.isValid()}:K=${String(session.getAttribute('K'))}`);
  }
}

@SipListener({ kinds: ['session'] })
class SipSessionEvents {
  sessionCreated({ session }: SipSessionEvent): void {
    heard.push(`sip:created:${session.getState()}`);
  }
  sessionReadyToInvalidate({ session }: SipSessionEvent): void {
    heard.push(`sip:ready:${who(session)}:${session.getState()}`);
  }
  sessionDestroyed({ session }: SipSessionEvent): void {
    heard.push(`sip:destroyed:${who(session)}:${session.isValid()}:k=${String(session.getAttribute('k'))}`);
  }
}

@SipListener({ kinds: ['sessionAttribute'] })
class SipSessionAttributes {
  attributeAdded({ name, value }: AttributeEvent<SipSession>): void {
    heard.push(`sip-attr:added:${name}=${String(value)}`);
  }
  attributeReplaced({ name, value }: AttributeEvent<SipSession>): void {
    heard.push(`sip-attr:replaced:${name}=${String(value)}`);
  }
  attributeRemoved({ name, value }: AttributeEvent<SipSession>): void {
    heard.push(`sip-attr:removed:${name}=${String(value)}`);
  }
}

@SipListener({ kinds: ['applicationSessionAttribute'] })
class ApplicationSessionAttributes {
  attributeAdded({ name, value }: AttributeEvent<SipApplicationSession>): void {
    heard.push(`app-attr:added:${name}=${String(value)}`);
  }
  attributeReplaced({ name, value }: AttributeEvent<SipApplicationSession>): void {
    heard.push(`app-attr:replaced:${name}=${String(value)}`);
  }
  attributeRemoved({ name, value }: AttributeEvent<SipApplicationSession>): void {
    heard.push(`app-attr:removed:${name}=${String(value)}`);
  }
}

const LISTEN_APP = {
  exports: { MainServlet, EagerServlet, ServletEvents, ApplicationSessionEvents, SipSessionEvents, SipSessionAttributes, ApplicationSessionAttributes },
};

describe('listeners', () => {
  it('servletInitialized: at deployment for a loadOnStartup servlet, on the first message for the others', async () => {
    heard.length = 0;
    siplet = await createTestSiplet({ apps: [LISTEN_APP], dar: dar('listen') });
    expect(heard).toEqual(['servlet:initialized:eager']);
    const alice = await siplet.ua('alice');
    await shortCall(alice);
    expect(heard.filter((h) => h.startsWith('servlet:'))).toEqual(['servlet:initialized:eager', 'servlet:initialized:main']);
    await shortCall(alice);
    expect(heard.filter((h) => h.startsWith('servlet:'))).toHaveLength(2);
  });

  it('session, application-session and attribute listeners hear a whole call, in order', async () => {
    siplet = await createTestSiplet({ apps: [LISTEN_APP], dar: dar('listen') });
    heard.length = 0;
    const alice = await siplet.ua('alice');
    await shortCall(alice);
    await until(() => heard.some((h) => h.startsWith('app:destroyed')), 'the application session to be destroyed');
    expect(heard.filter((h) => !h.startsWith('servlet:'))).toEqual([
      'app:created:listen',
      'sip:created:INITIAL',
      'sip-attr:added:a=1',
      'sip-attr:replaced:a=2',
      'sip-attr:removed:a=2',
      'app-attr:added:b=x',
      'app-attr:replaced:b=y',
      'app-attr:removed:b=y',
      'sip-attr:added:k=1',
      'app-attr:added:K=v',
      'sip:ready:sip:TERMINATED',
      // sessionDestroyed can still read the attributes; invalidation then removes them.
      'sip:destroyed:sip:false:k=1',
      'sip-attr:removed:k=1',
      'app:ready:app',
      'app:destroyed:app:false:K=v',
      'app-attr:removed:K=v',
    ]);
    expect(live(siplet.container.stats().sessions)).toEqual(NONE);
  });
});

// ---- SipErrorListener.noAckReceived ------------------------------------------------------

const errors: string[] = [];
let noAckGate: Gate | undefined;

@SipApplication({ name: 'noack' })
@SipServlet({ name: 'noack' })
class NoAckServlet extends SipServlet {
  override async doInvite(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
    if (req.getHeader('X-Gate') !== undefined) {
      await noAckGate?.promise;
      errors.push('invite:exit');
    }
  }
  override doSuccessResponse(res: import('siplet/sdk').SipServletResponse): void {
    errors.push(`${res.getMethod()}:${res.getStatus()}`);
  }
}

@SipListener({ kinds: ['error'] })
class NoAckListener {
  async noAckReceived({ request, response }: SipErrorEvent): Promise<void> {
    errors.push(`noAck:${request.getMethod()}:${response.getStatus()}:${request.getSession().getState()}`);
    // RFC 3261 §13.3.1.4: the dialog is confirmed but the session should end, with a BYE.
    await request.getSession().createRequest('BYE').send();
  }
}

describe('SipErrorListener', () => {
  /*
   *   alice (never ACKs)          Siplet: app "noack", T1 = 5 ms
   *     | INVITE ----------------> | doInvite → 200
   *     | <------------------ 200  |
   *     | <------------------ 200  | retransmitted at T1, 2*T1 … (RFC 6026 §8.1)
   *     |          …  64*T1        | noAckReceived(request, response) → app sends BYE
   *     | <------------------ BYE  |
   *     | 200 -------------------> | everything of the call goes
   */
  it('noAckReceived fires 64*T1 after a 2xx nobody ACKs; the app ends the call with BYE', async () => {
    errors.length = 0;
    siplet = await createTestSiplet({ apps: [{ exports: { NoAckServlet, NoAckListener } }], dar: dar('noack'), config: { t1: 5, t2: 40 } });
    const alice = await siplet.ua('alice');
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@127.0.0.1' });
    await alice.send(invite);
    await alice.expectResponse(invite, 200);
    await alice.expectResponse(invite, 200, 200);
    const bye = await alice.expectRequest('BYE', { callId: invite.callId, timeoutMs: 1500 });
    expect(errors).toEqual(['noAck:INVITE:200:CONFIRMED']);
    const retransmissions = alice.received.filter((m) => !m.isRequest && m.cseq.method === 'INVITE' && m.status === 200).length;
    expect(retransmissions).toBeGreaterThan(2);
    await alice.respond(bye, 200);
    await until(() => siplet?.container.stats().sessions.applicationSessions === 0, 'the sessions to go');
    expect(errors).toEqual(['noAck:INVITE:200:CONFIRMED', 'BYE:200']);
    expect(live(siplet.container.stats().sessions)).toEqual(NONE);
  });

  it('noAckReceived waits for a handler of the same application session that is still running', async () => {
    errors.length = 0;
    noAckGate = gate();
    siplet = await createTestSiplet({ apps: [{ exports: { NoAckServlet, NoAckListener } }], dar: dar('noack'), config: { t1: 2, t2: 16 } });
    const alice = await siplet.ua('alice');
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@127.0.0.1', headers: { 'X-Gate': 'yes' } });
    await alice.send(invite);
    await alice.expectResponse(invite, 200);
    // 64*T1 = 128 ms pass while doInvite still awaits.
    await settle(250);
    expect(errors).toEqual([]);
    noAckGate.open();
    const bye = await alice.expectRequest('BYE', { callId: invite.callId, timeoutMs: 1000 });
    expect(errors).toEqual(['invite:exit', 'noAck:INVITE:200:CONFIRMED']);
    await alice.respond(bye, 200);
  });
});

// ---- listeners that throw ------------------------------------------------------------

const fragile: string[] = [];

@SipApplication({ name: 'fragile' })
@SipServlet({ name: 'fragile', loadOnStartup: 0 })
class FragileServlet extends SipServlet {
  override async doInvite(req: SipServletRequest): Promise<void> {
    req.getSession().setAttribute('x', 1);
    req.getApplicationSession().setAttribute('y', 1);
    await req.createResponse(200).send();
    fragile.push('invite answered');
  }
  override async doBye(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
    fragile.push('bye answered');
  }
}

const boom = (where: string): never => {
  throw new Error(`listener failure in ${where}`);
};

@SipListener({ kinds: ['servlet'] })
class ThrowingServletListener {
  servletInitialized(): void {
    boom('servletInitialized');
  }
}

@SipListener({ kinds: ['applicationSession'] })
class ThrowingAppSessionListener {
  sessionCreated(): void {
    boom('app sessionCreated');
  }
  async sessionDestroyed(): Promise<void> {
    await Promise.resolve();
    boom('app sessionDestroyed');
  }
  sessionReadyToInvalidate(): void {
    boom('app sessionReadyToInvalidate');
  }
}

@SipListener({ kinds: ['session', 'sessionAttribute'] })
class ThrowingSessionListener {
  async sessionCreated(): Promise<void> {
    boom('sip sessionCreated');
  }
  sessionDestroyed(): void {
    boom('sip sessionDestroyed');
  }
  attributeAdded(): void {
    boom('attributeAdded');
  }
}

describe('listeners that throw', () => {
  it('do not break the call or the deployment; every failure is logged with the app name', async () => {
    fragile.length = 0;
    const { logger, records } = capturingLogger();
    siplet = await createTestSiplet({
      apps: [{ exports: { FragileServlet, ThrowingServletListener, ThrowingAppSessionListener, ThrowingSessionListener } }],
      dar: dar('fragile'),
      logger,
    });
    const alice = await siplet.ua('alice');
    await shortCall(alice);
    await until(() => siplet?.container.stats().sessions.applicationSessions === 0, 'the sessions to go');
    await settle();
    expect(fragile).toEqual(['invite answered', 'bye answered']);
    const failures = records.filter((r) => r.level >= 50).map((r) => String((r['err'] as { message?: string } | undefined)?.message));
    for (const where of [
      'servletInitialized',
      'app sessionCreated',
      'sip sessionCreated',
      'attributeAdded',
      'sip sessionDestroyed',
      'app sessionReadyToInvalidate',
      'app sessionDestroyed',
    ]) {
      expect(failures).toContain(`listener failure in ${where}`);
    }
    // The records name the application, so an operator knows whose listener failed.
    for (const r of records.filter((rec) => rec.level >= 50)) expect(JSON.stringify(r)).toContain('fragile');
    // Still serving.
    await shortCall(alice);
    expect(fragile).toHaveLength(4);
  });
});
