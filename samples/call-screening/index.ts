/**
 * call-screening: the classic sample of the SIP servlet containers. An INVITE
 * from a blocked caller gets 403 Forbidden; any other is proxied to its
 * Request-URI with record-routing, so the ACK and BYE pass through Siplet.
 *
 *   caller              Siplet: call-screening               callee
 *     | INVITE -------------> |                                  |
 *     |                       | blocked? ── yes ─► 403 (ACK absorbed)
 *     |                       | INVITE (Record-Route) ---------> |
 *     | <--------------- 100/180/200 <------------------------- |
 *     | ACK / BYE (Route: Siplet) ─► | ─► ACK / BYE ------------> |
 *
 * The block list is the app's configuration (config.json: { "blocked": [...] }):
 * entries are `user@host` or a bare `user`; a change to config.json takes effect
 * without a restart.
 */
import {
  APP_CONFIG,
  APP_LOGGER,
  inject,
  SipApplication,
  SipServlet,
  SipUri,
  type AppConfig,
  type AppLogger,
  type SipServletRequest,
} from 'siplet/sdk';

@SipApplication({ name: 'call-screening', description: 'Blocks listed callers, proxies everyone else', sessionTimeout: 3 })
@SipServlet({ name: 'screening', loadOnStartup: 1 })
export class CallScreening extends SipServlet {
  readonly #config: AppConfig;
  readonly #log: AppLogger;

  constructor(@inject(APP_CONFIG) config: AppConfig, @inject(APP_LOGGER) log: AppLogger) {
    super();
    this.#config = config;
    this.#log = log;
  }

  override async doInvite(req: SipServletRequest): Promise<void> {
    if (!req.isInitial()) return;
    const caller = req.getFrom().uri;
    if (caller instanceof SipUri && isBlocked(caller, this.#config.get<string[]>('blocked', []))) {
      this.#log.info({ caller: caller.toString() }, 'blocked caller');
      await req.createResponse(403, 'Forbidden').send();
      return;
    }
    const proxy = req.getProxy();
    proxy.setRecordRoute(true);
    proxy.proxyTo(req.getRequestURI());
  }
}

/** A caller matches an entry `user@host` (host case-insensitive) or a bare `user`. */
export function isBlocked(caller: SipUri, blocked: readonly string[]): boolean {
  const user = caller.user ?? '';
  const host = caller.host.toLowerCase();
  return blocked.some((entry) => {
    const at = entry.lastIndexOf('@');
    if (at < 0) return entry === user;
    return entry.slice(0, at) === user && entry.slice(at + 1).toLowerCase() === host;
  });
}
