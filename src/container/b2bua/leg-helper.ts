import { randomBytes } from 'node:crypto';
import {
  IllegalStateError,
  type Address,
  type B2buaHelper,
  type SipServletRequest,
  type SipServletResponse,
  type SipSession,
  type UaMode,
} from '../../api/index.js';
import { createResponse, headerKey, SipRequest } from '../../sip/message/index.js';
import { IncomingRequest, OutgoingRequest, OutgoingResponse, type MessageRuntime } from '../message/index.js';
import { newSessionTag, SipSessionImpl } from '../session/index.js';
import { applyHeaderMap, copyHeaders, NOT_COPIED, type HeaderMap } from './header-map.js';
import type { LegRegistry } from './leg-registry.js';

const NONE: ReadonlySet<string> = new Set();

/** What the helper needs from the container. */
export interface LegHost {
  readonly runtime: MessageRuntime;
  /** A new SIP session of the application `like` belongs to, in the same application session. */
  createSessionLike(
    like: SipSessionImpl,
    init: { callId: string; local: Address; remote: Address; role: 'UAC' | 'UAS'; derivedFrom?: SipSessionImpl },
  ): SipSessionImpl;
}

/**
 * The container's B2buaHelper (JSR 289 §12). It holds no state of its own: the
 * links and pending messages live in the LegRegistry, on the sessions, so one
 * helper serves every application.
 */
export class LegHelper implements B2buaHelper {
  readonly #host: LegHost;
  readonly #legs: LegRegistry;

  constructor(host: LegHost, legs: LegRegistry) {
    this.#host = host;
    this.#legs = legs;
  }

  createRequest(original: SipServletRequest, linked = true, headers?: HeaderMap): SipServletRequest {
    const orig = ownRequest(original);
    const source = orig.message;
    const method = source.method;
    if (method === 'ACK' || method === 'CANCEL') {
      throw new IllegalStateError(`createRequest starts a new leg and cannot copy ${method}: relay it with createRequestFor() or createCancel()`);
    }
    const session = orig.getSession();
    if (!session.isValid()) throw new IllegalStateError(`SIP session ${session.getId()} was invalidated`);
    if (linked && this.#legs.linkedSession(session) !== undefined) {
      throw new IllegalStateError(`SIP session ${session.getId()} is already linked to another leg: call unlinkSipSessions() first, or create the request unlinked`);
    }
    // The copy first (the header map applies to it), then the headers the container owns, on top.
    const copy = new SipRequest(method, source.uri.clone());
    copyHeaders(source, copy);
    const mapped = applyHeaderMap(copy, headers, { initial: true });
    const from = (mapped.from ?? source.from).clone();
    from.tag = newSessionTag();
    const to = (mapped.to ?? source.to).clone();
    to.tag = undefined;
    const callId = randomBytes(12).toString('base64url');
    const request = new SipRequest(method, source.uri.clone());
    request.add('From', from.toString());
    request.add('To', to.toString());
    request.add('Call-ID', callId);
    request.add('CSeq', `1 ${method}`);
    // Each B2BUA hop counts, so that two of them calling each other end in 483, not in a loop.
    request.add('Max-Forwards', String(Math.max(0, orig.getMaxForwards() - 1)));
    copyHeaders(copy, request, NONE);
    request.body = source.body;
    const leg = this.#host.createSessionLike(session, { callId, local: from, remote: to, role: 'UAC' });
    leg.setHandler(session.getHandler());
    const out = new OutgoingRequest({ request, session: leg, runtime: this.#host.runtime, kind: 'initial' });
    if (mapped.contact !== undefined) {
      out.contactTemplate = mapped.contact;
      this.#legs.setContact(leg, mapped.contact);
    }
    this.#legs.join(session);
    this.#legs.join(leg);
    if (linked) {
      this.#legs.link(session, leg);
      this.#legs.linkRequests(orig, out);
    }
    if (orig instanceof IncomingRequest && orig.isInitial()) this.#legs.routeFrom(out, orig);
    return out;
  }

  createRequestFor(session: SipSession, original: SipServletRequest, headers?: HeaderMap): SipServletRequest {
    const leg = ownSession(session);
    const orig = ownRequest(original);
    const method = orig.getMethod();
    let out: OutgoingRequest;
    if (method === 'CANCEL') {
      throw new IllegalStateError('a CANCEL is not relayed as a request in the dialog: use createCancel(session) for the INVITE sent on that leg');
    } else if (method === 'ACK') {
      const ok = this.#legs.unacknowledged(leg);
      if (ok === undefined) throw new IllegalStateError(`no 2xx to an INVITE waits for an ACK in SIP session ${leg.getId()}`);
      out = ok.createAck() as OutgoingRequest;
    } else if (method === 'PRACK') {
      const reliable = this.#legs.unprackedProvisional(leg);
      if (reliable === undefined) throw new IllegalStateError(`no reliable provisional response waits for a PRACK in SIP session ${leg.getId()}`);
      out = reliable.createPrack() as OutgoingRequest;
    } else {
      out = leg.createRequest(method) as OutgoingRequest;
    }
    const msg = out.message;
    // What the container put in the request stays; the rest of the original's headers join it.
    const skip = new Set(NOT_COPIED);
    for (const [name] of msg.headers()) skip.add(headerKey(name));
    copyHeaders(orig.message, msg, skip);
    msg.body = orig.message.body;
    const mapped = applyHeaderMap(msg, headers, { initial: false });
    const contact = mapped.contact ?? this.#legs.contactOf(leg);
    if (contact !== undefined) out.contactTemplate = contact;
    const origSession = orig.getSession();
    this.#legs.join(leg);
    this.#legs.join(origSession);
    if (origSession !== leg && this.#legs.linkedSession(leg) === undefined && this.#legs.linkedSession(origSession) === undefined) {
      this.#legs.link(origSession, leg);
    }
    this.#legs.linkRequests(orig, out);
    return out;
  }

  createCancel(session: SipSession): SipServletRequest {
    const leg = ownSession(session);
    const invite = this.#legs.originalSent(leg);
    if (invite === undefined || invite.getMethod() !== 'INVITE') {
      throw new IllegalStateError(`SIP session ${leg.getId()} sent no INVITE to cancel`);
    }
    return invite.createCancel();
  }

  createResponseToOriginalRequest(session: SipSession, status: number, reason?: string): SipServletResponse {
    const target = ownSession(session);
    if (!target.isValid()) throw new IllegalStateError(`SIP session ${target.getId()} was invalidated`);
    const original = this.#legs.originalReceived(target);
    if (original === undefined) throw new IllegalStateError(`SIP session ${target.getId()} did not receive the request that created it: it has no original request to answer`);
    if (!Number.isInteger(status) || status < 100 || status > 699) throw new RangeError(`status must be 100-699, got ${status}`);
    const isDerived = target !== original.getSession();
    if (!isDerived && !original.isCommitted()) return original.createResponse(status, reason);
    const sent = original.finalResponse?.getStatus();
    const success = status >= 200 && status < 300;
    if (original.getMethod() !== 'INVITE' || !success || sent === undefined || sent >= 300) {
      throw new IllegalStateError(
        `a ${status} is inconsistent with the ${sent ?? 'final'} response already sent to the ${original.getMethod()}: only a further 2xx to an INVITE answered 2xx can follow (forking)`,
      );
    }
    let answering = target;
    if (!isDerived) {
      // RFC 3261 §13.2.2.4 seen from the UAS: each further 2xx is another dialog, with its own To tag.
      const local = target.getLocalParty();
      local.tag = newSessionTag();
      answering = this.#host.createSessionLike(target, { callId: target.getCallId(), local, remote: target.getRemoteParty(), role: 'UAS', derivedFrom: target });
      answering.setHandler(target.getHandler());
      this.#legs.join(answering);
      this.#legs.markDerivedAnswer(answering);
    } else if (!this.#legs.isDerivedAnswer(target) || answering.dialog !== undefined) {
      throw new IllegalStateError(`SIP session ${target.getId()} already answered the original request`);
    }
    const res = createResponse(original.message, status, { reason, toTag: answering.localTag });
    return new OutgoingResponse({ response: res, request: original, session: answering, runtime: this.#host.runtime, additional: true });
  }

  getLinkedSession(session: SipSession): SipSession | undefined {
    return this.#legs.linkedSession(ownSession(session));
  }

  getLinkedSipServletRequest(request: SipServletRequest): SipServletRequest | undefined {
    return this.#legs.linkedRequest(request);
  }

  linkSipSessions(a: SipSession, b: SipSession): void {
    this.#legs.link(ownSession(a), ownSession(b));
  }

  unlinkSipSessions(session: SipSession): void {
    this.#legs.unlink(ownSession(session));
  }

  getPendingMessages(session: SipSession, mode: UaMode): (SipServletRequest | SipServletResponse)[] {
    if (mode !== 'UAC' && mode !== 'UAS') throw new RangeError(`mode must be 'UAC' or 'UAS', got ${String(mode)}`);
    return this.#legs.pending(ownSession(session), mode);
  }
}

function ownRequest(request: SipServletRequest): IncomingRequest | OutgoingRequest {
  if (request instanceof IncomingRequest || request instanceof OutgoingRequest) return request;
  throw new TypeError('not a request of this container');
}

function ownSession(session: SipSession): SipSessionImpl {
  if (session instanceof SipSessionImpl) return session;
  throw new TypeError('not a SIP session of this container');
}
