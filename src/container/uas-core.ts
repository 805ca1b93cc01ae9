import { IllegalStateError } from '../api/index.js';
import { Dialog, DIALOG_CREATING, TARGET_REFRESH } from '../dialog/index.js';
import { createResponse, type SipRequest } from '../sip/message/index.js';
import type { ServerInviteTransaction, ServerNonInviteTransaction, ServerTransaction } from '../sip/transaction/index.js';
import type { Protocol } from '../sip/transport/index.js';
import type { CoreHost } from './core-host.js';
import { IncomingRequest, type OutgoingResponse } from './message/index.js';
import type { SipSessionImpl } from './session/index.js';

/** A 2xx to INVITE waiting for its ACK, or a reliable 1xx waiting for its PRACK. */
interface Pending {
  timer: NodeJS.Timeout | undefined;
  /** For a reliable 1xx: the CSeq number of its INVITE, which the PRACK's RAck repeats. */
  cseq?: number;
  settle(ok: boolean): void;
}

const ACK_WAIT = 'uas.ackWait:';
const PRACK_WAIT = 'uas.prackWait:';
const RSEQ = 'uas.rseq';

/**
 * The UAS side of the container's user agent (RFC 3261 §8.2, §12.1.1, §13.3):
 * sends the app's responses through their server transactions, creates and
 * confirms dialogs, adds Contact and Record-Route where the container owns
 * them, retransmits 2xx to INVITE until the ACK (RFC 6026 §8.1), sends 1xx
 * reliably (RFC 3262), and answers CANCEL before the app hears of it.
 */
export class UasCore {
  readonly #host: CoreHost;

  constructor(host: CoreHost) {
    this.#host = host;
  }

  /**
   * The INVITE a server transaction carries, while a CANCEL can still affect it: the transaction
   * keeps it (`tuRecord`) until its final response, and drops it before lingering for Timer L.
   */
  requestOf(tx: ServerTransaction): IncomingRequest | undefined {
    return tx.kind === 'server-invite' ? (tx.tuRecord as IncomingRequest | undefined) : undefined;
  }

  /** Remembers an INVITE in its server transaction, for a CANCEL to find (RFC 3261 §9.2). */
  track(request: IncomingRequest): void {
    const tx = request.transaction as ServerTransaction;
    if (tx.kind === 'server-invite') tx.keepTuRecord(request);
  }

  async sendResponse(res: OutgoingResponse): Promise<void> {
    const req = res.getRequest();
    const tx = req.transaction as ServerInviteTransaction | ServerNonInviteTransaction;
    const session = res.getSession();
    const msg = res.message;
    this.#prepare(req, res);
    if (!tx.respond(msg)) {
      throw new IllegalStateError(`the ${req.getMethod()} transaction (state ${tx.state}) refused a ${msg.status} response`);
    }
    if (msg.status < 200) return;
    req.commit();
    const method = req.getMethod();
    if (res.additional) {
      // A further 2xx (a forked answer a B2BUA relays) in a derived session: the transaction already
      // ended for the request's own session; this dialog only waits for its ACK (RFC 6026 §8.1).
      this.#retransmit2xx(session, tx as ServerInviteTransaction, req, res);
      return;
    }
    req.finalResponse = res;
    if (method === 'INVITE' && msg.status < 300) this.#retransmit2xx(session, tx as ServerInviteTransaction, req, res);
    session.transactionEnded();
    if (DIALOG_CREATING.has(method) && req.isInitial() && msg.status >= 300) {
      // RFC 3261 §12.1: a failure ends the early dialogs of the request.
      this.#host.sessions.unbindDialog(session);
      session.setState('TERMINATED');
    }
    if (method === 'BYE' && msg.status < 300) session.setState('TERMINATED');
  }

  /** RFC 3262 §3: sends a 1xx reliably and resolves when its PRACK arrives. */
  sendReliably(res: OutgoingResponse): Promise<void> {
    const req = res.getRequest();
    const supported = [...req.getHeaders('supported'), ...req.getHeaders('require')].map((t) => t.toLowerCase());
    if (!supported.includes('100rel')) {
      return Promise.reject(new IllegalStateError('the UAC did not indicate support for 100rel (RFC 3262): send this provisional response unreliably'));
    }
    const session = res.getSession();
    for (const key of session.internal.keys()) {
      if (key.startsWith(PRACK_WAIT)) {
        // RFC 3262 §3: one unacknowledged reliable provisional response at a time.
        return Promise.reject(new IllegalStateError(`a reliable provisional response (RSeq ${key.slice(PRACK_WAIT.length)}) is not acknowledged yet: wait for its sendReliably() to resolve`));
      }
    }
    // RFC 3262 §3: the first RSeq is random in 1 … 2**31 - 1, then each one is the last plus one.
    const rseq = ((session.internal.get(RSEQ) as number | undefined) ?? Math.floor(Math.random() * 0x7ffffffe)) + 1;
    session.internal.set(RSEQ, rseq);
    const msg = res.message;
    msg.set('RSeq', String(rseq));
    const require = msg.getAll('require');
    if (!require.some((t) => t.toLowerCase() === '100rel')) msg.set('Require', [...require, '100rel'].join(', '));
    this.#prepare(req, res);
    const tx = req.transaction as ServerInviteTransaction;
    if (!tx.respond(msg)) return Promise.reject(new IllegalStateError(`the INVITE transaction (state ${tx.state}) refused the reliable ${msg.status}`));
    return new Promise<void>((resolve, reject) => {
      const key = PRACK_WAIT + rseq;
      // RFC 3262 §3: retransmit at T1, doubling, until the PRACK or 64*T1.
      const pending = this.#retransmit(session, key, () => tx.respond(msg), (ok) => {
        if (ok) resolve();
        else {
          const app = this.#host.appOf(session);
          void app?.errorEvent('noPrackReceived', { request: req, response: res });
          reject(new IllegalStateError(`no PRACK for the reliable ${msg.status} (RSeq ${rseq}) within 64*T1`));
        }
      });
      pending.cseq = req.message.cseq.seq;
    });
  }

  /** An ACK for a 2xx arrived (RFC 3261 §13.3.1.4): stop retransmitting that 2xx. */
  ackReceived(session: SipSessionImpl, ack: SipRequest): void {
    (session.internal.get(ACK_WAIT + ack.cseq.seq) as Pending | undefined)?.settle(true);
  }

  /**
   * A PRACK arrived: stop retransmitting the reliable 1xx its RAck names (RFC 3262 §3).
   * False when it acknowledges no unacknowledged reliable response (to be answered 481).
   */
  prackReceived(session: SipSessionImpl, prack: SipRequest): boolean {
    const rack = /^\s*(\d+)\s+(\d+)\s+(\S+)/.exec(prack.get('rack') ?? '');
    if (!rack) return false;
    const pending = session.internal.get(PRACK_WAIT + rack[1]) as Pending | undefined;
    if (pending === undefined || pending.cseq !== Number(rack[2]) || rack[3]?.toUpperCase() !== 'INVITE') return false;
    pending.settle(true);
    return true;
  }

  /**
   * CANCEL (RFC 3261 §9.2): answered 200 at once and its INVITE 487 if still
   * pending, then the app's doCancel runs (JSR 289 §11.2.4.1); 481 when no
   * INVITE matches. An INVITE already answered finally is not affected and the
   * app is not told.
   */
  handleCancel(cancel: SipRequest, tx: ServerNonInviteTransaction): void {
    const inviteTx = tx.cancelled;
    const invite = inviteTx ? this.requestOf(inviteTx) : undefined;
    if (inviteTx === undefined) {
      tx.respond(createResponse(cancel, 481));
      return;
    }
    const toTag = invite?.getSession().localTag ?? inviteTx.toTag;
    if (invite === undefined) {
      tx.respond(createResponse(cancel, 200, { toTag }));
      // Proceeding: no final response yet, and the transaction still holds its INVITE.
      const request = inviteTx.request;
      if (inviteTx.state === 'Proceeding' && request !== undefined) {
        inviteTx.respond(createResponse(request, 487, { toTag: toTag ?? 'cancelled' }));
      }
      return;
    }
    if (invite.isCommitted()) {
      tx.respond(createResponse(cancel, 200, { toTag }));
      return;
    }
    // doCancel is queued now and runs later (after any handler still busy with the
    // INVITE), so the 200 and the 487 are on the wire before it.
    const res = invite.createResponse(487) as OutgoingResponse;
    invite.cancelled = true;
    const wrapped = new IncomingRequest({ request: cancel, session: invite.getSession(), source: tx.source, runtime: this.#host.runtime, initial: false, transaction: tx });
    this.#host.dispatchRequest(wrapped);
    tx.respond(createResponse(cancel, 200, { toTag }));
    // JSR 289 §11.2.4.1: the app neither answers the CANCEL nor the INVITE any more.
    wrapped.commit();
    res.send().catch((error: unknown) => this.#host.log.debug({ err: error }, 'could not answer a cancelled INVITE'));
  }

  /** Contact, Record-Route and dialog state for a response before it is sent. */
  #prepare(req: IncomingRequest, res: OutgoingResponse): void {
    const msg = res.message;
    const status = msg.status;
    const method = req.getMethod();
    const session = res.getSession();
    const dialogCreating = DIALOG_CREATING.has(method) && req.isInitial();
    if (status > 100 && status < 300 && (dialogCreating || TARGET_REFRESH.has(method)) && !msg.has('contact')) {
      msg.add('Contact', this.#contact(req.source?.protocol ?? 'udp'));
    }
    if (!dialogCreating || status <= 100 || status >= 300) return;
    // RFC 3261 §12.1.1: the Record-Route of the request is copied into the response.
    if (!msg.has('record-route')) for (const rr of req.message.getAll('record-route')) msg.add('Record-Route', rr);
    if (session.dialog === undefined) {
      session.dialog = Dialog.asUas(req.message, msg);
      this.#host.sessions.bindDialog(session);
    } else if (status >= 200) {
      session.dialog.state = 'confirmed';
    }
    session.setState(status < 200 ? 'EARLY' : 'CONFIRMED');
  }

  /** RFC 6026 §8.1 / RFC 3261 §13.3.1.4: the UAS core resends the 2xx until the ACK, for 64*T1. */
  #retransmit2xx(session: SipSessionImpl, tx: ServerInviteTransaction, req: IncomingRequest, res: OutgoingResponse): void {
    const key = ACK_WAIT + req.message.cseq.seq;
    this.#retransmit(session, key, () => tx.respond(res.message), (ok) => {
      if (ok) {
        // The dialog holds what it needs of them; whoever still holds the INVITE or its 2xx
        // (B2BUA links, the app) reads them rarely now: the parsed views go until read again.
        req.message.releaseViews();
        res.message.releaseViews();
        return;
      }
      const app = this.#host.appOf(session);
      this.#host.log.info({ callId: req.getCallId() }, 'no ACK for a 2xx within 64*T1');
      void app?.errorEvent('noAckReceived', { request: req, response: res });
    });
  }

  /**
   * Resends with T1, 2*T1 … T2 intervals until settled or 64*T1 pass. The
   * session counts it as a pending transaction meanwhile, so it is not
   * invalidated before the ACK (or PRACK) arrives.
   */
  #retransmit(session: SipSessionImpl, key: string, resend: () => void, done: (ok: boolean) => void): Pending {
    const { t1, t2 } = this.#host;
    const deadline = Date.now() + 64 * t1;
    let interval = t1;
    session.transactionStarted();
    const pending: Pending = {
      timer: undefined,
      settle: (ok) => {
        clearTimeout(pending.timer);
        if (session.internal.get(key) !== pending) return;
        session.internal.delete(key);
        session.transactionEnded();
        done(ok);
      },
    };
    const tick = (): void => {
      const left = deadline - Date.now();
      if (left <= 0) {
        pending.settle(false);
        return;
      }
      resend();
      interval = Math.min(interval * 2, t2);
      // The last wait ends at 64*T1, not after a whole (doubled) interval.
      pending.timer = setTimeout(tick, Math.min(interval, left));
    };
    session.internal.set(key, pending);
    pending.timer = setTimeout(tick, interval);
    return pending;
  }

  #contact(protocol: Protocol): string {
    const { host, port } = this.#host.network.sentBy(protocol);
    return `<sip:${host}:${port}${protocol === 'udp' ? '' : `;transport=${protocol}`}>`;
  }
}
