import type { SipRequest, SipResponse } from '../message/index.js';
import type { Destination } from '../transport/index.js';
import type { Listener, Signal } from './signal.js';
import { startTimer, stopTimer, type TimerHandle } from './timers.js';
import { Transaction, type TransactionContext, type TransactionTransportError } from './transaction.js';

/** RFC 3261 §17.1.2.2 (figure 6). */
export type ClientNonInviteState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

type Event =
  | { readonly type: 'response'; readonly response: SipResponse }
  | { readonly type: 'timer'; readonly timer: 'E' | 'F' | 'K' }
  | { readonly type: 'transport-error'; readonly error: TransactionTransportError };

const TIMER_E: Event = { type: 'timer', timer: 'E' };
const TIMER_F: Event = { type: 'timer', timer: 'F' };
const TIMER_K: Event = { type: 'timer', timer: 'K' };

/**
 * The non-INVITE client transaction (also the one a CANCEL runs in). Retransmits on Timer E over
 * unreliable transports, gives up on Timer F and absorbs response retransmissions for Timer K.
 *
 * RFC 4320: a provisional response does not extend the transaction (Timer F keeps running), and on
 * Timer F the transaction reports `onTimeout` and sends nothing: it never fabricates a 408. A TU that
 * proxies must not forward a 408 upstream for a non-INVITE (RFC 4320 §4.2).
 *
 * Completed (Timer K) keeps only the key: the request, the response and every listener but
 * `onTerminated` are released once the final response went to the TU.
 */
export class ClientNonInviteTransaction extends Transaction {
  readonly kind = 'client-non-invite' as const;
  /** Where the request goes. */
  readonly destination: Destination;
  #state: ClientNonInviteState = 'Trying';
  #lastResponse: SipResponse | undefined;
  #intervalE = 0;
  #timerE: TimerHandle;
  #timerF: TimerHandle;
  #timerK: TimerHandle;
  readonly #response: Signal<[SipResponse]>;
  /** Every timer of the transaction fires through this one function, its event as argument. */
  readonly #fire = (event: Event): void => this.#dispatch(event);

  constructor(id: string, request: SipRequest, destination: Destination, ctx: TransactionContext) {
    super(id, request, ctx);
    this.destination = destination;
    this.#response = this.newSignal();
  }

  get state(): ClientNonInviteState {
    return this.#state;
  }

  get lastResponse(): SipResponse | undefined {
    return this.#lastResponse;
  }

  /** Provisional responses and the final response, once each (retransmissions are absorbed). */
  onResponse(listener: Listener<[SipResponse]>): () => void {
    return this.#response.add(listener);
  }

  /** Called by the layer once. RFC 3261 §17.1.2.2: enter Trying, send the request, start Timer E (unreliable only) and Timer F. */
  start(): void {
    const timers = this.context.timers;
    this.#sendRequest();
    if (timers.E > 0) {
      this.#intervalE = timers.E;
      this.#timerE = startTimer(this.#fire, timers.E, TIMER_E);
    }
    this.#timerF = startTimer(this.#fire, timers.F, TIMER_F);
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
      case 'Trying':
        return this.#trying(event);
      case 'Proceeding':
        return this.#proceeding(event);
      case 'Completed':
        return this.#completed(event);
      case 'Terminated':
        return;
    }
  }

  #trying(event: Event): void {
    switch (event.type) {
      case 'timer':
        if (event.timer === 'E') {
          // RFC 3261 §17.1.2.2: the interval doubles up to T2.
          this.#retransmit(Math.min(this.#intervalE * 2, this.context.timers.t2));
        } else if (event.timer === 'F') {
          this.#terminate('timeout');
        }
        return;
      case 'response':
        if (event.response.status < 200) {
          // RFC 4320 §3 / RFC 3261 §17.1.2.2: Timer F is not reset; Timer E keeps running.
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
      case 'timer':
        // RFC 3261 §17.1.2.2: in Proceeding the request is retransmitted every T2.
        if (event.timer === 'E') this.#retransmit(this.context.timers.t2);
        else if (event.timer === 'F') this.#terminate('timeout');
        return;
      case 'response':
        if (event.response.status < 200) this.#passUp(event.response);
        else this.#final(event.response);
        return;
      case 'transport-error':
        return this.#terminate(event.error);
    }
  }

  #completed(event: Event): void {
    switch (event.type) {
      case 'response':
        this.context.counters.absorbed++;
        return;
      case 'timer':
        if (event.timer === 'K') this.#terminate('done');
        return;
      case 'transport-error':
        return;
    }
  }

  #retransmit(nextInterval: number): void {
    this.context.counters.retransmissions++;
    this.#sendRequest();
    this.#intervalE = nextInterval;
    this.#timerE = startTimer(this.#fire, nextInterval, TIMER_E);
  }

  /** RFC 3261 §17.1.2.2: Completed, Timer K absorbs response retransmissions (zero when reliable). */
  #final(response: SipResponse): void {
    const timers = this.context.timers;
    this.#state = 'Completed';
    this.#timerE = stopTimer(this.#timerE);
    this.#timerF = stopTimer(this.#timerF);
    // Completed ignores transport errors and passes nothing up.
    this.linger({ timeout: false, transportError: false });
    if (timers.K > 0) this.#timerK = startTimer(this.#fire, timers.K, TIMER_K);
    this.#passUp(response);
    this.#response.clear();
    if (timers.K === 0) this.#terminate('done');
  }

  #sendRequest(): void {
    const request = this.request;
    if (request !== undefined) this.sendRequest(request, this.destination);
  }

  #passUp(response: SipResponse): void {
    this.#lastResponse = response;
    this.#response.emit(response);
    // The TU has it now; Completed only absorbs (see lastResponse).
    if (this.#state === 'Completed') this.#lastResponse = undefined;
  }

  #terminate(cause: 'done' | 'timeout' | TransactionTransportError): void {
    if (this.#state === 'Terminated') return;
    this.#stopTimers();
    this.#state = 'Terminated';
    this.ended(cause);
    this.#response.clear();
  }

  #stopTimers(): void {
    this.#timerE = stopTimer(this.#timerE);
    this.#timerF = stopTimer(this.#timerF);
    this.#timerK = stopTimer(this.#timerK);
  }
}
