/**
 * The SIP transaction layer (RFC 3261 §17, with RFC 6026 and RFC 4320).
 *
 * Owns: the four transaction state machines (INVITE and non-INVITE, client and server), matching
 * incoming requests (§17.2.3, including the RFC 2543 fallback) and responses (§17.1.3) to them,
 * retransmissions and timers A–M derived from T1/T2/T4 in one place (`timers.ts`), 100 Trying for
 * INVITE (§17.2.1), the ACK for non-2xx final responses (§17.1.1.3), CANCEL construction and its
 * sequencing after a provisional response (§9.1), fresh branches and Vias, and transaction counters.
 *
 * Does not own: sockets, serialisation targets and response routing (the transport layer, behind
 * {@link MessageSender}); dialogs, the ACK for 2xx and 2xx retransmissions (the TU); turning a timeout
 * or transport error into 408/503 (the TU, §8.1.3.1). It imports only types from the transport layer.
 *
 * Upward, the layer above registers `onRequest`, `onAck` and `onStrayResponse` on the
 * {@link TransactionLayer} and listens to each transaction's `onResponse`, `onTimeout`,
 * `onTransportError` and `onTerminated`.
 */
export {
  TransactionLayer,
  type AckHandler,
  type AnyTransaction,
  type ClientTransaction,
  type RequestHandler,
  type ServerTransaction,
  type StrayResponseHandler,
  type TransactionLayerOptions,
} from './transaction-layer.js';
export { ClientInviteTransaction, type ClientInviteState } from './client-invite.js';
export { ClientNonInviteTransaction, type ClientNonInviteState } from './client-non-invite.js';
export { ServerInviteTransaction, type ServerInviteState, type Trying100 } from './server-invite.js';
export { ServerNonInviteTransaction, type ServerNonInviteState } from './server-non-invite.js';
export {
  Transaction,
  silentTransactionLogger,
  type TransactionCounters,
  type TransactionKind,
  type TransactionLogger,
  type TransactionTransportError,
} from './transaction.js';
export type { MessageSender, MessageSource } from './transaction-transport.js';
export { deriveTimers, DEFAULT_TIMER_BASE, type TimerBase, type TransactionTimers } from './timers.js';
export { newBranch, addVia, type SentBy } from './branch.js';
export { createNon2xxAck } from './non2xx-ack.js';
export { createCancelRequest } from './cancel-request.js';
export type { Listener } from './signal.js';
