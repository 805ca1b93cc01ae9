/**
 * Proxy helpers: ring groups, hunting (find-me-follow-me) and failover, as
 * promises over the container's JSR 289 Proxy. Each one proxies the request
 * at once and resolves with the outcome once the final response has gone
 * upstream; the proxy does the SIP work (branches, CANCEL, best response, RFC
 * 3261 §16), the helper only decides when each target starts.
 *
 * How a helper learns what happens: the Proxy's response listeners
 * (`onBranchResponse`, `onFinalResponse`), which run as responses arrive,
 * outside the application session's queue. The servlet's doBranchResponse and
 * doResponse are not involved unless `supervised` is set.
 */
import { IllegalStateError, type Proxy, type ProxyBranch, type SipServletRequest, type SipServletResponse } from '../src/api/index.js';
import { parseUri, type Uri } from '../src/sip/message/index.js';

/**
 * How a proxy helper ended: the target that answered and its 2xx, or the status sent upstream (the
 * best response, RFC 3261 §16.7) with every final response a target gave, in the order they came.
 *
 * @example
 * const outcome = await ringGroup(req, members);
 * if (outcome.answered) log.info({ by: outcome.target.toString() }, 'answered');
 * else log.info({ status: outcome.status, tried: outcome.responses.length }, 'nobody answered');
 */
export type ProxyOutcome =
  | { answered: true; target: Uri; response: SipServletResponse }
  | { answered: false; status: number; responses: SipServletResponse[] };

/**
 * What every proxy helper accepts.
 *
 * @example
 * await ringGroup(req, members, { recordRoute: true });
 */
export interface ProxyHelperOptions {
  /** Record-Route, so the dialog's ACK, BYE and re-INVITEs pass through this application. Default `false`. */
  recordRoute?: boolean;
  /**
   * JSR 289 supervised mode: the servlet's doBranchResponse and doResponse also see this proxy's
   * responses. Default `false`: the returned promise is how the app learns the outcome.
   *
   * Hazard: with `true`, do not `await` the promise in the handler that proxied (use `.then()`):
   * those callbacks, and the relaying of responses upstream, wait behind the handler in the
   * application session's queue, so the promise would never settle.
   */
  supervised?: boolean;
}

/**
 * Options of {@link ringGroup}.
 *
 * @example
 * await ringGroup(req, members, { timeoutMs: 25_000 });
 */
export interface RingGroupOptions extends ProxyHelperOptions {
  /** How long the members ring before every leg is cancelled and 408 goes upstream. Default 30 000 ms. */
  timeoutMs?: number;
}

/**
 * One target of {@link hunt}.
 *
 * @example
 * const mobile: HuntTarget = { uri: 'sip:alice@mobile.example.com', delayMs: 5_000, timeoutMs: 20_000 };
 */
export interface HuntTarget {
  uri: Uri | string;
  /** When this leg starts ringing, counted from the start of the hunt (FreeSWITCH `leg_delay_start`). Default 0. */
  delayMs?: number;
  /** How long this leg rings, counted from its own start, before it alone is cancelled (FreeSWITCH `leg_timeout`). Default: the hunt's `legTimeoutMs`. */
  timeoutMs?: number;
}

/**
 * Options of {@link hunt}.
 *
 * @example
 * await hunt(req, targets, { legTimeoutMs: 15_000, recordRoute: true });
 */
export interface HuntOptions extends ProxyHelperOptions {
  /** Ring timeout of a target that names none. Default 20 000 ms. */
  legTimeoutMs?: number;
}

/**
 * Options of {@link failover}.
 *
 * @example
 * await failover(req, ['sip:pbx1.example.com', 'sip:pbx2.example.com'], { attemptTimeoutMs: 8_000 });
 */
export interface FailoverOptions extends ProxyHelperOptions {
  /**
   * How long one target may take to answer before it counts as 408 and the next one is tried.
   * Default: the application's `proxyTimeout` (180 s unless `@SipApplication` sets it).
   */
  attemptTimeoutMs?: number;
}

/**
 * Rings every target at once (parallel forking) and resolves with the outcome: the first 2xx goes
 * upstream and the other legs are cancelled; when nobody answers within `timeoutMs`, or everyone
 * refuses, the best response goes upstream (RFC 3261 §16.7: all busy gives 486; a 6xx ends the
 * group at once). A caller's CANCEL cancels every leg (487).
 *
 * Hazards: the request must be an initial request that nothing answered or proxied yet. Repeated
 * targets ring once. 3xx responses are not followed (the best response carries their Contacts).
 * Rejects with RangeError for an empty or malformed target list, IllegalStateError when the request
 * cannot be proxied.
 *
 * @example
 * override async doInvite(req: SipServletRequest): Promise<void> {
 *   const outcome = await ringGroup(req, ['sip:desk@10.0.0.5', 'sip:phone@10.0.0.6'], { recordRoute: true, timeoutMs: 20_000 });
 *   this.log.info(outcome.answered ? { answeredBy: outcome.target.toString() } : { status: outcome.status }, 'ring group done');
 * }
 */
export function ringGroup(request: SipServletRequest, targets: ReadonlyArray<Uri | string>, options: RingGroupOptions = {}): Promise<ProxyOutcome> {
  return drive(request, options, () => {
    const timeoutMs = positive(options.timeoutMs ?? 30_000, 'timeoutMs');
    const uris = uniqueUris(targets);
    return (run) => run.startNow(uris.map((target) => run.leg(target, 0, timeoutMs)));
  });
}

/**
 * Hunts for the callee over several targets (find-me-follow-me), each starting `delayMs` after the
 * hunt starts and ringing for its own `timeoutMs`, as FreeSWITCH's `leg_delay_start` and
 * `leg_timeout` do: legs overlap when the delays say so (a mobile may join a desk phone that still
 * rings), and a leg's timeout cancels only that leg. The first 2xx wins and the other legs, ringing
 * or waiting, are cancelled. The hunt never waits in silence: when no leg rings and some still wait
 * (every earlier one refused or timed out, or the first delay is not 0), the next waiting leg starts
 * at once and the later ones move up by the same amount. A 6xx ends the hunt (RFC 3261 §16.7);
 * a caller's CANCEL cancels every leg and no waiting leg starts.
 *
 * Hazards: as for {@link ringGroup}; the timeouts apply to INVITE (other methods end on their
 * transaction timeout).
 *
 * @example
 * override async doInvite(req: SipServletRequest): Promise<void> {
 *   const outcome = await hunt(req, [
 *     { uri: 'sip:alice@desk.example.com', delayMs: 0, timeoutMs: 15_000 },
 *     { uri: 'sip:alice@mobile.example.com', delayMs: 5_000, timeoutMs: 20_000 },
 *   ], { recordRoute: true });
 *   if (!outcome.answered) this.log.info({ status: outcome.status }, 'alice not found');
 * }
 */
export function hunt(request: SipServletRequest, targets: readonly HuntTarget[], options: HuntOptions = {}): Promise<ProxyOutcome> {
  return drive(request, options, () => {
    const legTimeoutMs = positive(options.legTimeoutMs ?? 20_000, 'legTimeoutMs');
    const seen = new Set<string>();
    const plan: Array<{ uri: Uri; delayMs: number; timeoutMs: number }> = [];
    for (const t of targets) {
      const uri = toUri(t.uri);
      if (seen.has(uri.toString())) continue;
      seen.add(uri.toString());
      const delayMs = t.delayMs ?? 0;
      if (!(delayMs >= 0) || !Number.isFinite(delayMs)) throw new RangeError(`delayMs of ${uri.toString()} must be a finite number >= 0, got ${String(t.delayMs)}`);
      plan.push({ uri, delayMs, timeoutMs: positive(t.timeoutMs ?? legTimeoutMs, `timeoutMs of ${uri.toString()}`) });
    }
    if (plan.length === 0) throw new RangeError('hunt needs at least one target');
    return (run) => {
      const legs = plan.map((p) => run.leg(p.uri, p.delayMs, p.timeoutMs));
      run.onLegEnded = (_leg, status) => {
        if (status >= 600) run.dropWaiting();
        else run.startNextIfIdle();
      };
      run.startNow(legs.filter((l) => l.delayMs === 0));
      for (const leg of legs) if (leg.delayMs > 0) run.schedule(leg);
      run.startNextIfIdle();
    };
  });
}

/**
 * Tries the targets one after another: the next one when the current one answers 5xx (503 also for
 * a transport error the container met), 408 (also at `attemptTimeoutMs`), and stops at any other
 * final response, which goes upstream (or the best of them when every target failed over,
 * RFC 3261 §16.7: a 503 goes up as 500). A caller's CANCEL stops it (487).
 *
 * Hazards: as for {@link ringGroup}.
 *
 * @example
 * override async doInvite(req: SipServletRequest): Promise<void> {
 *   const outcome = await failover(req, ['sip:gw1.example.com;transport=tcp', 'sip:gw2.example.com;transport=tcp'], { attemptTimeoutMs: 5_000 });
 *   if (!outcome.answered) this.log.warn({ status: outcome.status }, 'no gateway took the call');
 * }
 */
export function failover(request: SipServletRequest, targets: ReadonlyArray<Uri | string>, options: FailoverOptions = {}): Promise<ProxyOutcome> {
  return drive(request, options, () => {
    const explicit = options.attemptTimeoutMs === undefined ? undefined : positive(options.attemptTimeoutMs, 'attemptTimeoutMs');
    const uris = uniqueUris(targets);
    return (run) => {
      const attemptTimeoutMs = explicit ?? run.proxy.getProxyTimeout() * 1000;
      const legs = uris.map((target) => run.leg(target, 0, attemptTimeoutMs));
      run.onLegEnded = (_leg, status) => {
        const next = legs.find((l) => l.state === 'waiting');
        if (next !== undefined && (status === 408 || (status >= 500 && status < 600))) run.startNow([next]);
        else run.dropWaiting();
      };
      run.startNow(legs.slice(0, 1));
    };
  });
}

// ---- the engine the three share -------------------------------------------------------

interface Leg {
  readonly target: Uri;
  /** Milliseconds after the start; moves up when the run goes idle. */
  delayMs: number;
  readonly timeoutMs: number;
  state: 'waiting' | 'ringing' | 'done';
  timer: NodeJS.Timeout | undefined;
}

/**
 * One helper run over one Proxy: starts legs as branches (createProxyBranches + a branch timeout +
 * startProxy, in parallel mode so a leg can join legs that ring), follows them through the Proxy's
 * response listeners and settles on the final response sent upstream.
 */
class Run {
  readonly proxy: Proxy;
  /** Called when one of our legs gets a non-2xx final response, before the proxy acts on it. */
  onLegEnded: ((leg: Leg, status: number) => void) | undefined;
  readonly #legs: Leg[] = [];
  readonly #byBranch = new Map<ProxyBranch, Leg>();
  readonly #finals: SipServletResponse[] = [];
  readonly #started = Date.now();
  readonly #unsubscribe: Array<() => void> = [];
  #settled = false;
  readonly #resolve: (outcome: ProxyOutcome) => void;
  readonly #reject: (error: unknown) => void;

  constructor(proxy: Proxy, resolve: (outcome: ProxyOutcome) => void, reject: (error: unknown) => void) {
    this.proxy = proxy;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#unsubscribe.push(
      proxy.onBranchResponse((response, branch) => this.#branchResponse(response, branch)),
      proxy.onFinalResponse((response, branch) => this.#finalResponse(response, branch)),
    );
  }

  leg(target: Uri, delayMs: number, timeoutMs: number): Leg {
    const leg: Leg = { target, delayMs, timeoutMs, state: 'waiting', timer: undefined };
    this.#legs.push(leg);
    return leg;
  }

  /** Starts waiting legs now, as branches of the proxy. */
  startNow(legs: readonly Leg[]): void {
    const starting = legs.filter((l) => l.state === 'waiting');
    if (starting.length === 0 || this.#settled) return;
    for (const leg of starting) {
      clearTimeout(leg.timer);
      leg.state = 'done';
    }
    let created: ProxyBranch[];
    try {
      created = this.proxy.createProxyBranches(starting.map((l) => l.target));
    } catch (error) {
      // The proxy is over (the caller cancelled, or its final response went upstream): nothing more starts.
      if (!(error instanceof IllegalStateError)) throw error;
      this.dropWaiting();
      return;
    }
    for (const branch of created) {
      const leg = starting.find((l) => l.target.toString() === branch.getTarget().toString());
      if (leg === undefined) continue;
      branch.setProxyBranchTimeout(leg.timeoutMs / 1000);
      leg.state = 'ringing';
      this.#byBranch.set(branch, leg);
    }
    // A target the app had already made a branch for is not ours to ring again: its leg stays done.
    if (created.length > 0) this.proxy.startProxy();
  }

  /** Starts a leg when its delay has passed. */
  schedule(leg: Leg): void {
    clearTimeout(leg.timer);
    if (leg.state !== 'waiting') return;
    leg.timer = setTimeout(() => {
      try {
        this.startNow([leg]);
      } catch (error) {
        // Not an error of the proxy being over (startNow absorbs those): a bug, reported to the caller.
        this.dispose();
        this.#reject(error);
      }
    }, Math.max(0, this.#started + leg.delayMs - Date.now()));
    leg.timer.unref?.();
  }

  /** FreeSWITCH's rule: when no leg rings, the next waiting one starts now and the later ones move up as much. */
  startNextIfIdle(): void {
    if (this.#settled || this.#legs.some((l) => l.state === 'ringing')) return;
    const waiting = this.#legs.filter((l) => l.state === 'waiting');
    if (waiting.length === 0) return;
    const next = Math.min(...waiting.map((l) => l.delayMs));
    const shift = Math.max(0, next - (Date.now() - this.#started));
    for (const leg of waiting) leg.delayMs -= shift;
    this.startNow(waiting.filter((l) => l.delayMs === next - shift));
    for (const leg of waiting) this.schedule(leg);
  }

  dropWaiting(): void {
    for (const leg of this.#legs) {
      if (leg.state !== 'waiting') continue;
      clearTimeout(leg.timer);
      leg.state = 'done';
    }
  }

  #branchResponse(response: SipServletResponse, branch: ProxyBranch): void {
    const leg = this.#byBranch.get(branch);
    const status = response.getStatus();
    if (leg === undefined || status < 200 || leg.state !== 'ringing') return;
    leg.state = 'done';
    this.#finals.push(response);
    if (status < 300) this.dropWaiting();
    else this.onLegEnded?.(leg, status);
  }

  /** Stops following the proxy: no leg starts any more. */
  dispose(): void {
    this.#settled = true;
    this.dropWaiting();
    for (const off of this.#unsubscribe) off();
  }

  #finalResponse(response: SipServletResponse, branch: ProxyBranch | undefined): void {
    if (this.#settled) return;
    this.dispose();
    const status = response.getStatus();
    if (status >= 200 && status < 300) {
      const target = (branch !== undefined ? this.#byBranch.get(branch)?.target : undefined) ?? branch?.getTarget() ?? response.getRequest().getRequestURI();
      this.#resolve({ answered: true, target, response });
    } else {
      this.#resolve({ answered: false, status, responses: [...this.#finals] });
    }
  }
}

/**
 * Checks the arguments (`prepare` throws on bad ones, before the request is touched), sets the proxy
 * up the way every helper needs it, then lets the starter `prepare` returned start the first legs.
 */
function drive(request: SipServletRequest, options: ProxyHelperOptions, prepare: () => (run: Run) => void): Promise<ProxyOutcome> {
  return new Promise<ProxyOutcome>((resolve, reject) => {
    let run: Run | undefined;
    try {
      const start = prepare();
      const proxy = request.getProxy();
      proxy.setParallel(true);
      proxy.setRecurse(false);
      proxy.setSupervised(options.supervised ?? false);
      proxy.setRecordRoute(options.recordRoute ?? false);
      run = new Run(proxy, resolve, reject);
      start(run);
    } catch (error) {
      run?.dispose();
      reject(error);
    }
  });
}

function toUri(target: Uri | string): Uri {
  if (typeof target !== 'string') return target;
  const uri = parseUri(target);
  if (uri === undefined) throw new RangeError(`not a SIP URI: ${JSON.stringify(target)}`);
  return uri;
}

function uniqueUris(targets: ReadonlyArray<Uri | string>): Uri[] {
  const seen = new Set<string>();
  const out: Uri[] = [];
  for (const t of targets) {
    const uri = toUri(t);
    if (seen.has(uri.toString())) continue;
    seen.add(uri.toString());
    out.push(uri);
  }
  if (out.length === 0) throw new RangeError('the proxy helper needs at least one target');
  return out;
}

function positive(ms: number, name: string): number {
  if (!(ms > 0) || !Number.isFinite(ms)) throw new RangeError(`${name} must be a number of milliseconds > 0, got ${String(ms)}`);
  return ms;
}
