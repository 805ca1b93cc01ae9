import { IllegalStateError, type Address } from '../api/index.js';
import { Dialog, DIALOG_CREATING, TARGET_REFRESH } from '../dialog/index.js';
import { createResponse, NameAddress, parseMessage, SipUri, type SipRequest, type SipResponse } from '../sip/message/index.js';
import { newBranch, type ClientInviteTransaction, type ClientTransaction } from '../sip/transaction/index.js';
import { ipFamily, type Destination, type MessageSource, type Protocol } from '../sip/transport/index.js';
import type { CoreHost } from './core-host.js';
import { IncomingResponse, OutgoingRequest } from './message/index.js';
import type { SipSessionImpl } from './session/index.js';

const ACK_SENT = 'uac.ack:';
/** An INVITE whose transaction is in Accepted, kept by its application session while it is valid (by SIP session id and CSeq). */
const INVITE_SENT = 'uac.invite:';

/**
 * The UAC side of the container's user agent (RFC 3261 §8.1, §12.1.2, §13.2):
 * resolves where a request goes (RFC 3263, with failover to the next target on
 * a transport error), runs its client transaction, turns timeouts and
 * transport errors into 408 / 503 for the app (§8.1.3.1), creates dialogs from
 * responses, derived sessions for forked ones, and re-sends the app's ACK
 * when a 2xx is retransmitted.
 */
export class UacCore {
  readonly #host: CoreHost;
  /** The derived sessions (JSR 289 §6.2.3.2) each forked initial request created. */
  readonly #forks = new WeakMap<OutgoingRequest, SipSessionImpl[]>();
  /**
   * Per INVITE sent, the To tags it got a 2xx from, with the app's ACK once sent:
   * a 2xx with a known tag is a retransmission, even after its session is gone.
   */
  readonly #answered = new WeakMap<OutgoingRequest, Map<string, SentAck | undefined>>();
  /** The 2xx each ACK the app created acknowledges. */
  readonly #ackOf = new WeakMap<OutgoingRequest, IncomingResponse>();

  constructor(host: CoreHost) {
    this.#host = host;
  }

  async sendRequest(req: OutgoingRequest): Promise<void> {
    const msg = req.message;
    const session = req.getSession();
    if (req.kind === 'ack') {
      await this.#sendAck(req);
      return;
    }
    if ((DIALOG_CREATING.has(msg.method) || TARGET_REFRESH.has(msg.method)) && !msg.has('contact')) {
      req.autoContact = true;
    }
    session.transactionStarted();
    const targets = await this.#resolve(msg);
    if (targets.length === 0) {
      this.#fail(req, 503, `cannot resolve ${nextHop(msg)?.toString() ?? msg.uriText}`);
      return;
    }
    this.#start(req, targets, 0);
  }

  async cancel(invite: OutgoingRequest): Promise<void> {
    const tx = invite.transaction as ClientInviteTransaction | undefined;
    if (tx === undefined) throw new IllegalStateError('the INVITE has not reached the network yet; retry the CANCEL after its first response');
    await this.#host.transactions.createCancel(tx);
  }

  createAck(res: IncomingResponse): OutgoingRequest {
    const session = res.getSession();
    const dialog = session.dialog;
    if (dialog === undefined) throw new IllegalStateError('no dialog for this 2xx: it carried no To tag');
    const invite = res.getRequest().message;
    const ack = dialog.createRequest('ACK', { cseq: res.message.cseq.seq });
    // RFC 3261 §13.2.2.4: the ACK carries the INVITE's credentials.
    for (const h of ['authorization', 'proxy-authorization']) for (const v of invite.getAll(h)) ack.add(h, v);
    const out = new OutgoingRequest({ request: ack, session, runtime: this.#host.runtime, kind: 'ack' });
    this.#ackOf.set(out, res);
    return out;
  }

  createPrack(res: IncomingResponse): OutgoingRequest {
    const session = res.getSession();
    const dialog = session.dialog;
    if (dialog === undefined) throw new IllegalStateError('no dialog for this provisional response: it carried no To tag');
    const prack = dialog.createRequest('PRACK');
    const cseq = res.message.cseq;
    prack.add('RAck', `${res.message.get('rseq') ?? ''} ${cseq.seq} ${cseq.method}`);
    return new OutgoingRequest({ request: prack, session, runtime: this.#host.runtime, kind: 'prack' });
  }

  createInDialogRequest(session: SipSessionImpl, method: string): OutgoingRequest {
    const request = (session.dialog as Dialog).createRequest(method);
    return new OutgoingRequest({ request, session, runtime: this.#host.runtime, kind: 'subsequent' });
  }

  /** A response that matched no client transaction: a retransmitted 2xx after the INVITE transaction ended. */
  /** Returns true when the response belonged to one of our UAC dialogs (and was re-ACKed). */
  strayResponse(response: SipResponse): boolean {
    if (response.cseq.method !== 'INVITE' || response.status < 200 || response.status >= 300) return false;
    const tag = response.to.tag;
    if (tag === undefined) return false;
    const session = this.#host.sessions.findByDialog(response.callId, response.from.tag ?? '', tag);
    if (session === undefined) return false;
    this.#reAck(session, response);
    return true;
  }

  #start(req: OutgoingRequest, targets: Destination[], index: number): void {
    const msg = req.message;
    if (index > 0) msg.removeFirst('via');
    const target = targets[index] as Destination;
    let destination: Destination;
    let tx: ClientTransaction;
    try {
      destination = this.#host.network.prepareRequest(msg, target, newBranch());
      if (req.autoContact) msg.set('Contact', this.#contact(destination.protocol, req.contactTemplate));
      tx = this.#host.transactions.createClientTransaction(msg, destination);
    } catch (error) {
      this.#host.log.warn({ err: error, method: msg.method }, 'could not send a request');
      this.#fail(req, 503, 'the request could not be sent');
      return;
    }
    req.transaction = tx;
    // JSR 289 getRemoteAddr & co.: where the request went is where its responses come from.
    const source = this.#sourceOf(destination);
    req.source = source;
    let answered = false;
    const offResponse = tx.onResponse((response) => {
      answered = true;
      this.#response(req, response, source);
      if (tx.state === 'Accepted' && req.finalResponse !== undefined) {
        // RFC 6026 §7.2: for Timer M (64*T1) the transaction only passes up further 2xx; the
        // listener that stays must not keep the request, its sessions and the app's call alive.
        offResponse();
        this.#accepted(tx, req, source);
      }
    });
    tx.onTimeout(() => this.#fail(req, 408));
    tx.onTransportError((error) => {
      // RFC 3263 §4.3: on a transport error, try the next destination (a new transaction).
      if (!answered && index + 1 < targets.length) {
        this.#host.log.debug({ err: error, failed: target }, 'transport error: trying the next destination');
        this.#start(req, targets, index + 1);
      } else if (req.finalResponse === undefined) {
        this.#fail(req, 503, `transport error: ${(error as Error).message}`);
      }
    });
  }

  /**
   * What an INVITE's transaction in Accepted does with a further 2xx (RFC 3261 §13.2.2.4): a known
   * To tag is a retransmission and gets the same ACK again; another fork's 2xx goes to the app like
   * any response, while its application session is valid. That session holds the request (its
   * `internal` map, cleared on invalidation) and this listener holds the session only weakly, so a
   * call that ended is not kept for Timer M.
   */
  #accepted(tx: ClientTransaction, req: OutgoingRequest, source: MessageSource): void {
    const answered = this.#answered.get(req) ?? new Map<string, SentAck | undefined>();
    this.#answered.set(req, answered);
    const session = req.getSession();
    const appSession = session.getApplicationSession();
    const key = `${INVITE_SENT}${session.getId()}:${req.message.cseq.seq}`;
    appSession.internal.set(key, req);
    const owner = new WeakRef(appSession);
    tx.onTerminated(() => owner.deref()?.internal.delete(key));
    tx.onResponse((response) => {
      const tag = response.to.tag;
      if (response.status < 200 || response.status >= 300 || tag === undefined) return;
      if (answered.has(tag)) {
        this.#resendAck(answered.get(tag));
        return;
      }
      const invite = owner.deref()?.internal.get(key) as OutgoingRequest | undefined;
      // Once the application session is gone no app takes the 2xx: dispatching it would do nothing.
      if (invite === undefined) answered.set(tag, undefined);
      else this.#response(invite, response, source);
    });
  }

  /** RFC 3261 §8.1.3.1: a timeout is a 408, a transport failure a 503, as seen by the app. */
  #fail(req: OutgoingRequest, status: number, reason?: string): void {
    if (req.finalResponse !== undefined) return;
    this.#response(req, createResponse(req.message, status, { reason }));
  }

  #response(req: OutgoingRequest, response: SipResponse, source?: MessageSource): void {
    const status = response.status;
    // 100 Trying is hop by hop: applications never see it (JSR 289 §5.6).
    if (status === 100) return;
    let session = req.getSession();
    const method = req.message.method;
    const tag = response.to.tag;
    const dialogCreating = DIALOG_CREATING.has(method) && req.isInitial();

    if (req.finalResponse !== undefined) {
      // A 2xx again after the final response: a retransmission, or another fork's 2xx (RFC 3261 §13.2.2.4).
      if (method !== 'INVITE' || status < 200 || status >= 300 || tag === undefined) return;
      const answered = this.#answered.get(req);
      if (answered?.has(tag)) {
        this.#resendAck(answered.get(tag));
        return;
      }
      // Otherwise the first 2xx of another fork (early dialog or none yet): the app ACKs it (and may BYE it).
    }
    if (method === 'INVITE' && status >= 200 && status < 300 && tag !== undefined) {
      const answered = this.#answered.get(req);
      if (answered === undefined) this.#answered.set(req, new Map([[tag, undefined]]));
      else answered.set(tag, undefined);
    }

    const wrapper = new IncomingResponse({ response, request: req, session, runtime: this.#host.runtime, source });
    if (dialogCreating && tag !== undefined && status < 300) {
      session = this.#dialogFor(req, session, response);
      if (session !== wrapper.getSession()) wrapper.moveTo(session);
    } else if (!dialogCreating && TARGET_REFRESH.has(method) && status >= 200 && status < 300) {
      session.dialog?.refreshTarget(response);
    }

    // Dispatched before the bookkeeping below: the dispatch holds the session, so ending
    // the transaction cannot invalidate it before the servlet has seen this response.
    this.#host.dispatchResponse(wrapper);
    if (status >= 200 && req.finalResponse === undefined) {
      req.finalResponse = wrapper;
      req.getSession().transactionEnded();
      if (dialogCreating && status >= 300) {
        // JSR 289 §6.2.1: a UAC session whose initial request failed goes back to INITIAL; its early dialog ends.
        this.#host.sessions.unbindDialog(session);
        session.dialog = undefined;
        session.setState('INITIAL');
        // RFC 3261 §12.3: so do the early dialogs of the other forks.
        this.#endEarlyDialogs(this.#forks.get(req) ?? []);
      } else if (dialogCreating && method === 'INVITE') {
        // RFC 3261 §13.2.2.4: early dialogs not confirmed when the INVITE transaction
        // would end (64*T1 after the first 2xx) are over.
        // No fork's 1xx is taken after the final response, so none turns early later.
        const forks = [req.getSession(), ...(this.#forks.get(req) ?? [])];
        if (forks.some((s) => s.getState() === 'EARLY')) setTimeout(() => this.#endEarlyDialogs(forks), 64 * this.#host.t1).unref();
      }
      if (method === 'BYE') session.setState('TERMINATED');
      else if ((status === 481 || status === 408) && req.kind === 'subsequent' && session.dialog !== undefined) {
        // RFC 3261 §12.2.1.2: the peer no longer knows the dialog, or cannot be reached: it is over.
        this.#host.sessions.unbindDialog(session);
        session.dialog.state = 'terminated';
        session.setState('TERMINATED');
      }
    }
  }

  /**
   * The session a response to a dialog-creating request belongs to (RFC 3261
   * §12.1.2): the request's session for the first To tag, a derived session
   * (JSR 289 §6.2.3.2) for every other tag of a forked request.
   */
  #dialogFor(req: OutgoingRequest, session: SipSessionImpl, response: SipResponse): SipSessionImpl {
    const tag = response.to.tag as string;
    const confirm = (s: SipSessionImpl): SipSessionImpl => {
      if (response.status >= 200) s.setState('CONFIRMED');
      return s;
    };
    if (session.dialog === undefined) {
      session.dialog = Dialog.asUac(req.message, response);
      session.setRemoteTag(tag);
      this.#host.sessions.bindDialog(session);
      session.setState(response.status < 200 ? 'EARLY' : 'CONFIRMED');
      return session;
    }
    if (session.dialog.remoteTag === tag) {
      session.dialog.updateFromResponse(response);
      return confirm(session);
    }
    const known = this.#host.sessions.findByDialog(response.callId, session.dialog.localTag, tag);
    if (known !== undefined) {
      known.dialog?.updateFromResponse(response);
      return confirm(known);
    }
    const app = this.#host.appOf(session);
    if (app === undefined) return session;
    const remote = session.getRemoteParty();
    remote.tag = tag;
    const derived = this.#host.createSession(app, session.getApplicationSession(), {
      callId: response.callId,
      local: session.getLocalParty(),
      remote,
      role: 'UAC',
      derivedFrom: session,
    });
    derived.setHandler(session.getHandler());
    const forks = this.#forks.get(req);
    if (forks === undefined) this.#forks.set(req, [derived]);
    else forks.push(derived);
    derived.dialog = Dialog.asUac(req.message, response);
    this.#host.sessions.bindDialog(derived);
    derived.setState(response.status < 200 ? 'EARLY' : 'CONFIRMED');
    return derived;
  }

  /** Terminates the sessions whose dialog is still early (their fork never answered finally). */
  #endEarlyDialogs(sessions: SipSessionImpl[]): void {
    for (const s of sessions) {
      if (!s.isValid() || s.getState() !== 'EARLY') continue;
      this.#host.sessions.unbindDialog(s);
      if (s.dialog !== undefined) s.dialog.state = 'terminated';
      s.setState('TERMINATED');
    }
  }

  async #sendAck(req: OutgoingRequest): Promise<void> {
    const msg = req.message;
    const targets = await this.#resolve(msg);
    const target = targets[0];
    if (target === undefined) throw new IllegalStateError(`cannot resolve ${nextHop(msg)?.toString() ?? msg.uriText} to send the ACK`);
    const destination = this.#host.network.prepareRequest(msg, target, newBranch());
    // Kept for the dialog's life as bytes (latin1 keeps every byte), not as a parsed message:
    // a 2xx retransmitted after the INVITE transaction ended is rare, the call is not.
    const sent: SentAck = { ack: msg.toBuffer().toString('latin1'), destination };
    req.getSession().internal.set(ACK_SENT + msg.cseq.seq, sent);
    const ok = this.#ackOf.get(req);
    const invite = ok?.getRequest();
    const tag = msg.to.tag;
    if (invite !== undefined && tag !== undefined) this.#answered.get(invite)?.set(tag, sent);
    await this.#host.network.sendRequest(msg, destination);
    // The dialog holds what it needs: the INVITE and its 2xx keep their headers, not their parsed views.
    ok?.message.releaseViews();
    invite?.message.releaseViews();
  }

  #reAck(session: SipSessionImpl, response: SipResponse): void {
    this.#resendAck(session.internal.get(ACK_SENT + response.cseq.seq) as SentAck | undefined);
  }

  /** RFC 3261 §13.2.2.4: a retransmitted 2xx gets the same ACK again (none if the app has not sent it yet). */
  #resendAck(sent: SentAck | undefined): void {
    if (sent === undefined) return;
    const parsed = parseMessage(Buffer.from(sent.ack, 'latin1'), { limits: NO_LIMITS });
    if (parsed.ok !== true || !parsed.message.isRequest) {
      this.#host.log.debug({}, 'could not re-send an ACK: it does not parse back');
      return;
    }
    this.#host.network.sendRequest(parsed.message, sent.destination).catch((error: unknown) => {
      this.#host.log.debug({ err: error }, 'could not re-send an ACK');
    });
  }

  async #resolve(msg: SipRequest): Promise<Destination[]> {
    const hop = nextHop(msg);
    if (hop === undefined) return [];
    try {
      return await this.#host.network.resolve(hop);
    } catch (error) {
      this.#host.log.debug({ err: error, uri: hop.toString() }, 'resolution failed');
      return [];
    }
  }

  #sourceOf(destination: Destination): MessageSource {
    const family = ipFamily(destination.address) === 6 ? 6 : 4;
    let local = destination.local;
    if (local === undefined) {
      const { host, port } = this.#host.network.sentBy(destination.protocol, family);
      local = { address: host, port, family };
    }
    return { protocol: destination.protocol, local, remote: { address: destination.address, port: destination.port, family } };
  }

  /** Our Contact; a B2BUA leg's template gives its user part, display name and parameters. */
  #contact(protocol: Protocol, template?: Address): string {
    const { host, port } = this.#host.network.sentBy(protocol);
    if (template === undefined) return `<sip:${host}:${port}${protocol === 'udp' ? '' : `;transport=${protocol}`}>`;
    const uri = new SipUri({ host, port, rawUser: template.uri instanceof SipUri ? template.uri.rawUser : undefined });
    if (protocol !== 'udp') uri.params.set('transport', protocol);
    return new NameAddress(uri, { displayName: template.displayName, params: template.params.clone() }).toString();
  }
}

/** An ACK for a 2xx as sent: its bytes as a latin1 string, and where it went. */
interface SentAck {
  ack: string;
  destination: Destination;
}

/** An ACK this server built and sent parses back whatever its size. */
const NO_LIMITS = { maxMessageSize: Infinity, maxHeaders: Infinity, maxHeaderLineLength: Infinity, maxVia: Infinity };

/** RFC 3261 §8.1.2: the first Route if it is a loose router, else the Request-URI. */
function nextHop(msg: SipRequest): SipUri | undefined {
  const route = msg.route[0];
  if (route !== undefined && route.uri instanceof SipUri) return route.uri;
  return msg.uri instanceof SipUri ? msg.uri : undefined;
}
