/**
 * b2bua: a topology-hiding back-to-back user agent. Each INVITE it takes is answered
 * by a second call, from Siplet, to the Request-URI (or to `target` from config.json);
 * the two dialogs are relayed until one side hangs up. The callee never sees the
 * caller's Via, Record-Route, Contact, Call-ID or tags, nor the caller the callee's.
 *
 *   caller              Siplet: b2bua                         callee
 *     | INVITE -----------> |                                     |
 *     |                     | INVITE (new Call-ID, From tag) ---> |
 *     | <------ 180/183 --- | <------------------------ 180/183   |
 *     | <----------- 200 -- | <---------------------------- 200   |
 *     | ACK --------------> | ACK --------------------------->    |
 *     | BYE --------------> | BYE --------------------------->    |
 *     | <----------- 200 -- | <---------------------------- 200   |
 *
 * All of it is the SDK's `b2bua()` helper; this servlet only picks the target.
 */
import {
  APP_CONFIG,
  APP_LOGGER,
  b2bua,
  B2buaServlet,
  inject,
  SipApplication,
  SipServlet,
  type AppConfig,
  type AppLogger,
  type SipServletRequest,
} from 'siplet/sdk';

@SipApplication({ name: 'b2bua', description: 'Topology-hiding B2BUA to the Request-URI or a configured target', sessionTimeout: 720 })
@SipServlet({ name: 'b2bua', loadOnStartup: 1 })
export class TopologyHidingB2bua extends B2buaServlet {
  readonly #config: AppConfig;
  readonly #log: AppLogger;

  constructor(@inject(APP_CONFIG) config: AppConfig, @inject(APP_LOGGER) log: AppLogger) {
    super();
    this.#config = config;
    this.#log = log;
  }

  override async doInvite(req: SipServletRequest): Promise<void> {
    const target = this.#config.get<string>('target', '') || req.getRequestURI();
    const call = await b2bua(req, target, {
      ringTimeoutMs: this.#config.get<number>('ringTimeoutMs', 60_000),
      hideTopology: true,
      logger: this.#log,
    });
    call.on('failed', (end) => this.#log.debug({ callId: req.getCallId(), ...end }, 'call not answered'));
    call.on('ended', (end) => this.#log.debug({ callId: req.getCallId(), ...end }, 'call ended'));
  }
}
