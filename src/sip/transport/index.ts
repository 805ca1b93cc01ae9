/**
 * The SIP transport layer (RFC 3261 §18): the only code that touches sockets.
 *
 * Owns: UDP and TCP transports (TLS and WebSocket later, as new {@link Transport} implementations),
 * IPv4 and IPv6 listening, stream framing by Content-Length (§18.3) with CRLF keep-alives
 * (RFC 5626 §3.5.1), connection reuse (§18.2.2), per-connection and per-datagram limits, RFC 3263
 * resolution of outgoing targets, failover between destinations (RFC 3263 §4.3) and transport counters.
 *
 * Does not own: SIP parsing (`sip/message`), retransmissions and timers (`sip/transaction`), deciding
 * where a response goes (the caller passes the Destination, with `connectionId` for stream requests).
 *
 * Upward, everything arrives as an {@link InboundPacket} through `TransportLayer.onPacket`; failures
 * without a caller are {@link TransportIssue}s, counted and reported, never thrown.
 */
export type {
  ConnectionEvent,
  ConnectionHandler,
  Destination,
  Endpoint,
  InboundPacket,
  IssueCode,
  IssueHandler,
  PacketHandler,
  Protocol,
  Transport,
  TransportIssue,
  TransportStats,
} from './transport.js';
export { TransportError, type TransportErrorCode } from './transport-error.js';
export { silentLogger, type TransportLogger } from './transport-logger.js';
export { TransportLayer, type TransportLayerOptions, type TransportLayerStats } from './transport-layer.js';
export { UdpTransport, type UdpTransportOptions } from './udp-transport.js';
export { TcpTransport, type TcpTransportOptions } from './tcp-transport.js';
export { StreamTransport, type StreamSocketFactory, type StreamTransportOptions } from './stream-transport.js';
export { StreamFramer, type FramerOutput, type FramingError, type FramingErrorCode, type StreamFramerOptions } from './stream-framer.js';
export { Resolver, type ResolverOptions, type ResolveTarget } from './resolver.js';
export type { DnsClient, NaptrRecord, RecordWithTtl, SrvRecord } from './dns-client.js';
export { CachingDnsClient, type CachingDnsClientOptions } from './caching-dns-client.js';
export { orderSrv, type SrvOrderable } from './srv-order.js';
export { ipFamily } from './ip-address.js';
export { MessageTransport, type MessageSource, type MessageTransportOptions, type MessageTransportStats } from './message-transport.js';
export { MemoryNetwork, MemoryTransport, type PacketFilter } from './memory-transport.js';
