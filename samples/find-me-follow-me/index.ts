/**
 * find-me-follow-me: a call to a user hunts for them over the devices that
 * config.json lists for that user, each starting after its delay and ringing
 * for its own time (hunt() from the SDK). Legs overlap when the delays say so;
 * the first device to answer gets the call and the others are cancelled.
 *
 *   caller          Siplet: find-me-follow-me          desk (0 s, 15 s)     mobile (5 s, 20 s)
 *     | INVITE ------------> |                              |                     |
 *     |                      | INVITE (Record-Route) -----> |                     |
 *     | <--------------- 180 | <------------------------ 180 |                     |
 *     |                      |   ... 5 s: mobile joins ...   |                     |
 *     |                      | INVITE (Record-Route) ---------------------------> |
 *     |                      |   ... 15 s: desk rings out ...|                     |
 *     |                      | CANCEL ---------------------> |                     |
 *     |                      | <---------------------------------------------- 200 |
 *     | <--------------- 200 |                              |                     |
 *     | ACK / BYE (Route: Siplet) ─► | ─► ACK / BYE ----------------------------> |
 *
 * config.json: { "users": { "alice": [{ "uri": "sip:alice@desk.example.com", "delayMs": 0,
 * "timeoutMs": 15000 }, { "uri": "sip:alice@mobile.example.com", "delayMs": 5000, "timeoutMs": 20000 }] } }
 * keyed by the user part of the Request-URI; a user with no list gets 404. Changes to
 * config.json take effect for the next call, without a restart.
 */
import {
  APP_CONFIG,
  APP_LOGGER,
  hunt,
  inject,
  SipApplication,
  SipServlet,
  SipUri,
  type AppConfig,
  type AppLogger,
  type HuntTarget,
  type SipServletRequest,
} from 'siplet/sdk';

@SipApplication({ name: 'find-me-follow-me', description: 'Hunts for the called user over their devices', sessionTimeout: 3 })
@SipServlet({ name: 'follow-me', loadOnStartup: 1 })
export class FindMeFollowMe extends SipServlet {
  readonly #config: AppConfig;
  readonly #log: AppLogger;

  constructor(@inject(APP_CONFIG) config: AppConfig, @inject(APP_LOGGER) log: AppLogger) {
    super();
    this.#config = config;
    this.#log = log;
  }

  override async doInvite(req: SipServletRequest): Promise<void> {
    if (!req.isInitial()) return;
    const called = req.getRequestURI();
    const user = called instanceof SipUri ? (called.user ?? '') : '';
    const targets = followMeTargets(this.#config.get<Record<string, unknown>>('users', {}), user);
    if (targets.length === 0) {
      await req.createResponse(404, 'Not Found (no follow-me list for this user)').send();
      return;
    }
    const outcome = await hunt(req, targets, { recordRoute: true });
    if (outcome.answered) this.#log.info({ user, answeredBy: outcome.target.toString() }, 'found');
    else this.#log.info({ user, status: outcome.status, tried: outcome.responses.length }, 'not found');
  }
}

/** The hunt list of `user` in the `users` map of config.json; entries without a string `uri` are skipped. */
export function followMeTargets(users: Record<string, unknown>, user: string): HuntTarget[] {
  const list = Object.hasOwn(users, user) ? users[user] : undefined;
  if (!Array.isArray(list)) return [];
  const targets: HuntTarget[] = [];
  for (const entry of list as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { uri, delayMs, timeoutMs } = entry as Record<string, unknown>;
    if (typeof uri !== 'string') continue;
    targets.push({
      uri,
      ...(typeof delayMs === 'number' ? { delayMs } : {}),
      ...(typeof timeoutMs === 'number' ? { timeoutMs } : {}),
    });
  }
  return targets;
}
