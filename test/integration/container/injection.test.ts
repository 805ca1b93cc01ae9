/**
 * Dependency injection: a servlet's constructor gets the container's services
 * (SipFactory, TimerService, SipSessionsUtil), the app's logger and
 * configuration, and a service the app binds itself, by `@inject(TOKEN)`.
 *
 *   alice (scripted)            Siplet: app "wired"
 *      | MESSAGE ----------------> | doMessage: uses every injected object
 *      | <------------ 200 + X-*   |   and reports what it found in headers
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  APP_CONFIG,
  APP_LOGGER,
  inject,
  injectable,
  SIP_FACTORY,
  SIP_SESSIONS_UTIL,
  SipApplication,
  SipListener,
  SipServlet,
  TIMER_SERVICE,
  type AppConfig,
  type AppLogger,
  type ServletTimer,
  type SipFactory,
  type SipServletRequest,
  type SipSessionsUtil,
  type TimerService,
} from 'siplet/sdk';
import { createTestSiplet, type TestSiplet } from 'siplet/sdk/testing';
import { capturingLogger, until } from './helpers.js';

const DAR = 'MESSAGE: ("wired", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")';

let siplet: TestSiplet | undefined;
afterEach(async () => {
  await siplet?.close();
  siplet = undefined;
});

/** A service of the app: one instance, shared by everything that injects it. */
@injectable()
class Greeter {
  static made = 0;
  readonly #greeting: string;
  constructor(@inject(APP_CONFIG) config: AppConfig) {
    Greeter.made++;
    this.#greeting = config.get('greeting', 'hello');
  }
  greet(who: string): string {
    return `${this.#greeting}, ${who}`;
  }
}

const timeouts: unknown[] = [];

@SipApplication({ name: 'wired', services: [Greeter] })
@SipServlet({ name: 'wired' })
class WiredServlet extends SipServlet {
  constructor(
    @inject(SIP_FACTORY) private readonly factory: SipFactory,
    @inject(TIMER_SERVICE) private readonly timers: TimerService,
    @inject(SIP_SESSIONS_UTIL) private readonly sessions: SipSessionsUtil,
    @inject(APP_LOGGER) private readonly log: AppLogger,
    @inject(APP_CONFIG) private readonly config: AppConfig,
    @inject(Greeter) private readonly greeter: Greeter,
  ) {
    super();
  }

  override async doMessage(req: SipServletRequest): Promise<void> {
    const appSession = req.getApplicationSession();
    const res = req.createResponse(200);
    // SipFactory: builds addresses and URIs.
    res.setHeader('X-Address', this.factory.createAddress('"Bob" <sip:bob@example.com>').toString());
    // SipSessionsUtil: finds the request's own application session by id.
    res.setHeader('X-Found', String(this.sessions.getApplicationSessionById(appSession.getId()) === appSession));
    // APP_CONFIG and the app's own service.
    res.setHeader('X-Limit', String(this.config.get('limits.maxCalls')));
    res.setHeader('X-Greeting', this.greeter.greet('alice'));
    // TimerService: a timer that reaches the TimerListener.
    this.timers.createTimer(appSession, { delay: 1, info: 'wired timer' });
    // APP_LOGGER: a child logger that names the app.
    this.log.info({ marker: 'wired-log' }, 'message handled');
    await res.send();
  }
}

/** Listeners are built by the same DI container: the service is the same instance. */
@SipListener()
class WiredTimeouts {
  constructor(@inject(Greeter) private readonly greeter: Greeter) {}
  timeout(timer: ServletTimer): void {
    timeouts.push(`${this.greeter.greet('timer')}: ${String(timer.getInfo())}`);
  }
}

describe('dependency injection', () => {
  it('gives a servlet the SipFactory, TimerService, SipSessionsUtil, app logger, app config and an app service', async () => {
    Greeter.made = 0;
    timeouts.length = 0;
    const { logger, records } = capturingLogger();
    siplet = await createTestSiplet({
      apps: [{ exports: { WiredServlet, WiredTimeouts, Greeter }, config: { greeting: 'good morning', limits: { maxCalls: 7 } } }],
      dar: DAR,
      logger,
    });
    const alice = await siplet.ua('alice');
    const msg = alice.createRequest('MESSAGE', { to: 'sip:bob@127.0.0.1', body: 'hi', contentType: 'text/plain' });
    await alice.send(msg);
    const ok = await alice.expectResponse(msg, 200);
    expect(ok.get('X-Address')).toBe('"Bob" <sip:bob@example.com>');
    expect(ok.get('X-Found')).toBe('true');
    expect(ok.get('X-Limit')).toBe('7');
    expect(ok.get('X-Greeting')).toBe('good morning, alice');
    await until(() => timeouts.length === 1, 'the timer');
    expect(timeouts).toEqual(['good morning, timer: wired timer']);
    // One Greeter for the servlet and the listener (singleton scope).
    expect(Greeter.made).toBe(1);
    const logged = records.find((r) => r['marker'] === 'wired-log');
    expect(logged).toMatchObject({ app: 'wired', msg: 'message handled' });
  });
});
