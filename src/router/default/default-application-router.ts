import type {
  ApplicationRouter,
  ApplicationRouterInfo,
  ApplicationRouterInitOptions,
  RouterLogger,
  RouterRequest,
  RoutingDirective,
  RoutingRegion,
  TargetedRequestInfo,
} from '../application-router.js';
import { DAR_ALL, parseDar } from './dar-parser.js';
import type { DarParseError, DarParseOptions, DarRule, DarRules } from './dar-parser.js';

export interface DefaultApplicationRouterOptions {
  /** The rules to start with. Default: none (no application is invoked until `reload`). */
  rules?: DarRules;
  /** Default: silent; `init({ logger })` replaces it. */
  logger?: RouterLogger;
}

export type DarReloadResult = { ok: true; rules: DarRules } | { ok: false; errors: DarParseError[] };

/**
 * What the default router hands the container as `stateInfo`: the chain it is walking and the
 * position of the application it chose last. A request keeps the chain it started with, so a
 * reload never makes it skip or repeat an application.
 */
export interface DarState {
  readonly method: string;
  readonly index: number;
}

class ChainState implements DarState {
  constructor(
    readonly method: string,
    readonly chain: readonly DarRule[],
    readonly index: number,
  ) {
    Object.freeze(this);
  }

  /** On the wire (a Route parameter, JSR 289 §15.6) the state is its method and position only. */
  toJSON(): DarState {
    return { method: this.method, index: this.index };
  }
}

function isDarState(value: unknown): value is DarState {
  return typeof value === 'object' && value !== null && typeof (value as DarState).method === 'string' && Number.isInteger((value as DarState).index);
}

const SILENT: RouterLogger = { debug() {}, info() {}, warn() {}, error() {} };
const NO_RULES: DarRules = new Map();

/**
 * The default application router (JSR 289 Appendix C): routes each initial request through the
 * chain of applications its method's line of the DAR file lists (or the `ALL` line's), in order.
 *
 * - `NEW`: the first tuple whose application is deployed and whose options match the request.
 * - `CONTINUE` / `REVERSE`: the next such tuple after the one `stateInfo` points at.
 * - A targeted request (`NEW` with `targeted`, JSR 289 §15.11) goes to its target when deployed,
 *   with that application's tuple from the chain if it has one.
 * - Tuples with `ROUTE` / `ROUTE_BACK` are returned even if their application is not deployed:
 *   they send the request to their route, which does not need the application.
 *
 * Hazard: `getNextApplication` reads the rules as they are when a chain starts; `reload` swaps
 * them for chains that start afterwards.
 */
export class DefaultApplicationRouter implements ApplicationRouter {
  #rules: DarRules;
  #deployed = new Set<string>();
  #log: RouterLogger;
  #warnedNoOrigin = false;

  constructor(options: DefaultApplicationRouterOptions = {}) {
    this.#rules = options.rules ?? NO_RULES;
    this.#log = options.logger ?? SILENT;
  }

  /** Takes the logger. `properties` are ignored: the rules come from `reload` (or a `DarFile`). */
  init(options: ApplicationRouterInitOptions = {}): void {
    if (options.logger) this.#log = options.logger;
  }

  destroy(): void {
    this.#deployed.clear();
  }

  applicationDeployed(names: string[]): void {
    for (const name of names) this.#deployed.add(name);
  }

  applicationUndeployed(names: string[]): void {
    for (const name of names) this.#deployed.delete(name);
  }

  /** The rules in force. */
  get rules(): DarRules {
    return this.#rules;
  }

  /**
   * Parses `text` and, only if it parses, replaces the rules in one step. On failure the previous
   * rules stay in force and the errors are returned (each with its line number).
   */
  reload(text: string, options: DarParseOptions = {}): DarReloadResult {
    const parsed = parseDar(text, options);
    if (!parsed.ok) return parsed;
    this.#rules = parsed.rules;
    return parsed;
  }

  getNextApplication(
    request: RouterRequest,
    _region: RoutingRegion | undefined,
    directive: RoutingDirective,
    targeted: TargetedRequestInfo | undefined,
    stateInfo: unknown,
  ): ApplicationRouterInfo | undefined {
    let method: string;
    let chain: readonly DarRule[];
    let start: number;
    if (directive !== 'NEW' && stateInfo instanceof ChainState) {
      ({ method, chain } = stateInfo);
      start = stateInfo.index + 1;
    } else if (directive !== 'NEW' && isDarState(stateInfo)) {
      // State that travelled on the wire: continue in the rules as they are now.
      method = stateInfo.method;
      chain = this.#rules.get(method) ?? [];
      start = stateInfo.index + 1;
    } else {
      // NEW, or a chain this router did not start (stateInfo absent or foreign): from the top.
      const own = this.#rules.get(request.method);
      method = own ? request.method : DAR_ALL;
      chain = own ?? this.#rules.get(DAR_ALL) ?? [];
      start = 0;
      if (directive === 'NEW' && targeted && this.#deployed.has(targeted.applicationName)) {
        return this.#targeted(request, method, chain, targeted.applicationName);
      }
    }
    for (let index = start; index < chain.length; index++) {
      const rule = chain[index]!;
      if (rule.routeModifier === 'NO_ROUTE' && !this.#deployed.has(rule.applicationName)) continue;
      if (!this.#matches(rule, request)) continue;
      return info(rule, request, new ChainState(method, chain, index));
    }
    return undefined;
  }

  #targeted(request: RouterRequest, method: string, chain: readonly DarRule[], name: string): ApplicationRouterInfo {
    const index = chain.findIndex((rule) => rule.applicationName === name);
    if (index >= 0) return info(chain[index]!, request, new ChainState(method, chain, index));
    // Not in the chain: invoke it with no subscriber; a later CONTINUE walks the whole chain.
    return {
      nextApplicationName: name,
      routingRegion: 'NEUTRAL',
      routes: [],
      routeModifier: 'NO_ROUTE',
      stateInfo: new ChainState(method, chain, -1),
    };
  }

  #matches(rule: DarRule, request: RouterRequest): boolean {
    const { direction, headerPatterns } = rule.options;
    if (direction !== undefined) {
      if (request.origin === undefined) {
        if (!this.#warnedNoOrigin) {
          this.#warnedNoOrigin = true;
          this.#log.warn(
            { application: rule.applicationName, line: rule.line },
            'A DAR tuple has a DIRECTION option but the container does not say where requests come from; such tuples never match',
          );
        }
        return false;
      }
      if ((direction === 'INBOUND') !== (request.origin === 'NETWORK')) return false;
    }
    for (const { header, pattern } of headerPatterns) {
      const value = request.header(header);
      if (value === undefined || !pattern.test(value)) return false;
    }
    return true;
  }
}

function info(rule: DarRule, request: RouterRequest, state: ChainState): ApplicationRouterInfo {
  const subscriberUri = subscriberOf(rule, request);
  return {
    nextApplicationName: rule.applicationName,
    ...(subscriberUri === undefined ? {} : { subscriberUri }),
    routingRegion: rule.routingRegion,
    routes: rule.route !== undefined && rule.routeModifier !== 'NO_ROUTE' ? [rule.route] : [],
    routeModifier: rule.routeModifier,
    stateInfo: state,
  };
}

function subscriberOf(rule: DarRule, request: RouterRequest): string | undefined {
  const subscriber = rule.subscriber;
  if (subscriber === undefined) return undefined;
  if ('uri' in subscriber) return subscriber.uri;
  switch (subscriber.header.toLowerCase()) {
    case 'from':
    case 'f':
      return request.from;
    case 'to':
    case 't':
      return request.to;
    default:
      return uriOf(request.header(subscriber.header));
  }
}

/** The URI of a name-addr or addr-spec header value (RFC 3261 §20.10): inside <…>, else before ";". */
function uriOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const open = value.indexOf('<', displayNameEnd(value));
  if (open >= 0) {
    const close = value.indexOf('>', open + 1);
    return close > open ? value.slice(open + 1, close).trim() : undefined;
  }
  const uri = value.split(';', 1)[0]!.trim();
  return uri.length > 0 ? uri : undefined;
}

// Where a quoted display name ends, so a "<" inside it is not taken for the URI's.
function displayNameEnd(value: string): number {
  const start = value.indexOf('"');
  if (start < 0 || value.slice(0, start).trim().length > 0) return 0;
  for (let pos = start + 1; pos < value.length; pos++) {
    if (value[pos] === '\\') pos++;
    else if (value[pos] === '"') return pos + 1;
  }
  return 0;
}
