import type { SipRequest, SipResponse } from '../message/index.js';
import type { Destination } from '../transport/index.js';
import { Signal, type Listener } from './signal.js';
import type { TransactionTimers } from './timers.js';
import type { MessageSender, MessageSource } from './transaction-transport.js';

/** The four RFC 3261 §17 state machines. */
export type TransactionKind = 'client-invite' | 'client-non-invite' | 'server-invite' | 'server-non-invite';

/** The logging surface the layer needs: the pino child-logger signature. Default: silent. */
export interface TransactionLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const ignore = (): void => {};

/** Discards everything. */
export const silentTransactionLogger: TransactionLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

/** Live statistics of a transaction layer; plain numbers so they serialise as they are. */
export interface TransactionCounters {
  readonly created: Record<TransactionKind, number>;
  readonly terminated: Record<TransactionKind, number>;
  /** Requests, responses and ACKs sent again: by timers A/E/G or to answer a retransmission. */
  retransmissions: number;
  /** Retransmitted requests and responses that matched a transaction and went no further. */
  absorbed: number;
  /** Timers B, F and H that fired. */
  timeouts: number;
  /** Sends the transport refused. */
  transportErrors: number;
  /** Responses that matched no client transaction (given to `onStrayResponse`). */
  strayResponses: number;
  /** ACKs that matched no INVITE server transaction (given to `onAck`). */
  strayAcks: number;
  /** Responses a server transaction refused to send (wrong state, or forbidden by RFC 4320). */
  refused: number;
  /** Requests dropped because they could not be matched (no Via). */
  dropped: number;
}

export function newCounters(): TransactionCounters {
  const perKind = (): Record<TransactionKind, number> => ({
    'client-invite': 0,
    'client-non-invite': 0,
    'server-invite': 0,
    'server-non-invite': 0,
  });
  return {
    created: perKind(),
    terminated: perKind(),
    retransmissions: 0,
    absorbed: 0,
    timeouts: 0,
    transportErrors: 0,
    strayResponses: 0,
    strayAcks: 0,
    refused: 0,
    dropped: 0,
  };
}

/** A transport failure as the transaction reports it: an Error, with the transport's `code` when it gave one. */
export type TransactionTransportError = Error & { code?: string };

/** What a transaction needs from the layer that owns it. Internal: the layer builds one per transaction. */
export interface TransactionContext {
  readonly sender: MessageSender;
  readonly timers: TransactionTimers;
  readonly logger: TransactionLogger;
  readonly counters: TransactionCounters;
  /** Called once, when the transaction reaches Terminated, so the layer drops it from its maps. */
  ended(transaction: Transaction): void;
  /** RFC 6026 §7.1: an ACK the INVITE server transaction passes to the TU in the Accepted state. */
  passAck(ack: SipRequest, source: MessageSource): void;
}

/**
 * What every transaction shares: identity, the request, the terminal events, and the plumbing that
 * turns a rejected send into a transport-error event of the state machine. Each kind adds its
 * `State` union and one transition function per state.
 *
 * Memory: a transaction outlives its call by up to 64*T1 (RFC 6026 Timers L and M, Timer J) only to
 * absorb retransmissions. On entering that lingering state (`linger()`) it keeps its key, what it
 * replays and where to, and drops the request and every listener that can no longer be called, so
 * nothing of the TU's call stays reachable through it. Event signals are made on the first listener.
 */
export abstract class Transaction {
  abstract readonly kind: TransactionKind;
  /** The matching key (RFC 3261 §17.1.3 for clients, §17.2.3 for servers). */
  readonly id: string;
  /** The request's method (INVITE, BYE, …): kept when the request itself is released. */
  readonly method: string;
  #request: SipRequest | undefined;
  readonly #ctx: TransactionContext;
  #terminated: Signal<[]> | undefined;
  #transportError: Signal<[TransactionTransportError]> | undefined;
  #timeout: Signal<[]> | undefined;
  readonly #sendFailed = (error: unknown): void => {
    if (this.state === 'Terminated') {
      // A zero Timer D/J/K (reliable transports) ends the transaction before the transport's verdict.
      this.#ctx.counters.transportErrors++;
      this.#ctx.logger.debug({ err: error, transaction: this.id }, 'send failed after the transaction ended');
      return;
    }
    this.transportFailed(asError(error));
  };

  constructor(id: string, request: SipRequest, ctx: TransactionContext) {
    this.id = id;
    this.method = request.method;
    this.#request = request;
    this.#ctx = ctx;
  }

  /**
   * The request that created the transaction, until the transaction lingers: `undefined` once a
   * server transaction sent its final response or a client transaction received it (Completed,
   * Confirmed, Accepted, Terminated). Keep your own reference if you need it longer.
   */
  get request(): SipRequest | undefined {
    return this.#request;
  }

  abstract get state(): string;
  /**
   * Server: the last response sent, while the transaction may replay it (see each kind). Client: the
   * last provisional response received while the transaction is pending; `undefined` once the final
   * response came (the TU had every response through `onResponse`, a lingering client keeps none).
   */
  abstract get lastResponse(): SipResponse | undefined;

  /** Called once when the transaction reaches Terminated, after it left the layer's maps. */
  onTerminated(listener: Listener<[]>): () => void {
    return (this.#terminated ??= this.newSignal()).add(listener);
  }

  /**
   * Called when the transport refused a send (the TU acts as on a 503, §8.1.3.1). The transaction
   * terminates right after, except an INVITE server transaction in Accepted, which keeps absorbing
   * until Timer L (RFC 6026 §7.1).
   */
  onTransportError(listener: Listener<[TransactionTransportError]>): () => void {
    return (this.#transportError ??= this.newSignal()).add(listener);
  }

  /** Client: Timer B or F fired (the TU acts as on a 408, §8.1.3.1). Server INVITE: Timer H fired, no ACK came. */
  onTimeout(listener: Listener<[]>): () => void {
    return (this.#timeout ??= this.newSignal()).add(listener);
  }

  /** Stops every timer and leaves the layer without events (layer shutdown). */
  abstract abort(): void;

  protected get context(): TransactionContext {
    return this.#ctx;
  }

  /** A signal whose throwing listeners are logged with this transaction. */
  protected newSignal<A extends unknown[]>(): Signal<A> {
    return new Signal<A>((error) => this.#ctx.logger.error({ err: error, transaction: this.id }, 'transaction listener threw'));
  }

  /**
   * The subclass entered a lingering state (RFC 6026 §7.1, RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.2):
   * releases the request, and the timeout and transport-error listeners unless the state can still
   * report them. `onTerminated` listeners stay until Terminated.
   */
  protected linger(keep: { timeout: boolean; transportError: boolean }): void {
    this.#request = undefined;
    if (!keep.timeout) this.#timeout = undefined;
    if (!keep.transportError) this.#transportError = undefined;
  }

  /** The state machine's reaction to a rejected send. */
  protected abstract transportFailed(error: TransactionTransportError): void;

  protected sendRequest(request: SipRequest, destination: Destination): void {
    let sent: Promise<void>;
    try {
      sent = this.#ctx.sender.sendRequest(request, destination);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(undefined, this.#sendFailed);
  }

  protected sendResponse(response: SipResponse, source: MessageSource): void {
    let sent: Promise<void>;
    try {
      sent = this.#ctx.sender.sendResponse(response, source);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(undefined, this.#sendFailed);
  }

  protected emitTimeout(): void {
    this.#ctx.counters.timeouts++;
    this.#timeout?.emit();
  }

  protected emitTransportError(error: TransactionTransportError): void {
    this.#ctx.counters.transportErrors++;
    this.#ctx.logger.warn({ err: error, transaction: this.id, method: this.method }, 'transaction transport error');
    this.#transportError?.emit(error);
  }

  /**
   * Bookkeeping once the subclass has set its state to Terminated and stopped its timers: leaves the
   * layer's maps, then tells the listeners why (timeout, transport error) and that it ended.
   * `silent` skips every event (layer shutdown).
   */
  protected ended(cause: 'done' | 'timeout' | 'silent' | TransactionTransportError): void {
    this.#ctx.counters.terminated[this.kind]++;
    this.#ctx.ended(this);
    if (cause === 'timeout') this.emitTimeout();
    else if (cause instanceof Error) this.emitTransportError(cause);
    if (cause !== 'silent') this.#terminated?.emit();
    this.#request = undefined;
    this.#terminated = undefined;
    this.#transportError = undefined;
    this.#timeout = undefined;
  }
}

function asError(error: unknown): TransactionTransportError {
  return error instanceof Error ? error : new Error(String(error));
}
