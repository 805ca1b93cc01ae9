import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';
import { startTimer, stopTimer, type TimerHandle } from './timers.js';
import { Transaction, type TransactionContext, type TransactionTransportError } from './transaction.js';
import type { MessageSource } from './transaction-transport.js';

/** RFC 3261 §17.2.1 (figure 7) with the Accepted state of RFC 6026 §7.1. */
export type ServerInviteState = 'Proceeding' | 'Completed' | 'Confirmed' | 'Accepted' | 'Terminated';

/** When the transaction sends 100 Trying on its own: at once, or if the TU has not answered within 200 ms. */
export type Trying100 = 'immediate' | 'delayed';

type Event =
  | { readonly type: 'request' }
  | { readonly type: 'ack'; readonly ack: SipRequest; readonly source: MessageSource }
  | { readonly type: 'respond'; readonly response: SipResponse }
  | { readonly type: 'timer'; readonly timer: 'Trying' | 'G' | 'H' | 'I' | 'L' }
  | { readonly type: 'transport-error'; readonly error: TransactionTransportError };

const RETRANSMISSION: Event = { type: 'request' };
const TIMER_TRYING: Event = { type: 'timer', timer: 'Trying' };
const TIMER_G: Event = { type: 'timer', timer: 'G' };
const TIMER_H: Event = { type: 'timer', timer: 'H' };
const TIMER_I: Event = { type: 'timer', timer: 'I' };
const TIMER_L: Event = { type: 'timer', timer: 'L' };

/**
 * The INVITE server transaction. Answers retransmitted INVITEs with the last response, sends
 * 100 Trying unless the TU answers first, retransmits a non-2xx final response on Timer G over
 * unreliable transports until the ACK arrives (Timer H gives up, `onTimeout`), and after a 2xx stays
 * Accepted for Timer L, absorbing INVITE retransmissions and handing ACKs to the layer's `onAck`.
 *
 * Hazard: the transaction never retransmits a 2xx; the TU does (§13.3.1.4), through `respond()`.
 *
 * Once it leaves Proceeding the transaction releases its request and the TU's record (`tuRecord`):
 * Completed keeps the key, the source and the final response it replays; Accepted and Confirmed
 * replay nothing and keep the key, the source and the final response's To tag (`toTag`).
 */
export class ServerInviteTransaction extends Transaction {
  readonly kind = 'server-invite' as const;
  /** Where the INVITE came from; responses go back along this path. */
  readonly source: MessageSource;
  #state: ServerInviteState = 'Proceeding';
  #lastResponse: SipResponse | undefined;
  #toTag: string | undefined;
  #tuRecord: unknown;
  readonly #trying100: Trying100;
  #intervalG = 0;
  #timerTrying: TimerHandle;
  #timerG: TimerHandle;
  #timerH: TimerHandle;
  #timerI: TimerHandle;
  #timerL: TimerHandle;
  /** Every timer of the transaction fires through this one function, its event as argument. */
  readonly #fire = (event: Event): void => void this.#dispatch(event);

  constructor(id: string, request: SipRequest, source: MessageSource, ctx: TransactionContext, trying100: Trying100) {
    super(id, request, ctx);
    this.source = source;
    this.#trying100 = trying100;
  }

  get state(): ServerInviteState {
    return this.#state;
  }

  /**
   * The last response sent, while the transaction may replay it: `undefined` in Accepted (the TU
   * retransmits its 2xx, RFC 6026 §7.1) and in Confirmed (nothing is replayed). See `toTag`.
   */
  get lastResponse(): SipResponse | undefined {
    return this.#lastResponse;
  }

  /** The To tag of the last response sent (kept in every state): RFC 2543 ACK matching, the CANCEL's 200 (§9.2). */
  get toTag(): string | undefined {
    return this.#toTag;
  }

  /**
   * What the TU keeps with the INVITE while it is pending, for a CANCEL to find (RFC 3261 §9.2),
   * set with `keepTuRecord()`. `undefined` once the transaction left Proceeding: a CANCEL no longer
   * has an effect then, and the TU's objects must not live on for Timer L.
   */
  get tuRecord(): unknown {
    return this.#tuRecord;
  }

  /** Sets `tuRecord`; ignored once the transaction left Proceeding. */
  keepTuRecord(record: unknown): void {
    if (this.#state === 'Proceeding') this.#tuRecord = record;
  }

  /** Called by the layer once. RFC 3261 §17.2.1: enter Proceeding; send 100 Trying now, or arm the 200 ms timer for it. */
  start(): void {
    if (this.#trying100 === 'immediate') this.#sendTrying();
    else this.#timerTrying = startTimer(this.#fire, this.context.timers.trying, TIMER_TRYING);
  }

  /**
   * Sends a response from the TU. Returns false, sending nothing, when the state does not allow it:
   * after a non-2xx final response, or anything but a 2xx once Accepted (a 2xx then is the TU's
   * retransmission, §13.3.1.4). Send failures arrive as `onTransportError`.
   */
  respond(response: SipResponse): boolean {
    const accepted = this.#dispatch({ type: 'respond', response });
    if (!accepted) {
      this.context.counters.refused++;
      this.context.logger.warn({ transaction: this.id, state: this.#state, status: response.status }, 'response refused by INVITE server transaction');
    }
    return accepted;
  }

  /** Called by the layer with a retransmission of the INVITE it matched (§17.2.3). */
  receiveRetransmission(): void {
    this.#dispatch(RETRANSMISSION);
  }

  /** Called by the layer with an ACK it matched to this transaction: for a non-2xx response, or (RFC 6026) one to pass to the TU. */
  receiveAck(ack: SipRequest, source: MessageSource): void {
    this.#dispatch({ type: 'ack', ack, source });
  }

  abort(): void {
    if (this.#state === 'Terminated') return;
    this.#stopTimers();
    this.#state = 'Terminated';
    this.#tuRecord = undefined;
    this.ended('silent');
  }

  protected transportFailed(error: TransactionTransportError): void {
    this.#dispatch({ type: 'transport-error', error });
  }

  /** Runs the event through the current state's transition function; true when the event was accepted. */
  #dispatch(event: Event): boolean {
    switch (this.#state) {
      case 'Proceeding':
        return this.#proceeding(event);
      case 'Completed':
        return this.#completed(event);
      case 'Confirmed':
        return this.#confirmed(event);
      case 'Accepted':
        return this.#accepted(event);
      case 'Terminated':
        return false;
    }
  }

  #proceeding(event: Event): boolean {
    switch (event.type) {
      case 'request':
        // RFC 3261 §17.2.1: a retransmitted INVITE gets the most recent provisional response again.
        this.#absorb(true);
        return true;
      case 'timer':
        if (event.timer === 'Trying' && this.#lastResponse === undefined) this.#sendTrying();
        return true;
      case 'respond':
        return this.#respondInProceeding(event.response);
      case 'ack':
        this.context.counters.absorbed++;
        return true;
      case 'transport-error':
        this.#terminate(event.error);
        return true;
    }
  }

  #completed(event: Event): boolean {
    switch (event.type) {
      case 'request':
        this.#absorb(true);
        return true;
      case 'ack':
        // RFC 3261 §17.2.1: the ACK for the non-2xx; Timer I absorbs its retransmissions.
        this.#state = 'Confirmed';
        this.#lastResponse = undefined;
        this.#timerG = stopTimer(this.#timerG);
        this.#timerH = stopTimer(this.#timerH);
        if (this.context.timers.I > 0) this.#timerI = startTimer(this.#fire, this.context.timers.I, TIMER_I);
        else this.#terminate('done');
        return true;
      case 'timer':
        if (event.timer === 'G') {
          // RFC 3261 §17.2.1: retransmit the final response, doubling the interval up to T2.
          this.#retransmit();
          this.#intervalG = Math.min(this.#intervalG * 2, this.context.timers.t2);
          this.#timerG = startTimer(this.#fire, this.#intervalG, TIMER_G);
        } else if (event.timer === 'H') {
          // RFC 3261 §17.2.1: no ACK came; the TU hears of it through onTimeout.
          this.#terminate('timeout');
        }
        return true;
      case 'respond':
        return false;
      case 'transport-error':
        this.#terminate(event.error);
        return true;
    }
  }

  #confirmed(event: Event): boolean {
    switch (event.type) {
      case 'request':
      case 'ack':
        this.context.counters.absorbed++;
        return true;
      case 'timer':
        if (event.timer === 'I') this.#terminate('done');
        return true;
      case 'respond':
        return false;
      case 'transport-error':
        return true;
    }
  }

  #accepted(event: Event): boolean {
    switch (event.type) {
      case 'request':
        // RFC 6026 §7.1: INVITE retransmissions are absorbed; the TU's 2xx retransmissions answer them.
        this.#absorb(false);
        return true;
      case 'ack':
        // RFC 6026 §7.1: an ACK matching the transaction while Accepted is the TU's (the 2xx ACK).
        this.context.passAck(event.ack, event.source);
        return true;
      case 'respond':
        if (event.response.status < 200 || event.response.status >= 300) return false;
        this.#toTag = event.response.to.tag;
        this.sendResponse(event.response, this.source);
        return true;
      case 'timer':
        if (event.timer === 'L') this.#terminate('done');
        return true;
      case 'transport-error':
        // RFC 6026 §7.1: the TU is told and decides; the state keeps absorbing until Timer L.
        this.emitTransportError(event.error);
        return true;
    }
  }

  #respondInProceeding(response: SipResponse): boolean {
    const status = response.status;
    if (!Number.isInteger(status) || status < 100 || status > 699) return false;
    const timers = this.context.timers;
    this.#timerTrying = stopTimer(this.#timerTrying);
    this.#lastResponse = response;
    this.#toTag = response.to.tag;
    if (status < 200) {
      this.sendResponse(response, this.source);
    } else if (status < 300) {
      // RFC 6026 §7.1: a 2xx moves to Accepted for Timer L instead of ending the transaction.
      this.#state = 'Accepted';
      this.#linger(false);
      this.#lastResponse = undefined;
      this.#timerL = startTimer(this.#fire, timers.L, TIMER_L);
      this.sendResponse(response, this.source);
    } else {
      // RFC 3261 §17.2.1: Timer G (unreliable only) retransmits, Timer H waits for the ACK.
      this.#state = 'Completed';
      this.#linger(true);
      if (timers.G > 0) {
        this.#intervalG = timers.G;
        this.#timerG = startTimer(this.#fire, timers.G, TIMER_G);
      }
      this.#timerH = startTimer(this.#fire, timers.H, TIMER_H);
      this.sendResponse(response, this.source);
    }
    return true;
  }

  /** Keeps what the lingering states use; Completed still reports Timer H, both report transport errors. */
  #linger(timeout: boolean): void {
    this.#tuRecord = undefined;
    this.linger({ timeout, transportError: true });
  }

  #sendTrying(): void {
    const request = this.request;
    if (request === undefined) return;
    this.#lastResponse = createResponse(request, 100);
    this.sendResponse(this.#lastResponse, this.source);
  }

  #absorb(replay: boolean): void {
    this.context.counters.absorbed++;
    if (replay && this.#lastResponse !== undefined) this.#retransmit();
  }

  #retransmit(): void {
    if (this.#lastResponse === undefined) return;
    this.context.counters.retransmissions++;
    this.sendResponse(this.#lastResponse, this.source);
  }

  #terminate(cause: 'done' | 'timeout' | TransactionTransportError): void {
    if (this.#state === 'Terminated') return;
    this.#stopTimers();
    this.#state = 'Terminated';
    this.#tuRecord = undefined;
    this.ended(cause);
  }

  #stopTimers(): void {
    this.#timerTrying = stopTimer(this.#timerTrying);
    this.#timerG = stopTimer(this.#timerG);
    this.#timerH = stopTimer(this.#timerH);
    this.#timerI = stopTimer(this.#timerI);
    this.#timerL = stopTimer(this.#timerL);
  }
}
