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
 * The block list lives in the server's data store (block-list.ts), entries
 * `user@host` or a bare `user`. config.json's `{ "blocked": [...] }` seeds it, and an
 * edit of the file is applied without a restart; the HTTP API changes it too:
 *
 *   GET    /call-screening/blocked            → { "blocked": ["robocall", "spammer@example.com"] }
 *   POST   /call-screening/blocked            { "caller": "alice@example.com" } → 201 (200 if listed)
 *   DELETE /call-screening/blocked/:caller    → 204 (404 if not listed)
 *
 * A caller blocked over HTTP gets 403 on its next INVITE.
 */
import {
  APP_LOGGER,
  express,
  inject,
  LOCATION_SERVICE,
  parseNameAddress,
  parseUri,
  SipApplication,
  SipServlet,
  SipUri,
  type AppLogger,
  type ContactBinding,
  type HttpContext,
  type LocationService,
  type SipServletConfig,
  type SipServletRequest,
  type Uri,
} from 'siplet/sdk';
import { BlockList, InvalidEntryError } from './block-list.js';

export { BlockList, InvalidEntryError, normalizeEntry } from './block-list.js';

@SipApplication({
  name: 'call-screening',
  description: 'Blocks listed callers, proxies everyone else',
  sessionTimeout: 3,
  services: [BlockList],
  http: { router: 'http' },
})
@SipServlet({ name: 'screening', loadOnStartup: 1 })
export class CallScreening extends SipServlet {
  readonly #blockList: BlockList;
  readonly #log: AppLogger;
  readonly #locations: LocationService;

  constructor(@inject(BlockList) blockList: BlockList, @inject(APP_LOGGER) log: AppLogger, @inject(LOCATION_SERVICE) locations: LocationService) {
    super();
    this.#blockList = blockList;
    this.#log = log;
    this.#locations = locations;
  }

  override async init(config: SipServletConfig): Promise<void> {
    super.init(config);
    await this.#blockList.start();
  }

  override destroy(): void {
    this.#blockList.stop();
  }

  override async doInvite(req: SipServletRequest): Promise<void> {
    if (!req.isInitial()) return;
    const caller = req.getFrom().uri;
    if (caller instanceof SipUri && (await this.#blockList.isBlocked(caller))) {
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

/**
 * The HTTP API of the block list, under /call-screening/. It shares the `BlockList` the servlet
 * checks (the same DI singleton), so a change applies to the next INVITE.
 */
export function http(ctx: HttpContext) {
  const blockList = ctx.resolve(BlockList);
  const router = express.Router();
  router.get('/blocked', async (_req, res) => {
    res.json({ blocked: await blockList.list() });
  });
  router.post('/blocked', express.json({ limit: '4kb' }), async (req, res) => {
    try {
      const { entry, added } = await blockList.add((req.body as { caller?: unknown } | undefined)?.caller);
      res.status(added ? 201 : 200).json({ caller: entry });
    } catch (error) {
      if (!(error instanceof InvalidEntryError)) throw error;
      res.status(400).json({ error: error.message });
    }
  });
  router.delete('/blocked/:caller', async (req, res) => {
    try {
      const { entry, removed } = await blockList.remove(req.params.caller);
      if (removed) res.status(204).end();
      else res.status(404).json({ error: `${entry} is not blocked` });
    } catch (error) {
      if (!(error instanceof InvalidEntryError)) throw error;
      res.status(400).json({ error: error.message });
    }
  });
  return router;
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
