import type { SipRequest, SipResponse } from '../message/index.js';
import type { Destination } from '../transport/index.js';
import { createNon2xxAck } from './non2xx-ack.js';
import type { Listener, Signal } from './signal.js';
import { startTimer, stopTimer, type TimerHandle } from './timers.js';
import { Transaction, type TransactionContext, type TransactionTransportError } from './transaction.js';

/** RFC 3261 §17.1.1.2 (figure 5) with the Accepted state of RFC 6026 §7.2. */
export type ClientInviteState = 'Calling' | 'Proceeding' | 'Completed' | 'Accepted' | 'Terminated';

type Event =
  | { readonly type: 'response'; readonly response: SipResponse }
  | { readonly type: 'timer'; readonly timer: 'A' | 'B' | 'D' | 'M' }
  | { readonly type: 'transport-error'; readonly error: TransactionTransportError };

const TIMER_A: Event = { type: 'timer', timer: 'A' };
const TIMER_B: Event = { type: 'timer', timer: 'B' };
const TIMER_D: Event = { type: 'timer', timer: 'D' };
const TIMER_M: Event = { type: 'timer', timer: 'M' };

/**
 * The INVITE client transaction. Sends the INVITE, retransmits it on Timer A over unreliable
 * transports, gives up on Timer B, ACKs non-2xx final responses itself and, in the Accepted state,
 * passes every further 2xx to the TU (the TU ACKs 2xx responses, §13.2.2.4).
 *
 * Created by `TransactionLayer.createClientTransaction`; register listeners right after.
 *
 * Once the final response came the request and the responses are released, with the listeners the
 * state can no longer call: Completed keeps its ACK to resend and `onTransportError`; Accepted keeps `onResponse` (RFC
 * 6026 §7.2). A TU that only relays 2xx retransmissions in Accepted should swap its `onResponse`
 * listener for one that captures no more than it needs, as it lives 64*T1 longer (Timer M).
 */
export class ClientInviteTransaction extends Transaction {
  readonly kind = 'client-invite' as const;
  /** Where the INVITE (and the ACK, and a CANCEL) goes. */
  readonly destination: Destination;
  #state: ClientInviteState = 'Calling';
  #lastResponse: SipResponse | undefined;
  #ack: SipRequest | undefined;
  #intervalA = 0;
  #timerA: TimerHandle;
  #timerB: TimerHandle;
  #timerD: TimerHandle;
  #timerM: TimerHandle;
  readonly #response: Signal<[SipResponse]>;
  /** Every timer of the transaction fires through this one function, its event as argument. */
  readonly #fire = (event: Event): void => this.#dispatch(event);

  constructor(id: string, request: SipRequest, destination: Destination, ctx: TransactionContext) {
    super(id, request, ctx);
    this.destination = destination;
    this.#response = this.newSignal();
  }

  get state(): ClientInviteState {
    return this.#state;
  }

  get lastResponse(): SipResponse | undefined {
    return this.#lastResponse;
  }

  /** Every response passed to the TU: provisionals, the final response, and 2xx retransmissions or forks while Accepted. */
  onResponse(listener: Listener<[SipResponse]>): () => void {
    return this.#response.add(listener);
  }

  /** Called by the layer once. RFC 3261 §17.1.1.2: enter Calling, send the INVITE, start Timer A (unreliable only) and Timer B. */
  start(): void {
    const timers = this.context.timers;
    this.#sendInvite();
    if (timers.A > 0) {
      this.#intervalA = timers.A;
      this.#timerA = startTimer(this.#fire, timers.A, TIMER_A);
    }
    this.#timerB = startTimer(this.#fire, timers.B, TIMER_B);
  }

  /** Called by the layer with a response it matched to this transaction (§17.1.3). */
  receiveResponse(response: SipResponse): void {
    this.#dispatch({ type: 'response', response });
  }

  abort(): void {
    if (this.#state === 'Terminated') return;
    this.#stopTimers();
    this.#state = 'Terminated';
    this.ended('silent');
  }

  protected transportFailed(error: TransactionTransportError): void {
    this.#dispatch({ type: 'transport-error', error });
  }

  #dispatch(event: Event): void {
    switch (this.#state) {
      case 'Calling':
        return this.#calling(event);
      case 'Proceeding':
        return this.#proceeding(event);
      case 'Completed':
        return this.#completed(event);
      case 'Accepted':
        return this.#accepted(event);
      case 'Terminated':
        return;
    }
  }

  #calling(event: Event): void {
    switch (event.type) {
      case 'timer':
        if (event.timer === 'A') {
          // RFC 3261 §17.1.1.2: retransmit and double the interval; Timer B bounds the total.
          this.context.counters.retransmissions++;
          this.#sendInvite();
          this.#intervalA *= 2;
          this.#timerA = startTimer(this.#fire, this.#intervalA, TIMER_A);
        } else if (event.timer === 'B') {
          this.#terminate('timeout');
        }
        return;
      case 'response':
        this.#timerA = stopTimer(this.#timerA);
        // Timer B only guards Calling; once the peer answered, Timer C of the TU takes over (§16.6).
        this.#timerB = stopTimer(this.#timerB);
        if (event.response.status < 200) {
          this.#state = 'Proceeding';
          this.#passUp(event.response);
        } else this.#final(event.response);
        return;
      case 'transport-error':
        return this.#terminate(event.error);
    }
  }

  #proceeding(event: Event): void {
    switch (event.type) {
      case 'response':
        if (event.response.status < 200) this.#passUp(event.response);
        else this.#final(event.response);
        return;
      case 'transport-error':
        return this.#terminate(event.error);
      case 'timer':
        return;
    }
  }

  #completed(event: Event): void {
    switch (event.type) {
      case 'response':
        // RFC 3261 §17.1.1.2: a retransmitted final response is ACKed again, not passed up.
        this.context.counters.absorbed++;
        if (event.response.status >= 300 && this.#ack !== undefined) {
          this.context.counters.retransmissions++;
          this.sendRequest(this.#ack, this.destination);
        }
        return;
      case 'timer':
        if (event.timer === 'D') this.#terminate('done');
        return;
      case 'transport-error':
        return this.#terminate(event.error);
    }
  }

  #accepted(event: Event): void {
    switch (event.type) {
      case 'response':
        // RFC 6026 §7.2: further 2xx (retransmissions or other forks) go to the TU, which ACKs them.
        if (event.response.status >= 200 && event.response.status < 300) this.#passUp(event.response);
        else this.context.counters.absorbed++;
        return;
      case 'timer':
        if (event.timer === 'M') this.#terminate('done');
        return;
      case 'transport-error':
        return;
    }
  }

  #final(response: SipResponse): void {
    const timers = this.context.timers;
    if (response.status < 300) {
      // RFC 6026 §7.2: Accepted, Timer M, the TU sends the ACK for 2xx; a transport error is ignored.
      this.#state = 'Accepted';
      this.linger({ timeout: false, transportError: false });
      this.#timerM = startTimer(this.#fire, timers.M, TIMER_M);
      this.#passUp(response);
      return;
    }
    // RFC 3261 §17.1.1.2: ACK the non-2xx final response, pass it up, wait Timer D for retransmissions.
    this.#state = 'Completed';
    const request = this.request as SipRequest;
    this.#ack = createNon2xxAck(request, response);
    this.linger({ timeout: false, transportError: true });
    this.sendRequest(this.#ack, this.destination);
    if (timers.D > 0) this.#timerD = startTimer(this.#fire, timers.D, TIMER_D);
    this.#passUp(response);
    // Completed only absorbs responses: nothing more goes to the TU.
    this.#response.clear();
    if (timers.D === 0) this.#terminate('done');
  }

  #sendInvite(): void {
    const request = this.request;
    if (request !== undefined) this.sendRequest(request, this.destination);
  }

  #passUp(response: SipResponse): void {
    this.#lastResponse = response;
    this.#response.emit(response);
    // The TU has it now; the lingering states keep no response (see lastResponse).
    if (this.#state === 'Completed' || this.#state === 'Accepted') this.#lastResponse = undefined;
  }

  #terminate(cause: 'done' | 'timeout' | TransactionTransportError): void {
    if (this.#state === 'Terminated') return;
    this.#stopTimers();
    this.#state = 'Terminated';
    this.ended(cause);
    this.#response.clear();
  }

  #stopTimers(): void {
    this.#timerA = stopTimer(this.#timerA);
    this.#timerB = stopTimer(this.#timerB);
    this.#timerD = stopTimer(this.#timerD);
    this.#timerM = stopTimer(this.#timerM);
  }
}
