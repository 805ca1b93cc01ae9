import type { SipRequest, SipResponse } from '../message/index.js';
import type { ServerInviteTransaction } from './server-invite.js';
import { startTimer, stopTimer, type TimerHandle } from './timers.js';
import { Transaction, type TransactionContext, type TransactionTransportError } from './transaction.js';
import type { MessageSource } from './transaction-transport.js';

/** RFC 3261 §17.2.2 (figure 8). */
export type ServerNonInviteState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

type Event =
  | { readonly type: 'request' }
  | { readonly type: 'respond'; readonly response: SipResponse }
  | { readonly type: 'timer'; readonly timer: 'J' }
  | { readonly type: 'transport-error'; readonly error: TransactionTransportError };

const RETRANSMISSION: Event = { type: 'request' };
const TIMER_J: Event = { type: 'timer', timer: 'J' };

/**
 * The non-INVITE server transaction (CANCEL runs in one too). Answers retransmitted requests with
 * the last response and, once a final response went out, absorbs them for Timer J.
 *
 * RFC 4320, enforced by `respond()`: the transaction never sends a 100 on its own; a provisional
 * other than 100 is refused (§4.1); a 100 over an unreliable transport is refused until the client's
 * Timer E would have reached T2 (§4.1); a 408 is never sent (§4.2): the transaction completes
 * without a final response, silently absorbing retransmissions until the client times out.
 *
 * Completed (Timer J, 64*T1 over unreliable transports) keeps only the key, the source and the final
 * response to replay: the request is released.
 */
export class ServerNonInviteTransaction extends Transaction {
  readonly kind = 'server-non-invite' as const;
  /** Where the request came from; responses go back along this path. */
  readonly source: MessageSource;
  /**
   * For a CANCEL: the INVITE server transaction it matches (RFC 3261 §9.2), `undefined` when none
   * does (the TU answers the CANCEL with 481). Always `undefined` for other methods.
   */
  readonly cancelled: ServerInviteTransaction | undefined;
  #state: ServerNonInviteState = 'Trying';
  #lastResponse: SipResponse | undefined;
  readonly #receivedAt: number;
  #timerJ: TimerHandle;
  /** Every timer of the transaction fires through this one function, its event as argument. */
  readonly #fire = (event: Event): void => void this.#dispatch(event);

  constructor(
    id: string,
    request: SipRequest,
    source: MessageSource,
    ctx: TransactionContext,
    cancelled?: ServerInviteTransaction,
  ) {
    super(id, request, ctx);
    this.source = source;
    this.cancelled = cancelled;
    this.#receivedAt = Date.now();
  }

  get state(): ServerNonInviteState {
    return this.#state;
  }

  get lastResponse(): SipResponse | undefined {
    return this.#lastResponse;
  }

  /**
   * Sends a response from the TU. Returns false, sending nothing, after the final response or when
   * RFC 4320 forbids it (see the class comment). A 408 also returns false, and completes the
   * transaction without an answer. Send failures arrive as `onTransportError`.
   */
  respond(response: SipResponse): boolean {
    const accepted = this.#dispatch({ type: 'respond', response });
    if (!accepted) {
      this.context.counters.refused++;
      this.context.logger.warn({ transaction: this.id, state: this.#state, status: response.status }, 'response refused by non-INVITE server transaction');
    }
    return accepted;
  }

  /** Called by the layer with a retransmission of the request it matched (§17.2.3). */
  receiveRetransmission(): void {
    this.#dispatch(RETRANSMISSION);
  }

  abort(): void {
    if (this.#state === 'Terminated') return;
    this.#timerJ = stopTimer(this.#timerJ);
    this.#state = 'Terminated';
    this.ended('silent');
  }

  protected transportFailed(error: TransactionTransportError): void {
    this.#dispatch({ type: 'transport-error', error });
  }

  #dispatch(event: Event): boolean {
    switch (this.#state) {
      case 'Trying':
        return this.#trying(event);
      case 'Proceeding':
        return this.#proceeding(event);
      case 'Completed':
        return this.#completed(event);
      case 'Terminated':
        return false;
    }
  }

  #trying(event: Event): boolean {
    switch (event.type) {
      case 'request':
        // RFC 3261 §17.2.2: nothing to repeat yet.
        this.context.counters.absorbed++;
        return true;
      case 'respond':
        return this.#respond(event.response);
      case 'timer':
        return true;
      case 'transport-error':
        this.#terminate(event.error);
        return true;
    }
  }

  #proceeding(event: Event): boolean {
    switch (event.type) {
      case 'request':
        this.#replay();
        return true;
      case 'respond':
        return this.#respond(event.response);
      case 'timer':
        return true;
      case 'transport-error':
        this.#terminate(event.error);
        return true;
    }
  }

  #completed(event: Event): boolean {
    switch (event.type) {
      case 'request':
        this.#replay();
        return true;
      case 'respond':
        return false;
      case 'timer':
        if (event.timer === 'J') this.#terminate('done');
        return true;
      case 'transport-error':
        this.#terminate(event.error);
        return true;
    }
  }

  /** Trying and Proceeding accept the same responses. */
  #respond(response: SipResponse): boolean {
    const status = response.status;
    if (!Number.isInteger(status) || status < 100 || status > 699) return false;
    if (status < 200) {
      if (!this.#provisionalAllowed(status)) return false;
      this.#state = 'Proceeding';
      this.#lastResponse = response;
      this.sendResponse(response, this.source);
      return true;
    }
    const timers = this.context.timers;
    this.#state = 'Completed';
    // RFC 3261 §17.2.2: a transport error still ends Completed, and the TU hears of it.
    this.linger({ timeout: false, transportError: true });
    if (timers.J > 0) this.#timerJ = startTimer(this.#fire, timers.J, TIMER_J);
    if (status === 408) {
      // RFC 4320 §4.2: no 408 to a non-INVITE; the client's own Timer F ends its transaction.
      this.context.logger.debug({ transaction: this.id }, '408 to a non-INVITE request not sent (RFC 4320)');
      if (timers.J === 0) this.#terminate('done');
      return false;
    }
    this.#lastResponse = response;
    this.sendResponse(response, this.source);
    if (timers.J === 0) this.#terminate('done');
    return true;
  }

  /** RFC 4320 §4.1: only 100, and over unreliable transports only once Timer E would have reached T2. */
  #provisionalAllowed(status: number): boolean {
    if (status !== 100) return false;
    const timers = this.context.timers;
    return timers.reliable || Date.now() - this.#receivedAt >= timers.nonInvite100;
  }

  #replay(): void {
    this.context.counters.absorbed++;
    if (this.#lastResponse === undefined) return;
    this.context.counters.retransmissions++;
    this.sendResponse(this.#lastResponse, this.source);
  }

  #terminate(cause: 'done' | TransactionTransportError): void {
    if (this.#state === 'Terminated') return;
    this.#timerJ = stopTimer(this.#timerJ);
    this.#state = 'Terminated';
    this.ended(cause);
  }
}
