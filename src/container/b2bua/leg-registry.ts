import { IllegalStateError, type SipServletRequest, type SipServletResponse } from '../../api/index.js';
import type { NameAddress } from '../../sip/message/index.js';
import type { IncomingRequest, IncomingResponse, OutgoingRequest } from '../message/index.js';
import type { SipSessionImpl } from '../session/index.js';

/** session.internal keys: what the registry keeps on a session. */
const LEG = 'b2bua.leg';
const RECEIVED = 'b2bua.originalReceived';
const SENT = 'b2bua.originalSent';

/** What a session used by a B2BUA application carries (in `session.internal`, gone on invalidation). */
interface Leg {
  linked: SipSessionImpl | undefined;
  /** Requests received in the session, not yet answered finally (UAS pending). */
  received: IncomingRequest[];
  /** Requests sent in the session, without a final response yet (UAC pending). */
  sent: OutgoingRequest[];
  /** 2xx to INVITE not yet acknowledged, reliable 1xx not yet PRACKed (UAC pending). */
  responses: IncomingResponse[];
  /** Contact user part, display name and parameters the app chose for this leg. */
  contact: NameAddress | undefined;
  /** Set on a derived UAS session created for a further 2xx (createResponseToOriginalRequest). */
  derivedAnswer: boolean;
}

/**
 * The container's B2BUA bookkeeping (JSR 289 §12): linked sessions and requests,
 * the messages of each leg not yet committed (getPendingMessages), and the
 * request whose application routing a new leg continues. Sessions join once the
 * application asks for a B2buaHelper or the helper creates them; the per-message
 * hooks cost one map lookup for every other session.
 */
export class LegRegistry {
  readonly #linkedRequests = new WeakMap<object, SipServletRequest>();
  /** New legs and the received initial request whose routing they continue (JSR 289 §15.4.1). */
  readonly #routedFrom = new WeakMap<OutgoingRequest, IncomingRequest>();

  /** Makes `session` a B2BUA leg (idempotent). */
  join(session: SipSessionImpl): void {
    this.#leg(session);
  }

  isLeg(session: SipSessionImpl): boolean {
    return session.internal.has(LEG);
  }

  // ---- hooks from the container's dispatch paths ------------------------------------

  /** A request about to reach the app. */
  received(request: IncomingRequest): void {
    const session = request.getSession();
    if (request.isInitial()) session.internal.set(RECEIVED, request);
    const leg = session.internal.get(LEG) as Leg | undefined;
    if (leg === undefined) return;
    const method = request.getMethod();
    if (method === 'ACK' || method === 'CANCEL' || request.isInitial()) return;
    leg.received = leg.received.filter((r) => !r.isCommitted());
    leg.received.push(request);
  }

  /** A response about to reach the app (after the container moved it to a derived session if forked). */
  responseReceived(response: IncomingResponse): void {
    const session = response.getSession();
    let leg = session.internal.get(LEG) as Leg | undefined;
    if (leg === undefined) {
      // A fork's derived session belongs to the B2BUA when the session it derives from does.
      if (session.derivedFrom === undefined || !this.isLeg(session.derivedFrom)) return;
      leg = this.#leg(session);
    }
    const status = response.getStatus();
    const invite = response.getMethod() === 'INVITE';
    if ((invite && status >= 200 && status < 300) || (invite && status > 100 && status < 200 && response.message.has('rseq'))) {
      leg.responses.push(response);
    }
  }

  /**
   * A request the app sends (ACK included). Returns the received request whose
   * application routing it continues when it is a new leg's initial request.
   */
  sending(request: OutgoingRequest): IncomingRequest | undefined {
    const session = request.getSession();
    if (request.kind === 'initial') session.internal.set(SENT, request);
    const leg = session.internal.get(LEG) as Leg | undefined;
    if (leg !== undefined) {
      if (request.kind === 'ack') {
        // RFC 3261 §13.2.2.4: the ACK takes the CSeq number of its INVITE.
        const seq = request.getCSeq();
        leg.responses = leg.responses.filter((r) => !(r.getStatus() >= 200 && r.getCSeq() === seq));
      } else {
        if (request.kind === 'prack') {
          // RFC 3262 §7.2: RAck names the RSeq and CSeq of the response it acknowledges.
          const [rseq, cseq] = (request.getHeader('rack') ?? '').trim().split(/\s+/);
          leg.responses = leg.responses.filter((r) => !(r.getStatus() < 200 && r.getHeader('rseq') === rseq && String(r.getCSeq()) === cseq));
        }
        leg.sent = leg.sent.filter((r) => r.finalResponse === undefined);
        leg.sent.push(request);
      }
    }
    const routed = this.#routedFrom.get(request);
    if (routed !== undefined) this.#routedFrom.delete(request);
    return routed;
  }

  // ---- what the helper asks --------------------------------------------------------------

  /** The initial request received in `session` (or in the session it derives from). */
  originalReceived(session: SipSessionImpl): IncomingRequest | undefined {
    return (session.internal.get(RECEIVED) ?? session.derivedFrom?.internal.get(RECEIVED)) as IncomingRequest | undefined;
  }

  /** The initial request sent in `session` (or in the session it derives from). */
  originalSent(session: SipSessionImpl): OutgoingRequest | undefined {
    return (session.internal.get(SENT) ?? session.derivedFrom?.internal.get(SENT)) as OutgoingRequest | undefined;
  }

  routeFrom(leg: OutgoingRequest, original: IncomingRequest): void {
    this.#routedFrom.set(leg, original);
  }

  link(a: SipSessionImpl, b: SipSessionImpl): void {
    if (a === b) throw new IllegalStateError('a session cannot be linked to itself');
    for (const s of [a, b]) if (!s.isValid()) throw new IllegalStateError(`SIP session ${s.getId()} was invalidated and cannot be linked`);
    const la = this.#leg(a);
    const lb = this.#leg(b);
    for (const [leg, self, other] of [[la, a, b], [lb, b, a]] as const) {
      const current = leg.linked;
      if (current !== undefined && current !== other && current.isValid()) {
        throw new IllegalStateError(`SIP session ${self.getId()} is already linked to ${current.getId()}: call unlinkSipSessions() first`);
      }
    }
    la.linked = b;
    lb.linked = a;
  }

  unlink(session: SipSessionImpl): void {
    const leg = session.internal.get(LEG) as Leg | undefined;
    const other = leg?.linked;
    if (leg === undefined || other === undefined) return;
    leg.linked = undefined;
    const otherLeg = other.internal.get(LEG) as Leg | undefined;
    if (otherLeg?.linked === session) otherLeg.linked = undefined;
  }

  linkedSession(session: SipSessionImpl): SipSessionImpl | undefined {
    const linked = (session.internal.get(LEG) as Leg | undefined)?.linked;
    return linked !== undefined && linked.isValid() ? linked : undefined;
  }

  linkRequests(a: SipServletRequest, b: SipServletRequest): void {
    this.#linkedRequests.set(a, b);
    this.#linkedRequests.set(b, a);
  }

  linkedRequest(request: SipServletRequest): SipServletRequest | undefined {
    const other = this.#linkedRequests.get(request);
    if (other === undefined) return undefined;
    const session = other.getSession();
    return session.isValid() ? other : undefined;
  }

  setContact(session: SipSessionImpl, contact: NameAddress): void {
    this.#leg(session).contact = contact;
  }

  contactOf(session: SipSessionImpl): NameAddress | undefined {
    return (session.internal.get(LEG) as Leg | undefined)?.contact;
  }

  markDerivedAnswer(session: SipSessionImpl): void {
    this.#leg(session).derivedAnswer = true;
  }

  isDerivedAnswer(session: SipSessionImpl): boolean {
    return (session.internal.get(LEG) as Leg | undefined)?.derivedAnswer === true;
  }

  /** The 2xx to INVITE waiting for an ACK in `session` (the oldest), if any. */
  unacknowledged(session: SipSessionImpl): IncomingResponse | undefined {
    return (session.internal.get(LEG) as Leg | undefined)?.responses.find((r) => r.getStatus() >= 200);
  }

  /** The reliable provisional response waiting for a PRACK in `session` (the oldest), if any. */
  unprackedProvisional(session: SipSessionImpl): IncomingResponse | undefined {
    return (session.internal.get(LEG) as Leg | undefined)?.responses.find((r) => r.getStatus() < 200);
  }

  pending(session: SipSessionImpl, mode: 'UAC' | 'UAS'): (SipServletRequest | SipServletResponse)[] {
    const leg = session.internal.get(LEG) as Leg | undefined;
    const out: (SipServletRequest | SipServletResponse)[] = [];
    if (mode === 'UAS') {
      const original = session.internal.get(RECEIVED) as IncomingRequest | undefined;
      if (original !== undefined && !original.isCommitted() && !original.cancelled) out.push(original);
      for (const r of leg?.received ?? []) if (!r.isCommitted()) out.push(r);
    } else {
      const original = session.internal.get(SENT) as OutgoingRequest | undefined;
      if (original !== undefined && original.finalResponse === undefined && !(leg?.sent.includes(original) ?? false)) out.push(original);
      for (const r of leg?.sent ?? []) if (r.finalResponse === undefined) out.push(r);
      for (const r of leg?.responses ?? []) out.push(r);
    }
    return out.sort((x, y) => x.getCSeq() - y.getCSeq());
  }

  #leg(session: SipSessionImpl): Leg {
    let leg = session.internal.get(LEG) as Leg | undefined;
    if (leg === undefined) {
      leg = { linked: undefined, received: [], sent: [], responses: [], contact: undefined, derivedAnswer: false };
      session.internal.set(LEG, leg);
    }
    return leg;
  }
}
