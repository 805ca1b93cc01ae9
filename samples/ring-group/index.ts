/**
 * ring-group: a call to a group URI (sip:sales@…) rings every member that
 * config.json lists for the group at once (ringGroup() from the SDK); the
 * first member to answer gets the call and the others are cancelled. When
 * nobody answers in `timeoutMs`, the caller gets 408; when everyone refuses,
 * the best response (486 when all are busy).
 *
 *   caller          Siplet: ring-group            member 1        member 2
 *     | INVITE ------------> |                         |                |
 *     |                      | INVITE (Record-Route) -> |                |
 *     |                      | INVITE (Record-Route) -----------------> |
 *     | <--------------- 180 | <------------------- 180 | <--------- 180 |
 *     |                      | <------------------------------------ 200 |
 *     | <--------------- 200 | CANCEL ---------------> |                |
 *     | ACK / BYE (Route: Siplet) ─► | ─► ACK / BYE -------------------> |
 *
 * config.json: { "groups": { "sales": ["sip:ann@10.0.0.5", "sip:bob@10.0.0.6"] }, "timeoutMs": 30000 }
 * keyed by the user part of the Request-URI; a URI that is no group gets 404. Changes to config.json
 * take effect for the next call, without a restart.
 */
import {
  APP_CONFIG,
  APP_LOGGER,
  inject,
  ringGroup,
  SipApplication,
  SipServlet,
  SipUri,
  type AppConfig,
  type AppLogger,
  type SipServletRequest,
} from 'siplet/sdk';

@SipApplication({ name: 'ring-group', description: 'Rings every member of a group at once', sessionTimeout: 3 })
@SipServlet({ name: 'ring-group', loadOnStartup: 1 })
export class RingGroup extends SipServlet {
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
    const group = called instanceof SipUri ? (called.user ?? '') : '';
    const members = groupMembers(this.#config.get<Record<string, unknown>>('groups', {}), group);
    if (members.length === 0) {
      await req.createResponse(404, 'Not Found (no such group)').send();
      return;
    }
    const timeoutMs = this.#config.get<number>('timeoutMs', 30_000);
    const outcome = await ringGroup(req, members, { recordRoute: true, timeoutMs });
    if (outcome.answered) this.#log.info({ group, answeredBy: outcome.target.toString() }, 'group call answered');
    else this.#log.info({ group, status: outcome.status }, 'group call not answered');
  }
}

/** The member URIs of `group` in the `groups` map of config.json; entries that are not strings are skipped. */
export function groupMembers(groups: Record<string, unknown>, group: string): string[] {
  const list = Object.hasOwn(groups, group) ? groups[group] : undefined;
  return Array.isArray(list) ? (list as unknown[]).filter((m): m is string => typeof m === 'string') : [];
}
