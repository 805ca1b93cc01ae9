/**
 * The transport contract: what every SIP transport (UDP, TCP, later TLS, WS, WSS) offers the layer
 * above. A transport owns one listening address; it moves bytes and knows nothing of SIP grammar,
 * except for stream framing (RFC 3261 §18.3), which it must do to hand up whole messages.
 *
 * New transports (TLS, RFC 7118 WebSocket) are new files implementing {@link Transport}; the layers
 * above only see this interface, {@link InboundPacket} and {@link Destination}.
 */

/** Transport protocols, as named in the Via sent-protocol and the URI `transport` parameter (lower case). */
export type Protocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** A numeric IP address, port and family. Addresses are never host names at this level. */
export interface Endpoint {
  address: string;
  port: number;
  family: 4 | 6;
}

/**
 * Where to send bytes. `address` must be a numeric IP address (resolve names first, see `Resolver`).
 * `connectionId` names a stream connection to prefer (RFC 3261 §18.2.2: a response goes back on the
 * connection its request came on); when that connection is gone, a stream transport falls back to
 * an open connection to `address:port`, then to a new one. `local` asks the layer to send from the
 * transport bound to that endpoint (RFC 3581 §4: answer from where the request was received).
 */
export interface Destination {
  address: string;
  port: number;
  protocol: Protocol;
  connectionId?: string;
  local?: Endpoint;
}

/**
 * What a transport hands up: one raw datagram (UDP) or one complete, framed SIP message (stream
 * transports). `data` is not parsed and may be anything the peer sent.
 */
export interface InboundPacket {
  data: Buffer;
  protocol: Protocol;
  local: Endpoint;
  remote: Endpoint;
  /** Stream transports only: the connection the message arrived on. */
  connectionId?: string;
  /** `Date.now()` when the bytes were read. */
  receivedAt: number;
}

/** Why a transport dropped bytes or a connection; stable, usable as a counter name. */
export type IssueCode =
  | 'too-large'
  | 'empty'
  | 'missing-content-length'
  | 'bad-content-length'
  | 'header-too-large'
  | 'buffer-overflow'
  | 'connection-limit'
  | 'idle-timeout'
  | 'socket-error'
  | 'handler-error'
  | 'no-handler';

/**
 * Something went wrong below the SIP level without a caller to reject: a dropped datagram, a framing
 * error that closed a connection, a socket error. Reported, counted, never thrown.
 */
export interface TransportIssue {
  code: IssueCode;
  message: string;
  protocol: Protocol;
  local: Endpoint;
  remote?: Endpoint;
  connectionId?: string;
  /** Bytes discarded because of this issue, when known. */
  bytes?: number;
}

/** A stream connection's life: `open` and `close` for RFC 5626 flows, `pong` when a CRLF keep-alive answer arrives (RFC 5626 §4.4.1). */
export interface ConnectionEvent {
  type: 'open' | 'close' | 'pong';
  connectionId: string;
  protocol: Protocol;
  local: Endpoint;
  remote: Endpoint;
  direction: 'inbound' | 'outbound';
  /** For `close`: why, when the transport closed it (an {@link IssueCode}, `'closed'` on shutdown, `'remote'` when the peer did). */
  reason?: string;
}

/** Per-transport counters, plain numbers so they serialise as they are. */
export interface TransportStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  sendErrors: number;
  dropped: Partial<Record<IssueCode, number>>;
  /** Stream transports: connections open now and opened since start. */
  connections?: { open: number; opened: number; inbound: number; outbound: number };
}

export type PacketHandler = (packet: InboundPacket) => void;
export type IssueHandler = (issue: TransportIssue) => void;
export type ConnectionHandler = (event: ConnectionEvent) => void;

/**
 * One transport bound to one local address.
 *
 * Hazards: handlers run synchronously on the socket's read path, so they must not block; a handler
 * that throws is reported as a `handler-error` issue and does not stop the transport. Each `on*`
 * method replaces the previous handler (one upward consumer: the transport layer).
 */
export interface Transport {
  readonly protocol: Protocol;
  /** Stream transports: true (no retransmission timers A/E/G, RFC 3261 §17.1.1.2). */
  readonly reliable: boolean;
  /** The bound endpoint; `port` is the real port once `listen()` resolved (even when 0 was asked). */
  readonly local: Endpoint;
  /** Binds the socket. Rejects with `TransportError` code `listen-failed`. */
  listen(): Promise<void>;
  /** Releases the port and every connection. Idempotent. */
  close(): Promise<void>;
  /**
   * Sends bytes as they are. Rejects with `TransportError` (`closed`, `too-large`, `unreachable`,
   * `connect-failed`, `connect-timeout`, `connection-limit`, `congested`, `send-failed`).
   */
  send(target: Destination, data: Buffer): Promise<void>;
  onPacket(handler: PacketHandler): void;
  onIssue(handler: IssueHandler): void;
  /** Stream transports only. */
  onConnection?(handler: ConnectionHandler): void;
  /** Stream transports only: whether a connection with that id is open on this transport. */
  hasConnection?(connectionId: string): boolean;
  /** A snapshot of this transport's counters. */
  stats(): TransportStats;
}
