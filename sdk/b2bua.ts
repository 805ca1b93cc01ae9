/**
 * A whole back-to-back call in one call: `b2bua(request, target, options)` answers the
 * caller's INVITE by placing a second one to `target` and relays everything between the
 * two dialogs until one side hangs up. Written on the public API only (the B2buaHelper,
 * sessions and messages), so it doubles as an example of a B2BUA application.
 *
 *   caller                  b2bua()                          callee
 *     | INVITE (SDP) -------> | INVITE (SDP; new Call-ID, tags) ---> |
 *     | <------ 180/183 (SDP) | <------------------- 180/183 (SDP)   |   (reliable 1xx: PRACK relayed)
 *     | <---------- 200 (SDP) | <------------------------ 200 (SDP)  |
 *     | ACK (SDP) ----------> | ACK (SDP) --------------------------> |
 *     | re-INVITE/UPDATE/INFO ⇄ relayed both ways, 491 on glare      |
 *     | BYE ----------------> | 200 to the BYE, BYE --------------->  |
 *
 * Messages reach the call through the servlet: extend `B2buaServlet` (or call
 * `dispatchToB2bua(message)` first in your own handlers).
 */
import { IllegalStateError, SipServlet, type Address, type B2buaHelper, type SipServletMessage, type SipServletRequest, type SipServletResponse, type SipSession } from '../src/api/index.js';
import { NameAddress, parseUri, SipUri, type Uri } from '../src/sip/message/index.js';

/** Who ended a call: one of the parties, or the B2BUA itself (`hangup()`, a timeout). */
export type B2buaParty = 'caller' | 'callee' | 'b2bua';

/** Why a call ended. */
export type B2buaEndCause = 'bye' | 'cancel' | 'rejected' | 'ring-timeout' | 'ack-timeout' | 'hangup' | 'error';

/** How a call ended (`ended` for an answered call, `failed` for one never answered). */
export interface B2buaEnd {
  by: B2buaParty;
  cause: B2buaEndCause;
  /** The final status the caller got, for a call never answered. */
  status?: number;
  /** The reason phrase, or the Reason header of the BYE. */
  reason?: string;
}

/** The answered call: both dialogs and the callee's 2xx. */
export interface B2buaAnswer {
  caller: SipSession;
  callee: SipSession;
  response: SipServletResponse;
}

/** Which way a relayed message goes, for header rewrites. */
export type B2buaDirection = 'toCallee' | 'toCaller';

/** A fixed value (or values) for a header, or a function of the values the relayed message had. */
export type HeaderRewrite =
  | string
  | readonly string[]
  | ((values: string[], context: { direction: B2buaDirection; message: SipServletMessage }) => string | readonly string[] | undefined);

/**
 * Which headers a relayed message carries over, both ways. Headers the container owns
 * (Via, Route, Record-Route, Contact, Call-ID, CSeq, From, To, Max-Forwards, RSeq, RAck,
 * Content-Length and Content-Type, which goes with the body) are never touched.
 * Authorization and Proxy-Authorization answer this hop's challenges and are never
 * copied; a `rewrite` rule (`{ Authorization: (values) => values }`) passes them on.
 */
export interface HeaderPolicy {
  /** `'all'` (default) or only the headers named. */
  copy?: 'all' | readonly string[];
  /** Headers never relayed. Default: none. */
  drop?: readonly string[];
  /** Headers set on the relayed message (a function returning undefined removes it). Default: none. */
  rewrite?: Readonly<Record<string, HeaderRewrite>>;
}

export interface B2buaOptions {
  /** From of the callee leg. Default: the caller's From (URI and display name; the tag is new). */
  from?: Address | Uri | string;
  /** To of the callee leg. Default: the caller's To. */
  to?: Address | Uri | string;
  /** How long the callee may take to answer finally, ms; then it is cancelled. Default 60 000. */
  ringTimeoutMs?: number;
  /** What the caller gets when the ring timeout passes: 480 (default) or 408. */
  ringTimeoutStatus?: number;
  /** How long to wait for the caller's ACK to the relayed 2xx before ending the call, ms. Default 32 000 (64*T1). */
  ackTimeoutMs?: number;
  /**
   * Topology hiding (default true). A B2BUA always gives the callee leg its own Call-ID and
   * tags and never copies Via, Record-Route, Route or Contact; on top of that, hiding drops
   * headers that name hosts or dialogs of the other side (Warning, In-Reply-To, Replaces,
   * Join, Reply-To) and the Contacts of 3xx responses. With false, the callee leg's Contact
   * keeps the user part of the caller's, and 3xx Contacts are relayed.
   */
  hideTopology?: boolean;
  headers?: HeaderPolicy;
  /** Where failures to relay (and listener errors outside a handler) are logged; pass the app's APP_LOGGER. */
  logger?: { warn(details: object, message: string): void };
}

/** The defaults of `B2buaOptions`. */
export const B2BUA_DEFAULTS = {
  ringTimeoutMs: 60_000,
  ringTimeoutStatus: 480,
  ackTimeoutMs: 32_000,
  hideTopology: true,
  headers: { copy: 'all', drop: [], rewrite: {} },
} as const satisfies B2buaOptions;

/** A call that failed before it was answered: `answered` rejects with it. */
export class B2buaError extends Error {
  override readonly name = 'B2buaError';
  readonly end: B2buaEnd;
  constructor(end: B2buaEnd) {
    super(`the call was not answered: ${end.cause} by the ${end.by}${end.status ? ` (${end.status}${end.reason ? ' ' + end.reason : ''})` : ''}`);
    this.end = end;
  }
}

type State = 'calling' | 'early' | 'answered' | 'ended' | 'failed';
type Leg = 'caller' | 'callee' | 'stray';
interface ResolvedOptions {
  from?: Address | Uri | string;
  to?: Address | Uri | string;
  ringTimeoutMs: number;
  ringTimeoutStatus: number;
  ackTimeoutMs: number;
  hideTopology: boolean;
  headers: Required<HeaderPolicy>;
  logger?: B2buaOptions['logger'];
}
interface Listeners {
  answered: (answer: B2buaAnswer) => void;
  ended: (end: B2buaEnd) => void;
  failed: (end: B2buaEnd) => void;
}

/** Headers the container owns, as lower-case names (and compact forms). */
const OWNED = new Set(['via', 'v', 'route', 'record-route', 'contact', 'm', 'call-id', 'i', 'cseq', 'from', 'f', 'to', 't', 'max-forwards', 'rseq', 'rack', 'content-length', 'l', 'content-type', 'c', 'path']);
const TOPOLOGY = ['warning', 'in-reply-to', 'replaces', 'join', 'reply-to'];
const CREDENTIALS = ['authorization', 'proxy-authorization'];
const COMPACT: Record<string, string> = { k: 'supported', s: 'subject', e: 'content-encoding', o: 'event', u: 'allow-events', r: 'refer-to', b: 'referred-by', x: 'session-expires' };
/** In-dialog requests relayed before the call is answered (early dialog). */
const EARLY = new Set(['PRACK', 'UPDATE', 'INFO']);

const calls = new WeakMap<object, B2buaCall>();
/** The header policy of every call given none: one object, not one per call. */
const DEFAULT_HEADERS: Required<HeaderPolicy> = B2BUA_DEFAULTS.headers;
const DONE: Promise<void> = Promise.resolve();
const key = (name: string): string => COMPACT[name.toLowerCase()] ?? name.toLowerCase();
const isResponse = (m: SipServletRequest | SipServletResponse): m is SipServletResponse => typeof (m as SipServletResponse).getStatus === 'function';

/**
 * One back-to-back call (see `b2bua()`): the caller's dialog, the callee's, and what
 * became of them. Its promises settle once; its events fire once, and a listener added
 * after the event is called at once.
 *
 * Hazard: do not await `answered` or `ended` inside the servlet handler that started the
 * call: the call's messages wait for that handler (one event at a time per application
 * session). Listen with `on()`, or await them outside handlers.
 */
export class B2buaCall {
  /** The caller's dialog (this server is its UAS). */
  readonly caller: SipSession;
  /** Resolves when the callee answered and the 2xx went to the caller; rejects with a B2buaError otherwise. */
  readonly answered: Promise<B2buaAnswer>;
  /** Resolves when the call is over, answered or not. */
  readonly ended: Promise<B2buaEnd>;
  readonly #helper: B2buaHelper;
  readonly #callerInvite: SipServletRequest;
  readonly #options: ResolvedOptions;
  #calleeInvite: SipServletRequest | undefined;
  #callee: SipSession | undefined;
  #state: State = 'calling';
  #inviteSent: Promise<void> = DONE;
  #calleeCancelled = false;
  #callerAcked = false;
  #byeCallerOnAck = false;
  #ringTimer: NodeJS.Timeout | undefined;
  #ackTimer: NodeJS.Timeout | undefined;
  #answer: B2buaAnswer | undefined;
  #end: B2buaEnd | undefined;
  // Settle `answered` and `ended`; each is dropped once used (a call lives as long as its dialogs).
  #resolveAnswered: ((answer: B2buaAnswer) => void) | undefined;
  #rejectAnswered: ((error: B2buaError) => void) | undefined;
  #resolveEnded: ((end: B2buaEnd) => void) | undefined;
  /** Event, listener, event, listener … in the order added; made on the first `on()`. */
  #listeners: (keyof Listeners | Listeners[keyof Listeners])[] | undefined;
  #chain: Promise<void> = DONE;
  #errors: unknown[] | undefined;

  private constructor(request: SipServletRequest, options: B2buaOptions) {
    this.caller = request.getSession();
    this.#callerInvite = request;
    this.#helper = request.getB2buaHelper();
    this.#options = resolve(options);
    this.answered = new Promise<B2buaAnswer>((resolve, reject) => ((this.#resolveAnswered = resolve), (this.#rejectAnswered = reject)));
    // Nobody need listen to `answered`: a failed call is not an unhandled rejection.
    this.answered.catch(ignore);
    this.ended = new Promise<B2buaEnd>((resolve) => (this.#resolveEnded = resolve));
  }

  /** 'calling', 'early' (a provisional response relayed), 'answered', 'ended' or 'failed'. */
  get state(): State {
    return this.#state;
  }

  /** The callee's dialog: the session of the INVITE sent, then that of the fork that answered. */
  get callee(): SipSession | undefined {
    return this.#callee;
  }

  on<K extends keyof Listeners>(event: K, listener: Listeners[K]): this {
    const listeners = (this.#listeners ??= []);
    if (indexOf(listeners, event, listener) < 0) listeners.push(event, listener);
    // Terminal events are sticky: a late listener hears them at once.
    if (event === 'answered' && this.#answer !== undefined) (listener as Listeners['answered'])(this.#answer);
    if (event === 'ended' && this.#end !== undefined && this.#state === 'ended') (listener as Listeners['ended'])(this.#end);
    if (event === 'failed' && this.#end !== undefined && this.#state === 'failed') (listener as Listeners['failed'])(this.#end);
    return this;
  }

  off<K extends keyof Listeners>(event: K, listener: Listeners[K]): this {
    const i = this.#listeners === undefined ? -1 : indexOf(this.#listeners, event, listener);
    if (i >= 0) this.#listeners?.splice(i, 2);
    return this;
  }

  /**
   * Ends the call from the B2BUA: before the answer, the callee is cancelled and the caller
   * gets `status` (default 480); after it, both sides get a BYE. Resolves once they are sent.
   */
  hangup(options: { status?: number; reason?: string } = {}): Promise<void> {
    return this.#run(async () => {
      if (this.#state === 'calling' || this.#state === 'early') {
        const status = options.status ?? 480;
        await this.#respond(this.#callerInvite, status, options.reason);
        this.#finish({ by: 'b2bua', cause: 'hangup', status, reason: options.reason });
        await this.#cancelCallee();
      } else if (this.#state === 'answered') {
        this.#finish({ by: 'b2bua', cause: 'hangup', reason: options.reason });
        await this.#ackIfPending(this.#callee);
        await this.#bye(this.#callee);
        await this.#byeCaller();
      }
    }, true);
  }

  /** Starts a call (what `b2bua()` does). */
  static async start(request: SipServletRequest, target: Uri | Address | string, options: B2buaOptions): Promise<B2buaCall> {
    if (request.getMethod() !== 'INVITE' || !request.isInitial()) {
      throw new IllegalStateError(`b2bua() takes an initial INVITE (from doInvite, without a To tag), not ${request.isInitial() ? 'a' : 'a subsequent'} ${request.getMethod()}`);
    }
    const status = options.ringTimeoutStatus ?? B2BUA_DEFAULTS.ringTimeoutStatus;
    if (!Number.isInteger(status) || status < 300 || status > 699) throw new RangeError(`ringTimeoutStatus must be a final failure status (300-699), got ${status}`);
    for (const name of ['ringTimeoutMs', 'ackTimeoutMs'] as const) {
      const ms = options[name];
      if (ms !== undefined && !(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`${name} must be a number of milliseconds >= 0, got ${ms}`);
    }
    const call = new B2buaCall(request, options);
    if (request.isCommitted()) {
      // Answered before the servlet ran: in practice the caller's CANCEL won the race (the container answered 487).
      call.#finish({ by: 'caller', cause: 'cancel', status: 487, reason: 'the INVITE was answered before b2bua() started' });
      return call;
    }
    calls.set(call.caller, call);
    await call.#start(toUri(target));
    return call;
  }

  /** Gives a message to the call it belongs to; false when it belongs to none. */
  static async dispatch(message: SipServletRequest | SipServletResponse): Promise<boolean> {
    const call = isResponse(message) ? (calls.get(message.getRequest()) ?? calls.get(message.getSession())) : calls.get(message.getSession());
    if (call === undefined) return false;
    await call.#run(() => (isResponse(message) ? call.#onResponse(message) : call.#onRequest(message)), true);
    return true;
  }

  // ---- start -------------------------------------------------------------------------

  async #start(target: Uri): Promise<void> {
    const request = this.#callerInvite;
    if (request.getMaxForwards() === 0) {
      await this.#respond(request, 483);
      this.#finish({ by: 'b2bua', cause: 'error', status: 483, reason: 'Too Many Hops' });
      return;
    }
    const map: Record<string, string[]> = {};
    if (this.#options.from !== undefined) map['From'] = [String(this.#options.from)];
    if (this.#options.to !== undefined) map['To'] = [String(this.#options.to)];
    const contact = request.getAddressHeader('Contact')?.uri;
    if (!this.#options.hideTopology && contact instanceof SipUri && contact.rawUser) {
      map['Contact'] = [new NameAddress(new SipUri({ rawUser: contact.rawUser, host: 'invalid' })).toString()];
    }
    const leg = this.#helper.createRequest(request, true, map);
    leg.setRequestURI(target);
    this.#applyPolicy(request, leg, 'toCallee');
    this.#calleeInvite = leg;
    this.#callee = leg.getSession();
    calls.set(leg, this);
    calls.set(leg.getSession(), this);
    this.#ringTimer = this.#timer(this.#options.ringTimeoutMs, () => this.#ringTimeout());
    this.#inviteSent = leg.send();
    try {
      await this.#inviteSent;
      this.#inviteSent = DONE;
    } catch (error) {
      this.#warn(error, 'could not send the INVITE to the callee');
      await this.#respond(request, 500, 'Server Internal Error (callee leg failed)');
      this.#finish({ by: 'b2bua', cause: 'error', status: 500, reason: (error as Error).message });
    }
  }

  // ---- responses -----------------------------------------------------------------------

  async #onResponse(res: SipServletResponse): Promise<void> {
    const req = res.getRequest();
    if (req === this.#calleeInvite) return this.#onCalleeInvite(res);
    const upstream = this.#helper.getLinkedSipServletRequest(req);
    if (upstream === undefined) return;
    const status = res.getStatus();
    if (upstream.isCommitted()) {
      // The side that asked is gone (or was answered): a 2xx to a relayed re-INVITE still needs its ACK.
      if (res.getMethod() === 'INVITE' && status >= 200 && status < 300) await this.#send(() => res.createAck());
      return;
    }
    const direction: B2buaDirection = this.#legOf(upstream.getSession()) === 'caller' ? 'toCaller' : 'toCallee';
    await this.#relayResponse(res, upstream, direction);
    if ((status === 481 || status === 408) && this.#state === 'answered') {
      // RFC 3261 §12.2.1.2: that dialog is over, so is the call.
      this.#finish({ by: direction === 'toCaller' ? 'callee' : 'caller', cause: 'error', status, reason: res.getReasonPhrase() });
      await this.#bye(direction === 'toCaller' ? this.caller : this.#callee);
    }
  }

  async #onCalleeInvite(res: SipServletResponse): Promise<void> {
    const status = res.getStatus();
    const session = res.getSession();
    calls.set(session, this);
    const pending = (this.#state === 'calling' || this.#state === 'early') && !this.#callerInvite.isCommitted();
    if (status < 200) {
      if (!pending) return;
      this.#callee = session;
      this.#state = 'early';
      await this.#relayResponse(res, this.#callerInvite, 'toCaller');
      return;
    }
    if (status >= 300) {
      if (!pending) return;
      await this.#relayResponse(res, this.#callerInvite, 'toCaller');
      this.#finish({ by: 'callee', cause: 'rejected', status, reason: res.getReasonPhrase() });
      return;
    }
    if (!pending) {
      // RFC 3261 §15: a 2xx crossing our CANCEL (or a fork's second 2xx) gets its ACK, then a BYE.
      if (this.#callerInvite.isCommitted() && this.#end === undefined) this.#finish({ by: 'caller', cause: 'cancel', status: 487 });
      await this.#send(() => res.createAck());
      await this.#bye(session);
      return;
    }
    this.#callee = session;
    if (session !== this.#calleeInvite?.getSession()) {
      this.#helper.unlinkSipSessions(this.caller);
      this.#helper.linkSipSessions(this.caller, session);
    }
    this.#state = 'answered';
    this.#ringTimer = stop(this.#ringTimer);
    if (!(await this.#relayResponse(res, this.#callerInvite, 'toCaller'))) {
      this.#finish({ by: 'b2bua', cause: 'error', status: 500 });
      await this.#send(() => res.createAck());
      await this.#bye(session);
      return;
    }
    this.#ackTimer = this.#timer(this.#options.ackTimeoutMs, () => this.#ackTimeout());
    this.#answer = { caller: this.caller, callee: session, response: res };
    this.#resolveAnswered?.(this.#answer);
    this.#resolveAnswered = this.#rejectAnswered = undefined;
    this.#emit('answered', this.#answer);
  }

  /** Relays a response to `upstream` (a request received on the other leg); false when it could not be sent. */
  async #relayResponse(res: SipServletResponse, upstream: SipServletRequest, direction: B2buaDirection): Promise<boolean> {
    const status = res.getStatus();
    try {
      const out = upstream.createResponse(status, res.getReasonPhrase());
      this.#copyHeaders(res, out, direction, status < 200);
      if (status >= 300 && status < 400 && !this.#options.hideTopology) for (const c of res.getAddressHeaders('Contact')) out.addAddressHeader('Contact', c);
      const body = res.getRawContent();
      if (body.length > 0) out.setContent(body, res.getContentType() ?? 'application/sdp');
      if (status < 200 && res.getHeader('RSeq') !== undefined) {
        // RFC 3262: relayed reliably when the caller can PRACK (its PRACK is relayed); else PRACKed here.
        if (supports100rel(upstream)) {
          out.sendReliably().catch((error: unknown) => this.#warn(error, 'a reliable provisional response was not acknowledged'));
          return true;
        }
        await out.send();
        await this.#send(() => res.createPrack());
        return true;
      }
      await out.send();
      return true;
    } catch (error) {
      this.#warn(error, `could not relay a ${status} response`);
      return false;
    }
  }

  // ---- requests --------------------------------------------------------------------------

  async #onRequest(req: SipServletRequest): Promise<void> {
    const leg = this.#legOf(req.getSession());
    switch (req.getMethod()) {
      case 'CANCEL':
        return this.#onCancel();
      case 'ACK':
        return this.#onAck(req, leg);
      case 'BYE':
        return this.#onBye(req, leg);
      default:
        return this.#onInDialog(req, leg);
    }
  }

  /** The container already answered 200 to the CANCEL and 487 to the INVITE (RFC 3261 §9.2). */
  async #onCancel(): Promise<void> {
    if (this.#state !== 'calling' && this.#state !== 'early') return;
    this.#finish({ by: 'caller', cause: 'cancel', status: 487 });
    await this.#cancelCallee();
  }

  async #onAck(ack: SipServletRequest, leg: Leg): Promise<void> {
    if (leg === 'caller' && !this.#callerAcked && ack.getCSeq() === this.#callerInvite.getCSeq()) {
      this.#callerAcked = true;
      this.#ackTimer = stop(this.#ackTimer);
      if (this.#byeCallerOnAck) {
        // The callee hung up before this ACK (RFC 3261 §15: no BYE before it); now the caller hears of it.
        this.#byeCallerOnAck = false;
        await this.#bye(this.caller);
        return;
      }
    }
    if (leg === 'stray' || this.#state === 'failed') return;
    const other = leg === 'caller' ? this.#callee : this.caller;
    // The ACK carries the answer when the 2xx carried the offer: relayed with its content.
    if (other !== undefined && this.#hasPending2xx(other)) await this.#relay(ack, other, leg === 'caller' ? 'toCallee' : 'toCaller');
  }

  async #onBye(bye: SipServletRequest, leg: Leg): Promise<void> {
    await this.#respond(bye, 200);
    if (leg === 'stray') return;
    if (this.#state === 'calling' || this.#state === 'early') {
      // RFC 3261 §15: BYE on an early dialog. From the caller it ends the call as a CANCEL would.
      if (leg !== 'caller') return;
      await this.#respond(this.#callerInvite, 487);
      this.#finish({ by: 'caller', cause: 'bye', status: 487 });
      await this.#cancelCallee();
      return;
    }
    if (this.#state !== 'answered') return;
    this.#finish({ by: leg, cause: 'bye', reason: bye.getHeader('Reason') });
    if (leg === 'caller') {
      await this.#ackIfPending(this.#callee);
      if (this.#callee !== undefined) await this.#relay(bye, this.#callee, 'toCallee');
      return;
    }
    await this.#ackIfPending(this.#callee);
    await this.#byeCaller(bye);
  }

  async #onInDialog(req: SipServletRequest, leg: Leg): Promise<void> {
    const method = req.getMethod();
    const early = this.#state === 'early' && EARLY.has(method);
    if (leg === 'stray' || (this.#state !== 'answered' && !early)) {
      await this.#respond(req, 481);
      return;
    }
    const session = req.getSession();
    if (method === 'INVITE' || method === 'UPDATE') {
      // RFC 3261 §14.2 (RFC 3311 §5.2 for UPDATE): an offer crossing the one this side was sent is a glare.
      if (this.#helper.getPendingMessages(session, 'UAC').some((m) => !isResponse(m) && m.getMethod() === method)) {
        await this.#respond(req, 491);
        return;
      }
      if (this.#helper.getPendingMessages(session, 'UAS').some((m) => m !== req && !isResponse(m) && m.getMethod() === method)) {
        await this.#respond(req, 500, 'Server Internal Error (a previous request is pending)', { 'Retry-After': String(Math.floor(Math.random() * 11)) });
        return;
      }
    }
    const other = leg === 'caller' ? this.#callee : this.caller;
    if (other === undefined || !(await this.#relay(req, other, leg === 'caller' ? 'toCallee' : 'toCaller'))) {
      // A PRACK for a provisional response the callee sent unreliably is this hop's to answer.
      await this.#respond(req, method === 'PRACK' ? 200 : 500);
    }
  }

  // ---- timers ------------------------------------------------------------------------------

  async #ringTimeout(): Promise<void> {
    if (this.#state !== 'calling' && this.#state !== 'early') return;
    const status = this.#options.ringTimeoutStatus;
    await this.#respond(this.#callerInvite, status);
    this.#finish({ by: 'b2bua', cause: 'ring-timeout', status });
    await this.#cancelCallee();
  }

  async #ackTimeout(): Promise<void> {
    if (this.#callerAcked) return;
    if (this.#state === 'answered') this.#finish({ by: 'b2bua', cause: 'ack-timeout' });
    this.#byeCallerOnAck = false;
    await this.#byeBoth();
  }

  // ---- relaying ------------------------------------------------------------------------------

  /** Relays a request to the other leg's session; false when it could not be created or sent. */
  async #relay(req: SipServletRequest, to: SipSession, direction: B2buaDirection): Promise<boolean> {
    try {
      const out = this.#helper.createRequestFor(to, req);
      this.#applyPolicy(req, out, direction);
      calls.set(out, this);
      await out.send();
      return true;
    } catch (error) {
      this.#warn(error, `could not relay ${req.getMethod()}`);
      return false;
    }
  }

  async #cancelCallee(): Promise<void> {
    this.#ringTimer = stop(this.#ringTimer);
    if (this.#calleeCancelled || this.#calleeInvite === undefined) return;
    this.#calleeCancelled = true;
    await this.#inviteSent.catch(() => undefined);
    // Throws once the INVITE has its final response: a 2xx, if that is what came, gets ACK and BYE.
    await this.#send(() => this.#helper.createCancel(this.#calleeInvite!.getSession()), true);
  }

  /**
   * BYE to the caller (relaying `bye` when given). RFC 3261 §15: not before the caller's ACK
   * for the 2xx, or the ack timeout; until then it waits.
   */
  async #byeCaller(bye?: SipServletRequest): Promise<void> {
    if (this.#callerAcked) {
      if (bye !== undefined) await this.#relay(bye, this.caller, 'toCaller');
      else await this.#bye(this.caller);
      return;
    }
    this.#byeCallerOnAck = true;
    stop(this.#ackTimer);
    this.#ackTimer = this.#timer(this.#options.ackTimeoutMs, () => this.#ackTimeout());
  }

  async #byeBoth(): Promise<void> {
    await this.#ackIfPending(this.#callee);
    await this.#bye(this.#callee);
    await this.#bye(this.caller);
  }

  async #bye(session: SipSession | undefined): Promise<void> {
    if (session === undefined || !session.isValid() || session.getState() === 'TERMINATED') return;
    await this.#send(() => session.createRequest('BYE'));
  }

  async #ackIfPending(session: SipSession | undefined): Promise<void> {
    if (session === undefined || !session.isValid()) return;
    const ok = this.#helper.getPendingMessages(session, 'UAC').find((m): m is SipServletResponse => isResponse(m) && m.getStatus() >= 200);
    if (ok !== undefined) await this.#send(() => ok.createAck());
  }

  #hasPending2xx(session: SipSession): boolean {
    return session.isValid() && this.#helper.getPendingMessages(session, 'UAC').some((m) => isResponse(m) && m.getStatus() >= 200);
  }

  /** Creates and sends a request of the call's own (ACK, PRACK, BYE, CANCEL), logging a failure. */
  async #send(create: () => SipServletRequest, quiet = false): Promise<void> {
    try {
      const out = create();
      calls.set(out, this);
      await out.send();
    } catch (error) {
      if (!quiet) this.#warn(error, 'could not send a request of the call');
    }
  }

  async #respond(req: SipServletRequest, status: number, reason?: string, headers: Record<string, string> = {}): Promise<void> {
    if (req.isCommitted()) return;
    try {
      const res = req.createResponse(status, reason);
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      await res.send();
    } catch (error) {
      this.#warn(error, `could not answer ${req.getMethod()} with ${status}`);
    }
  }

  // ---- header policy ----------------------------------------------------------------------------

  /** Prunes and rewrites the headers the container copied onto a relayed request. */
  #applyPolicy(source: SipServletMessage, target: SipServletRequest, direction: B2buaDirection): void {
    const { copy, drop, rewrite } = this.#options.headers;
    const dropped = new Set([...CREDENTIALS, ...drop.map(key)]);
    if (this.#options.hideTopology) for (const h of TOPOLOGY) dropped.add(h);
    const kept = copy === 'all' ? undefined : new Set(copy.map(key));
    for (const name of target.getHeaderNames()) {
      const k = key(name);
      if (OWNED.has(k)) continue;
      if (dropped.has(k) || (kept !== undefined && !kept.has(k))) target.removeHeader(name);
    }
    this.#rewrite(source, target, direction, rewrite);
  }

  /** Copies the headers of a relayed response the policy lets through. */
  #copyHeaders(source: SipServletResponse, target: SipServletResponse, direction: B2buaDirection, provisional: boolean): void {
    const { copy, drop, rewrite } = this.#options.headers;
    const dropped = new Set([...CREDENTIALS, ...drop.map(key)]);
    if (this.#options.hideTopology) for (const h of TOPOLOGY) dropped.add(h);
    const kept = copy === 'all' ? undefined : new Set(copy.map(key));
    const rewritten = new Set(Object.keys(rewrite).map(key));
    for (const name of source.getHeaderNames()) {
      const k = key(name);
      // Require: 100rel belongs to the hop that sends reliably; the container sets it.
      if (OWNED.has(k) || rewritten.has(k) || dropped.has(k) || (provisional && k === 'require') || (kept !== undefined && !kept.has(k))) continue;
      for (const value of source.getHeaders(name)) target.addHeader(name, value);
    }
    this.#rewrite(source, target, direction, rewrite);
  }

  #rewrite(source: SipServletMessage, target: SipServletMessage, direction: B2buaDirection, rules: Readonly<Record<string, HeaderRewrite>>): void {
    for (const [name, rule] of Object.entries(rules)) {
      if (OWNED.has(key(name))) continue;
      const value = typeof rule === 'function' ? rule(source.getHeaders(name), { direction, message: source }) : rule;
      target.removeHeader(name);
      if (value === undefined) continue;
      for (const v of typeof value === 'string' ? [value] : value) target.addHeader(name, v);
    }
  }

  // ---- bookkeeping ----------------------------------------------------------------------------------

  #legOf(session: SipSession): Leg {
    if (session === this.caller) return 'caller';
    if (this.#state !== 'answered' && this.#state !== 'ended') return 'callee';
    return session === this.#callee ? 'callee' : 'stray';
  }

  #finish(end: B2buaEnd): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    this.#ringTimer = stop(this.#ringTimer);
    this.#ackTimer = stop(this.#ackTimer);
    if (this.#answer !== undefined) {
      this.#state = 'ended';
      this.#emit('ended', end);
    } else {
      this.#state = 'failed';
      this.#rejectAnswered?.(new B2buaError(end));
      this.#resolveAnswered = this.#rejectAnswered = undefined;
      this.#emit('failed', end);
    }
    this.#resolveEnded?.(end);
    this.#resolveEnded = undefined;
  }

  #emit<K extends keyof Listeners>(event: K, value: Parameters<Listeners[K]>[0]): void {
    const listeners = this.#listeners;
    if (listeners === undefined) return;
    const now: Listeners[K][] = [];
    for (let i = 0; i < listeners.length; i += 2) if (listeners[i] === event) now.push(listeners[i + 1] as Listeners[K]);
    for (const listener of now) {
      try {
        (listener as (v: typeof value) => void)(value);
      } catch (error) {
        (this.#errors ??= []).push(error);
      }
    }
  }

  /**
   * Runs one step of the call after the previous one (messages, timers, hangup), so they never
   * interleave. A listener's error is rethrown from a message's step, where the container logs
   * it against the app's servlet; from a timer it goes to the logger.
   */
  #run(task: () => Promise<void> | void, rethrow: boolean): Promise<void> {
    const step = this.#chain.then(task).then(() => {
      const errors = this.#errors;
      this.#errors = undefined;
      if (errors === undefined || errors.length === 0) return;
      if (rethrow) throw errors.length === 1 ? errors[0] : new AggregateError(errors, 'listeners of a b2bua() call failed');
      for (const error of errors) this.#warn(error, 'a listener of a b2bua() call failed');
    });
    this.#chain = step.catch(() => undefined);
    return step;
  }

  #timer(ms: number, task: () => Promise<void>): NodeJS.Timeout {
    const timer = setTimeout(() => void this.#run(task, false).catch((error: unknown) => this.#warn(error, 'a b2bua() timer failed')), ms);
    timer.unref?.();
    return timer;
  }

  #warn(error: unknown, message: string): void {
    this.#options.logger?.warn({ err: error, callId: this.caller.getCallId() }, message);
  }
}

/**
 * Connects the caller of `request` (an initial INVITE, not yet answered) to `target`
 * as a back-to-back user agent and relays the call until either side hangs up: see
 * `B2buaOptions` for timeouts, header policy and topology hiding. Resolves with the call
 * once the callee's INVITE is on its way; `call.answered` and the `answered`, `ended`
 * and `failed` events say what became of it.
 *
 * The servlet must hand the call its messages: extend `B2buaServlet`, or call
 * `dispatchToB2bua(message)` first in your doRequest/doResponse (or decorated handlers).
 *
 * Hazards: an INVITE already answered when b2bua() runs (the caller's CANCEL came first,
 * and the container answered 487) gives a call that has already failed (cause 'cancel').
 * SDP is relayed as it is: media flows between the parties unless you rewrite it.
 *
 * @example
 * import { b2bua, B2buaServlet, SipApplication, SipServlet, type SipServletRequest } from 'siplet/sdk';
 *
 * @SipApplication({ name: 'pbx' })
 * @SipServlet({ name: 'pbx' })
 * export class Pbx extends B2buaServlet {
 *   override async doInvite(req: SipServletRequest) {
 *     const call = await b2bua(req, 'sip:desk@10.0.0.5', { ringTimeoutMs: 20_000, headers: { drop: ['X-Internal'] } });
 *     call.on('ended', (end) => console.log(`hung up by the ${end.by}`));
 *   }
 * }
 */
export function b2bua(request: SipServletRequest, target: Uri | Address | string, options: B2buaOptions = {}): Promise<B2buaCall> {
  return B2buaCall.start(request, target, options);
}

/**
 * Hands a message to the b2bua() call it belongs to. Resolves true when it did (the call
 * handled it), false when the message belongs to no call (handle it yourself).
 *
 * @example
 * override async doRequest(req: SipServletRequest) {
 *   if (await dispatchToB2bua(req)) return;
 *   await super.doRequest(req);
 * }
 */
export function dispatchToB2bua(message: SipServletRequest | SipServletResponse): Promise<boolean> {
  return B2buaCall.dispatch(message);
}

/**
 * A servlet whose b2bua() calls get their messages: requests and responses of a call go
 * to it, everything else to the usual doXxx methods. Override doInvite to start calls.
 *
 * @example
 * @SipServlet({ name: 'b2b' })
 * export class Relay extends B2buaServlet {
 *   override async doInvite(req: SipServletRequest) {
 *     await b2bua(req, req.getRequestURI());
 *   }
 * }
 */
export abstract class B2buaServlet extends SipServlet {
  override async doRequest(request: SipServletRequest): Promise<void> {
    if (await dispatchToB2bua(request)) return;
    await super.doRequest(request);
  }

  override async doResponse(response: SipServletResponse): Promise<void> {
    if (await dispatchToB2bua(response)) return;
    await super.doResponse(response);
  }
}

function toUri(target: Uri | Address | string): Uri {
  if (target instanceof NameAddress) return target.uri.clone();
  if (typeof target !== 'string') return target.clone();
  const uri = parseUri(target.trim()) ?? parseUri(target.trim().replace(/^.*<([^>]*)>.*$/, '$1'));
  if (uri === undefined) throw new TypeError(`b2bua(): not a target URI: ${JSON.stringify(target)} (expected e.g. sip:bob@example.com)`);
  return uri;
}

/** The options with their defaults, in one object of a fixed shape (the default header policy shared). */
function resolve(options: B2buaOptions): ResolvedOptions {
  const given = options.headers;
  return {
    from: options.from,
    to: options.to,
    ringTimeoutMs: or(options.ringTimeoutMs, B2BUA_DEFAULTS.ringTimeoutMs),
    ringTimeoutStatus: or(options.ringTimeoutStatus, B2BUA_DEFAULTS.ringTimeoutStatus),
    ackTimeoutMs: or(options.ackTimeoutMs, B2BUA_DEFAULTS.ackTimeoutMs),
    hideTopology: or(options.hideTopology, B2BUA_DEFAULTS.hideTopology),
    headers: given === undefined ? DEFAULT_HEADERS : { ...DEFAULT_HEADERS, ...defined(given) },
    logger: options.logger,
  };
}

/** `value` unless it is undefined (a null, as `defined()` keeps it, stays). */
function or<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/** Where the pair (event, listener) is in a flat listener list, or -1. */
function indexOf(list: readonly unknown[], event: string, listener: unknown): number {
  for (let i = 0; i < list.length; i += 2) if (list[i] === event && list[i + 1] === listener) return i;
  return -1;
}

/** Clears a timer; returns undefined, for the field that held it. */
function stop(timer: NodeJS.Timeout | undefined): undefined {
  clearTimeout(timer);
  return undefined;
}

function ignore(): undefined {
  return undefined;
}

/** The entries of `o` that are not undefined (so that they do not hide a default). */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function supports100rel(request: SipServletRequest): boolean {
  return [...request.getHeaders('Supported'), ...request.getHeaders('Require')].some((t) => t.trim().toLowerCase() === '100rel');
}
