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
  /** Received requests by their server transaction: CANCEL finds its INVITE here. */
  readonly #byTransaction = new WeakMap<ServerTransaction, IncomingRequest>();

  constructor(host: CoreHost) {
    this.#host = host;
  }

  /** Remembers the request a server transaction carries (for CANCEL). */
  track(request: IncomingRequest): void {
    this.#byTransaction.set(request.transaction as ServerTransaction, request);
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
    req.finalResponse = res;
    const method = req.getMethod();
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
    const rseq = ((session.internal.get(RSEQ) as number | undefined) ?? Math.floor(Math.random() * 0x7fffffff) + 1) + 1;
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
      this.#retransmit(session, key, () => tx.respond(msg), (ok) => {
        if (ok) resolve();
        else {
          const app = this.#host.appOf(session);
          void app?.errorEvent('noPrackReceived', { request: req, response: res });
          reject(new IllegalStateError(`no PRACK for the reliable ${msg.status} (RSeq ${rseq}) within 64*T1`));
        }
      });
    });
  }

  /** An ACK for a 2xx arrived (RFC 3261 §13.3.1.4): stop retransmitting that 2xx. */
  ackReceived(session: SipSessionImpl, ack: SipRequest): void {
    (session.internal.get(ACK_WAIT + ack.cseq.seq) as Pending | undefined)?.settle(true);
  }

  /** A PRACK arrived: stop retransmitting the reliable 1xx its RAck names (RFC 3262 §3). */
  prackReceived(session: SipSessionImpl, prack: SipRequest): void {
    const rack = /^\s*(\d+)/.exec(prack.get('rack') ?? '');
    if (rack) (session.internal.get(PRACK_WAIT + rack[1]) as Pending | undefined)?.settle(true);
  }

  /**
   * CANCEL (RFC 3261 §9.2): answered 200 at once and its INVITE 487 if still
   * pending, before the app's doCancel runs; 481 when no INVITE matches.
   * Returns the wrapped CANCEL for the app, or undefined when there is nothing to tell it.
   */
  handleCancel(cancel: SipRequest, tx: ServerNonInviteTransaction): IncomingRequest | undefined {
    const inviteTx = tx.cancelled;
    const invite = inviteTx ? this.#byTransaction.get(inviteTx) : undefined;
    if (inviteTx === undefined) {
      tx.respond(createResponse(cancel, 481));
      return undefined;
    }
    const toTag = invite?.getSession().localTag ?? inviteTx.lastResponse?.to.tag;
    tx.respond(createResponse(cancel, 200, { toTag }));
    if (invite === undefined) {
      if (inviteTx.lastResponse === undefined || inviteTx.lastResponse.status < 200) {
        inviteTx.respond(createResponse(inviteTx.request, 487, { toTag: toTag ?? 'cancelled' }));
      }
      return undefined;
    }
    if (!invite.isCommitted()) {
      invite.cancelled = true;
      const res = invite.createResponse(487) as OutgoingResponse;
      res.send().catch((error: unknown) => this.#host.log.debug({ err: error }, 'could not answer a cancelled INVITE'));
    }
    const session = invite.getSession();
    session.transactionStarted();
    return new IncomingRequest({ request: cancel, session, source: tx.source, runtime: this.#host.runtime, initial: false, transaction: tx });
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
      if (ok) return;
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
      if (Date.now() >= deadline) {
        pending.settle(false);
        return;
      }
      resend();
      interval = Math.min(interval * 2, t2);
      pending.timer = setTimeout(tick, interval);
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
