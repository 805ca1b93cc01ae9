/**
 * call-screening: the classic sample of the SIP servlet containers. An INVITE
 * from a blocked caller gets 403 Forbidden. One for an address of record in a
 * domain Siplet serves is forked, in parallel and record-routed, to every
 * contact registered for it (through its Path); 480 when the user is known but
 * not registered, 404 when nobody of that name is. Any other is proxied to its
 * Request-URI with record-routing, so the ACK and BYE pass through Siplet.
 *
 *   caller              Siplet: call-screening               callee(s)
 *     | INVITE -------------> |                                  |
 *     |                       | blocked? ── yes ─► 403 (ACK absorbed)
 *     |                       | local AOR? ── registered contacts ─► INVITE to each (Route: Path)
 *     |                       |            ── none: 480 (known user) / 404 (unknown)
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
  LOCATION_SERVICE,
  parseNameAddress,
  parseUri,
  SipApplication,
  SipServlet,
  SipUri,
  type AppConfig,
  type AppLogger,
  type ContactBinding,
  type LocationService,
  type SipServletRequest,
  type Uri,
} from 'siplet/sdk';

@SipApplication({ name: 'call-screening', description: 'Blocks listed callers, proxies everyone else', sessionTimeout: 3 })
@SipServlet({ name: 'screening', loadOnStartup: 1 })
export class CallScreening extends SipServlet {
  readonly #config: AppConfig;
  readonly #log: AppLogger;
  readonly #locations: LocationService;

  constructor(@inject(APP_CONFIG) config: AppConfig, @inject(APP_LOGGER) log: AppLogger, @inject(LOCATION_SERVICE) locations: LocationService) {
    super();
    this.#config = config;
    this.#log = log;
    this.#locations = locations;
  }

  override async doInvite(req: SipServletRequest): Promise<void> {
    if (!req.isInitial()) return;
    const caller = req.getFrom().uri;
    if (caller instanceof SipUri && isBlocked(caller, this.#config.get<string[]>('blocked', []))) {
      this.#log.info({ caller: caller.toString() }, 'blocked caller');
      await req.createResponse(403, 'Forbidden').send();
      return;
    }
    const target = req.getRequestURI();
    if (await this.#locations.isLocal(target)) {
      await this.#toRegisteredContacts(req, target);
      return;
    }
    const proxy = req.getProxy();
    proxy.setRecordRoute(true);
    proxy.proxyTo(target);
  }

  /** An address of record of ours: fork to every registered contact at once, each through its Path. */
  async #toRegisteredContacts(req: SipServletRequest, aor: Uri): Promise<void> {
    const bindings = (await this.#locations.lookup(aor)).filter((b) => parseUri(b.uri) !== undefined);
    if (bindings.length === 0) {
      const known = await this.#locations.isKnown(aor);
      this.#log.info({ aor: aor.toString(), known }, 'callee not registered');
      await (known ? req.createResponse(480, 'Temporarily Unavailable') : req.createResponse(404, 'Not Found')).send();
      return;
    }
    const proxy = req.getProxy();
    proxy.setRecordRoute(true);
    proxy.setParallel(true);
    for (const binding of bindings) {
      // One branch per contact; the proxy skips a target it already has.
      const [branch] = proxy.createProxyBranches([parseUri(binding.uri) as Uri]);
      if (branch !== undefined) routeThroughPath(branch.getRequest(), binding);
    }
    proxy.startProxy();
  }
}

/** RFC 3327 §5.1: the Path stored with the binding becomes the branch's Route set, first hop on top. */
function routeThroughPath(branch: SipServletRequest, binding: ContactBinding): void {
  for (const hop of [...binding.path].reverse()) {
    const address = parseNameAddress(hop);
    if (address !== undefined) branch.pushRoute(address);
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
