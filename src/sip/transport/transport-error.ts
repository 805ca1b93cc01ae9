/** Stable reasons a send or listen failed; safe to switch on and to use as counter names. */
export type TransportErrorCode =
  /** No transport for the destination's protocol and address family, or a host name where an IP was needed. */
  | 'unreachable'
  /** The TCP/TLS connect was refused or failed. */
  | 'connect-failed'
  /** The connect did not complete within the connect timeout. */
  | 'connect-timeout'
  /** The transport (or the connection) is closed or not listening yet. */
  | 'closed'
  /** The data cannot be sent on this transport in one piece (UDP datagram limit). */
  | 'too-large'
  /** The connection cap is reached; no new outbound connection. */
  | 'connection-limit'
  /** The connection's write buffer is above its cap: the peer is not reading. */
  | 'congested'
  /** The socket reported an error while writing. */
  | 'send-failed'
  /** The socket could not be bound. */
  | 'listen-failed'
  /** `sendWithFailover` ran out of destinations (or got none). */
  | 'all-failed';

/**
 * The one error the transport layer rejects with. `code` is stable; `message` says what happened and
 * to whom. `cause` carries the system error (`ECONNREFUSED`, …) when there is one.
 *
 * RFC 3263 §4.3: the caller treats any TransportError on a destination as a reason to try the next.
 */
export class TransportError extends Error {
  readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
    this.code = code;
  }

  static is(value: unknown): value is TransportError {
    return value instanceof TransportError;
  }
}
