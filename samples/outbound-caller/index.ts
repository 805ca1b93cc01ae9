/**
 * outbound-caller: a UAC application. When it starts (and whenever a MESSAGE
 * reaches it) it places `calls` calls to `target`, `concurrency` at a time;
 * each call is answered, held for `holdMs` (a servlet timer), then hung up.
 *
 *   outbound-caller                target
 *     | INVITE ----------------------> |
 *     | <---------------------- 180/200
 *     | ACK --------------------------> |
 *     |        ... holdMs (ServletTimer)
 *     | BYE --------------------------> |
 *     | <--------------------------- 200
 */
import {
  APP_CONFIG,
  APP_LOGGER,
  inject,
  SIP_FACTORY,
  SipApplication,
  SipListener,
  SipServlet,
  TIMER_SERVICE,
  type AppConfig,
  type AppLogger,
  type ServletTimer,
  type SipFactory,
  type SipServletConfig,
  type SipServletRequest,
  type SipServletResponse,
  type SipSession,
  type TimerListener,
  type TimerService,
} from 'siplet/sdk';

interface Run {
  remaining: number;
  active: number;
  completed: number;
  failed: number;
}

@SipApplication({ name: 'outbound-caller', description: 'Places calls to a configured target' })
@SipServlet({ name: 'caller', loadOnStartup: 1 })
@SipListener({ kinds: ['timer'] })
export class OutboundCaller extends SipServlet implements TimerListener {
  readonly #factory: SipFactory;
  readonly #timers: TimerService;
  readonly #config: AppConfig;
  readonly #log: AppLogger;
  #run: Run | undefined;

  constructor(
    @inject(SIP_FACTORY) factory: SipFactory,
    @inject(TIMER_SERVICE) timers: TimerService,
    @inject(APP_CONFIG) config: AppConfig,
    @inject(APP_LOGGER) log: AppLogger,
  ) {
    super();
    this.#factory = factory;
    this.#timers = timers;
    this.#config = config;
    this.#log = log;
  }

  override init(config: SipServletConfig): void {
    super.init(config);
    if (this.#config.get<boolean>('callOnStart', true) && this.#config.get<string>('target')) {
      // Let deployment finish before the first call goes out.
      setTimeout(() => this.#start(), this.#config.get<number>('startDelayMs', 200));
    }
  }

  /** A MESSAGE to the app starts another run of calls. */
  override async doMessage(req: SipServletRequest): Promise<void> {
    await req.createResponse(this.#run && this.#run.remaining + this.#run.active > 0 ? 486 : 202).send();
    if (!this.#run || this.#run.remaining + this.#run.active === 0) this.#start();
  }

  override async doSuccessResponse(res: SipServletResponse): Promise<void> {
    if (res.getMethod() === 'INVITE') {
      await res.createAck().send();
      this.#timers.createTimer(res.getApplicationSession(), { delay: this.#config.get<number>('holdMs', 100), info: res.getSession() });
    } else if (res.getMethod() === 'BYE') {
      this.#finished(true);
    }
  }

  override doErrorResponse(res: SipServletResponse): void {
    this.#log.warn({ status: res.getStatus(), reason: res.getReasonPhrase(), method: res.getMethod() }, 'call failed');
    this.#finished(false);
  }

  async timeout(timer: ServletTimer): Promise<void> {
    const session = timer.getInfo<SipSession>();
    await session.createRequest('BYE').send();
  }

  #start(): void {
    const target = this.#config.get<string>('target');
    if (!target) return;
    this.#run = { remaining: this.#config.get<number>('calls', 1), active: 0, completed: 0, failed: 0 };
    this.#log.info({ target, calls: this.#run.remaining }, 'placing calls');
    for (let i = 0; i < this.#config.get<number>('concurrency', 10); i++) this.#next();
  }

  #next(): void {
    const run = this.#run;
    if (!run || run.remaining === 0) return;
    run.remaining--;
    run.active++;
    const target = this.#config.get<string>('target') as string;
    const invite = this.#factory.createRequest({
      appSession: this.#factory.createApplicationSession(),
      method: 'INVITE',
      from: this.#config.get<string>('from', 'sip:outbound-caller@siplet.invalid'),
      to: target,
    });
    invite.setContent('v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6002 RTP/AVP 0\r\n', 'application/sdp');
    invite.send().catch((error: unknown) => {
      this.#log.warn({ err: error }, 'could not send an INVITE');
      this.#finished(false);
    });
  }

  #finished(ok: boolean): void {
    const run = this.#run;
    if (!run) return;
    run.active--;
    if (ok) run.completed++;
    else run.failed++;
    if (run.remaining > 0) this.#next();
    else if (run.active === 0) this.#log.info({ completed: run.completed, failed: run.failed }, 'all calls done');
  }
}
