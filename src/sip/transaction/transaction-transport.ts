import type { SipRequest, SipResponse } from '../message/index.js';
import type { Destination, Endpoint, Protocol } from '../transport/index.js';

/**
 * Where a message came from: the subset of the transport's `InboundPacket` the transaction layer
 * keeps to send responses back (an `InboundPacket` is a `MessageSource`).
 */
export interface MessageSource {
  protocol: Protocol;
  local: Endpoint;
  remote: Endpoint;
  /** Stream transports: the connection the message arrived on (RFC 3261 §18.2.2). */
  connectionId?: string;
}

/**
 * What the transaction layer needs from below. The composition root implements it over the
 * transport layer; tests implement it in memory. The transaction layer never touches sockets.
 *
 * Hazard: both send methods may be called many times with the same message object (retransmissions),
 * and must not modify it.
 */
export interface MessageSender {
  /** Serialises and sends a request to a destination; rejects with an error carrying a `code` on transport failure. */
  sendRequest(request: SipRequest, destination: Destination): Promise<void>;
  /** Sends a response back along the request's path (RFC 3261 §18.2.2 / RFC 3581), given where the request came from. */
  sendResponse(response: SipResponse, source: MessageSource): Promise<void>;
  /** True for stream transports (no retransmission timers A/E/G, zero D/J/K). */
  isReliable(protocol: Protocol): boolean;
}
