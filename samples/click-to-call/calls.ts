/**
 * The third-party calls of click-to-call (RFC 3725 §4.1, flow I), one per application session:
 * what the HTTP routes start, look at and end, and what the servlet's SIP events move along.
 * Everything here runs in the application session's serial queue (SIP events, and HTTP requests
 * once they joined the session), so the call record never changes under a reader.
 */
import {
  APP_CONFIG,
  APP_LOGGER,
  inject,
  SIP_FACTORY,
  TIMER_SERVICE,
  type AppConfig,
  type AppLogger,
  type ServletTimer,
  type SipApplicationSession,
  type SipFactory,
  type SipServletRequest,
  type SipServletResponse,
  type SipSession,
  type SipSessionState,
  type TimerService,
} from 'siplet/sdk';

/** `first`: the party called first (whose phone rings first); `second`: the one it is connected to. */
export type Role = 'first' | 'second';

/** Where one party's leg is: `idle` until called; `failed` when it never answered; `ended` after it was connected. */
export type PartyState = 'idle' | 'calling' | 'ringing' | 'answered' | 'ended' | 'failed';

/** The call as `GET /click-to-call/calls/:id` reports it. */
export type CallState = 'calling' | 'ringing' | 'answered' | 'ended';

export interface PartyView {
  readonly uri: string;
  readonly state: PartyState;
  /** The SIP session's state while it exists (JSR 289: INITIAL, EARLY, CONFIRMED, TERMINATED). */
  readonly sip: SipSessionState | undefined;
  /** The final response of a leg that failed: `486 Busy Here`. */
  readonly status?: number;
  readonly reason?: string;
}

export interface CallView {
  readonly id: string;
  readonly state: CallState;
  /** Which party is being called (while `calling` or `ringing`). */
  readonly calling?: Role;
  /** Why the call ended: `second party hung up`, `first party did not answer: 486 Busy Here` … */
  readonly reason?: string;
  readonly from: PartyView;
  readonly to: PartyView;
  readonly createdAt: string;
  readonly answeredAt?: string;
  readonly endedAt?: string;
}

interface Party {
  uri: string;
  state: PartyState;
  status?: number;
  reason?: string;
  session?: SipSession;
  invite?: SipServletRequest;
  /** A CANCEL is wanted as soon as the INVITE may be cancelled (after its first provisional response). */
  cancelWanted?: boolean;
  timer?: ServletTimer;
}

interface Call {
  first: Party;
  second: Party;
  createdAt: number;
  answeredAt?: number;
  endedAt?: number;
  reason?: string;
  /** The first party's 200 (with its offer): ACKed with the second party's answer once it comes. */
  firstAnswer?: SipServletResponse;
}

const CALL = 'click-to-call.call';
const ROLE = 'click-to-call.role';

export class InvalidCallError extends Error {}

/** The calls, over the application sessions that hold them. */
export class Calls {
  readonly #factory: SipFactory;
  readonly #timers: TimerService;
  readonly #config: AppConfig;
  readonly #log: AppLogger;

  constructor(
    @inject(SIP_FACTORY) factory: SipFactory,
    @inject(TIMER_SERVICE) timers: TimerService,
    @inject(APP_CONFIG) config: AppConfig,
    @inject(APP_LOGGER) log: AppLogger,
  ) {
    this.#factory = factory;
    this.#timers = timers;
    this.#config = config;
    this.#log = log;
  }

  /**
   * Checks two addresses (`sip:` or `sips:` URIs, in the configured domains if any) and starts the
   * call in `appSession`: an INVITE without SDP to the first party. Throws `InvalidCallError`.
   */
  async place(appSession: SipApplicationSession, from: unknown, to: unknown): Promise<void> {
    const first = this.#address(from, 'from');
    const second = this.#address(to, 'to');
    const call: Call = { first: { uri: first, state: 'idle' }, second: { uri: second, state: 'idle' }, createdAt: Date.now() };
    // The record outlives the SIP sessions, so that the ended call can still be looked at until the session expires.
    appSession.setInvalidateWhenReady(false);
    appSession.setAttribute(CALL, call);
    // The first party sees the second as the caller: it is who they are about to talk to.
    await this.#invite(appSession, call, 'first', { from: call.second.uri, to: call.first.uri });
  }

  /** The call of an application session, or `undefined` when it holds none. */
  describe(appSession: SipApplicationSession): CallView | undefined {
    const call = appSession.getAttribute<Call>(CALL);
    if (call === undefined) return undefined;
    const leg = call.second.state === 'idle' ? call.first : call.second;
    const state: CallState =
      call.endedAt !== undefined ? 'ended' : call.answeredAt !== undefined ? 'answered' : leg.state === 'ringing' ? 'ringing' : 'calling';
    return {
      id: appSession.getId(),
      state,
      ...(state === 'calling' || state === 'ringing' ? { calling: leg === call.first ? 'first' : 'second' } : {}),
      ...(call.reason !== undefined ? { reason: call.reason } : {}),
      from: view(call.first),
      to: view(call.second),
      createdAt: new Date(call.createdAt).toISOString(),
      ...(call.answeredAt !== undefined ? { answeredAt: new Date(call.answeredAt).toISOString() } : {}),
      ...(call.endedAt !== undefined ? { endedAt: new Date(call.endedAt).toISOString() } : {}),
    };
  }

  /** Ends the call: BYE to every answered party, CANCEL to one still ringing. */
  async hangUp(appSession: SipApplicationSession, reason = 'hung up'): Promise<void> {
    const call = appSession.getAttribute<Call>(CALL);
    if (call !== undefined) await this.#end(call, reason);
  }

  // ---- SIP events (from the servlet) ----------------------------------------------------

  async provisional(res: SipServletResponse): Promise<void> {
    const found = this.#partyOf(res.getSession());
    if (found === undefined || res.getMethod() !== 'INVITE') return;
    const { call, party } = found;
    if (party.cancelWanted) {
      party.cancelWanted = false;
      await this.#cancel(party);
      return;
    }
    if (call.endedAt === undefined && party.state === 'calling') party.state = 'ringing';
  }

  async success(res: SipServletResponse): Promise<void> {
    if (res.getMethod() !== 'INVITE') return;
    const found = this.#partyOf(res.getSession());
    if (found === undefined) return;
    const { call, party, role } = found;
    party.timer?.cancel();
    party.session = res.getSession();
    if (call.endedAt !== undefined) {
      // Answered after the call was given up (a 200 crossing our CANCEL): acknowledge it and hang up.
      await this.#ackAndBye(res);
      return;
    }
    party.state = 'answered';
    if (role === 'first') {
      const offer = res.getContent();
      if (offer === undefined || res.getContentLength() === 0) {
        await this.#ackAndBye(res);
        party.state = 'ended';
        this.#ended(call, 'first party answered without an SDP offer');
        return;
      }
      // RFC 3725 §4.1 flow I: hold the first party's 200 (and its offer) until the second party answers.
      call.firstAnswer = res;
      await this.#invite(res.getApplicationSession(), call, 'second', { from: call.first.uri, to: call.second.uri, sdp: offer });
      return;
    }
    // The second party's answer goes to the first party in the ACK of its 200: now they talk.
    await res.createAck().send();
    const firstAnswer = call.firstAnswer;
    call.firstAnswer = undefined;
    if (firstAnswer !== undefined) {
      const ack = firstAnswer.createAck();
      ack.setContent(res.getContent(), res.getContentType() ?? 'application/sdp');
      await ack.send();
    }
    call.answeredAt = Date.now();
    this.#log.info({ call: res.getApplicationSession().getId(), from: call.first.uri, to: call.second.uri }, 'call connected');
  }

  async failure(res: SipServletResponse): Promise<void> {
    if (res.getMethod() !== 'INVITE') return;
    const found = this.#partyOf(res.getSession());
    if (found === undefined) return;
    const { call, party, role } = found;
    party.timer?.cancel();
    if (party.state === 'ended' || party.state === 'failed') return;
    party.state = 'failed';
    party.status = res.getStatus();
    party.reason = res.getReasonPhrase();
    await this.#end(call, `${role} party did not answer: ${res.getStatus()} ${res.getReasonPhrase()}`);
  }

  async bye(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
    const found = this.#partyOf(req.getSession());
    if (found === undefined) return;
    found.party.state = 'ended';
    await this.#end(found.call, `${found.role} party hung up`);
  }

  /** A party's ring timer expired. */
  async timeout(timer: ServletTimer): Promise<void> {
    const role = timer.getInfo<Role>();
    const call = timer.getApplicationSession().getAttribute<Call>(CALL);
    if (call === undefined || call.endedAt !== undefined) return;
    const party = call[role];
    if (party.state !== 'calling' && party.state !== 'ringing') return;
    party.state = 'failed';
    party.reason = 'no answer';
    await this.#end(call, `${role} party did not answer within ${Math.round(this.#ringTimeoutMs() / 1000)} s`);
  }

  // ---- inside ------------------------------------------------------------------------------

  async #invite(appSession: SipApplicationSession, call: Call, role: Role, how: { from: string; to: string; sdp?: string | Buffer }): Promise<void> {
    const party = call[role];
    const invite = this.#factory.createRequest({
      appSession,
      method: 'INVITE',
      from: this.#factory.createAddress(`"${this.#config.get<string>('displayName', 'click-to-call')}" <${how.from}>`),
      to: how.to,
    });
    if (how.sdp !== undefined) invite.setContent(how.sdp, 'application/sdp');
    const session = invite.getSession();
    session.setAttribute(ROLE, role);
    party.session = session;
    party.invite = invite;
    party.state = 'calling';
    party.timer = this.#timers.createTimer(appSession, { delay: this.#ringTimeoutMs(), info: role, persistent: false });
    await invite.send();
  }

  /** Ends the call once: each leg as far as it got (BYE, CANCEL, or ACK then BYE for a held 200). */
  async #end(call: Call, reason: string): Promise<void> {
    if (call.endedAt !== undefined) return;
    this.#ended(call, reason);
    for (const party of [call.first, call.second]) {
      party.timer?.cancel();
      if (party.state === 'ended' || party.state === 'failed' || party.state === 'idle') continue;
      const session = party.session;
      if (session === undefined || !session.isValid()) {
        if (party.state === 'calling' || party.state === 'ringing') party.state = 'failed';
        continue;
      }
      try {
        if (party === call.first && call.firstAnswer !== undefined) {
          // Its 200 is still unacknowledged: ACK it (refusing its offer) and hang up.
          const held = call.firstAnswer;
          call.firstAnswer = undefined;
          await this.#ackAndBye(held);
          party.state = 'ended';
        } else if (session.getState() === 'CONFIRMED') {
          await session.createRequest('BYE').send();
          party.state = 'ended';
        } else if (party.state === 'calling' || party.state === 'ringing') {
          await this.#cancel(party);
          party.state = 'failed';
          party.reason ??= 'cancelled';
        }
      } catch (error) {
        this.#log.warn({ err: error }, 'could not end a leg of the call');
      }
    }
  }

  #ended(call: Call, reason: string): void {
    call.endedAt ??= Date.now();
    call.reason ??= reason;
    this.#log.info({ reason: call.reason }, 'call ended');
  }

  async #cancel(party: Party): Promise<void> {
    const invite = party.invite;
    if (invite === undefined) return;
    try {
      await invite.createCancel().send();
    } catch {
      // RFC 3261 §9.1: not before a provisional response; it is sent when one comes.
      party.cancelWanted = true;
    }
  }

  /** ACKs a 200 (with an answer refusing every stream of its offer, RFC 3264 §6) and sends BYE. */
  async #ackAndBye(res: SipServletResponse): Promise<void> {
    const ack = res.createAck();
    const offer = res.getContent();
    if (offer !== undefined && res.getContentLength() > 0 && res.getRequest().getContentLength() === 0) {
      ack.setContent(refusal(offer.toString()), 'application/sdp');
    }
    await ack.send();
    await res.getSession().createRequest('BYE').send();
  }

  #partyOf(session: SipSession): { call: Call; party: Party; role: Role } | undefined {
    const role = session.getAttribute<Role>(ROLE);
    const call = session.getApplicationSession().getAttribute<Call>(CALL);
    if (role === undefined || call === undefined) return undefined;
    return { call, party: call[role], role };
  }

  #ringTimeoutMs(): number {
    return this.#config.get<number>('ringTimeoutMs', 25_000);
  }

  #address(value: unknown, field: string): string {
    if (typeof value !== 'string' || value.trim() === '') throw new InvalidCallError(`"${field}" must be a SIP address such as sip:alice@example.com`);
    let uri;
    try {
      uri = this.#factory.createURI(value.trim());
    } catch {
      throw new InvalidCallError(`"${field}" is not a SIP URI: ${JSON.stringify(value)}; give e.g. sip:alice@example.com`);
    }
    const text = uri.toString();
    if (!/^sips?:[^@\s]+@/.test(text)) throw new InvalidCallError(`"${field}" must be a sip: or sips: URI with a user part, e.g. sip:alice@example.com`);
    const domains = this.#config.get<string[]>('domains', []);
    const host = text.slice(text.indexOf('@') + 1).replace(/[:;?].*$/, '').toLowerCase();
    if (domains.length > 0 && !domains.some((d) => host === d || host.endsWith('.' + d))) {
      throw new InvalidCallError(`"${field}" is in ${host}, which this service does not call (it calls ${domains.join(', ')})`);
    }
    return text;
  }
}

function view(party: Party): PartyView {
  const session = party.session;
  return {
    uri: party.uri,
    state: party.state,
    sip: session !== undefined && session.isValid() ? session.getState() : undefined,
    ...(party.status !== undefined ? { status: party.status } : {}),
    ...(party.reason !== undefined ? { reason: party.reason } : {}),
  };
}

/** An SDP answer that refuses every stream of an offer (RFC 3264 §6: port 0, one m= line per offered one). */
export function refusal(offer: string): string {
  const media = offer
    .split(/\r?\n/)
    .filter((line) => line.startsWith('m='))
    .map((line) => {
      const [kind = 'audio', , proto = 'RTP/AVP', format = '0'] = line.slice(2).split(' ');
      return `m=${kind} 0 ${proto} ${format}`;
    });
  return ['v=0', 'o=click-to-call 0 0 IN IP4 0.0.0.0', 's=-', 'c=IN IP4 0.0.0.0', 't=0 0', ...media, ''].join('\r\n');
}
