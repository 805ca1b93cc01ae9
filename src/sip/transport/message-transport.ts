import { networkInterfaces } from 'node:os';
import {
  createResponse,
  headerKey,
  parseMessage,
  Via,
  type MessageLimits,
  type SipRequest,
  type SipResponse,
} from '../message/index.js';
import type { Destination, Endpoint, InboundPacket, Protocol, Transport } from './transport.js';
import type { TransportLayer } from './transport-layer.js';
import { TransportError } from './transport-error.js';
import { MethodCounter, StatusCounter } from './message-counters.js';
import { ipFamily } from './ip-address.js';
import { silentLogger, type TransportLogger } from './transport-logger.js';

/** Where a message came from: what is needed to answer it (RFC 3261 §18.2.2). */
export interface MessageSource {
  protocol: Protocol;
  local: Endpoint;
  remote: Endpoint;
  connectionId?: string;
}

export interface MessageTransportOptions {
  layer: TransportLayer;
  limits?: Partial<MessageLimits>;
  /**
   * Address put in Via sent-by and Contact when a transport is bound to a
   * wildcard address (0.0.0.0 or ::). Default: the first non-internal address
   * of the machine of that family, or loopback.
   */
  advertisedAddress?: { 4?: string; 6?: string };
  /**
   * RFC 3261 §18.1.1: a request larger than this many bytes goes over TCP when
   * it was to go over UDP (1300 for an unknown path MTU).
   */
  udpSizeLimit?: number;
  logger?: TransportLogger;
}

export interface MessageTransportStats {
  /** Messages handed up. */
  requestsIn: number;
  responsesIn: number;
  /** Requests the parser refused and that were answered (400, 413, 505, 513). */
  answeredMalformed: number;
  /** Messages dropped unanswered, by reason. */
  dropped: Record<string, number>;
  requestsOut: number;
  responsesOut: number;
  /** Requests moved from UDP to TCP because of their size (§18.1.1). */
  switchedToTcp: number;
  /** `requestsIn` by method (past 32 distinct names, the rest as `OTHER`). */
  requestsInByMethod: Record<string, number>;
  /** `responsesIn` by status code. */
  responsesInByStatus: Record<string, number>;
  /** `requestsOut` by method. */
  requestsOutByMethod: Record<string, number>;
  /** `responsesOut` by status code (sent, relayed, and answers to malformed requests). */
  responsesOutByStatus: Record<string, number>;
}

type RequestHandler = (request: SipRequest, source: MessageSource) => void;
type ResponseHandler = (response: SipResponse, source: MessageSource) => void;

const FORBIDDEN_TARGETS = /^(255\.255\.255\.255|0\.0\.0\.0|22[4-9]\.|23\d\.|::$|ff[0-9a-f]{2}:)/i;

/**
 * SIP messages over the transport layer (RFC 3261 §18): parses what arrives,
 * answers what the parser refused when an answer can be formed and drops the
 * rest (counted), stamps `received`/`rport` on the top Via of requests
 * (§18.2.1, RFC 3581), routes responses back (§18.2.2, RFC 3581 §4) and sends
 * requests (§18.1.1, switching to TCP above the size limit).
 */
export class MessageTransport {
  readonly #layer: TransportLayer;
  readonly #limits: Partial<MessageLimits> | undefined;
  readonly #udpSizeLimit: number;
  readonly #log: TransportLogger;
  readonly #advertised: { 4?: string; 6?: string };
  #addresses: Set<string> | undefined;
  /** The machine's first usable address per family, and when it was looked up (see `#advertisedFor`). */
  #found: { at: number; 4?: string; 6?: string } | undefined;
  #onRequest: RequestHandler = () => {};
  #onResponse: ResponseHandler = () => {};
  readonly #stats = {
    requestsIn: 0,
    responsesIn: 0,
    answeredMalformed: 0,
    dropped: {} as Record<string, number>,
    requestsOut: 0,
    responsesOut: 0,
    switchedToTcp: 0,
  };
  readonly #requestsIn = new MethodCounter();
  readonly #responsesIn = new StatusCounter();
  readonly #requestsOut = new MethodCounter();
  readonly #responsesOut = new StatusCounter();

  constructor(options: MessageTransportOptions) {
    this.#layer = options.layer;
    this.#limits = options.limits;
    this.#udpSizeLimit = options.udpSizeLimit ?? 1300;
    this.#log = options.logger ?? silentLogger;
    this.#advertised = options.advertisedAddress ?? {};
    this.#layer.onPacket(this.#receive);
  }

  onRequest(handler: RequestHandler): void {
    this.#onRequest = handler;
  }

  onResponse(handler: ResponseHandler): void {
    this.#onResponse = handler;
  }

  stats(): MessageTransportStats {
    return {
      ...this.#stats,
      dropped: { ...this.#stats.dropped },
      requestsInByMethod: this.#requestsIn.toJSON(),
      responsesInByStatus: this.#responsesIn.toJSON(),
      requestsOutByMethod: this.#requestsOut.toJSON(),
      responsesOutByStatus: this.#responsesOut.toJSON(),
    };
  }

  isReliable(protocol: Protocol): boolean {
    return protocol !== 'udp';
  }

  #receive = (packet: InboundPacket): void => {
    const result = parseMessage(packet.data, { limits: this.#limits, stream: packet.protocol !== 'udp' });
    if (result.ok === true) {
      const message = result.message;
      if (message.isRequest) {
        stampVia(message, packet);
        this.#stats.requestsIn++;
        this.#requestsIn.add(message.method);
        this.#onRequest(message, packet);
      } else {
        this.#stats.responsesIn++;
        this.#responsesIn.add(message.status);
        this.#onResponse(message, packet);
      }
      return;
    }
    if (result.ok === 'partial') {
      this.#drop('truncated');
      return;
    }
    if (result.status !== undefined && result.message?.isRequest && result.message.method !== 'ACK' && result.message.has('via')) {
      // RFC 3261 §8.2 / RFC 4475: answer what can be answered, statelessly.
      const request = result.message;
      stampVia(request, packet);
      const reply = createResponse(request, result.status, { reason: reasonFor(result.status, result.reason) });
      this.#stats.answeredMalformed++;
      this.#log.debug({ remote: packet.remote, status: result.status, why: result.reason }, 'malformed request answered');
      this.sendResponse(reply, packet).catch((error: unknown) => {
        this.#log.debug({ remote: packet.remote, error: String(error) }, 'could not answer a malformed request');
      });
      return;
    }
    this.#drop(result.message?.isRequest === false || result.status === undefined ? 'malformed-response' : 'malformed-request');
    this.#log.debug({ remote: packet.remote, why: result.reason }, 'malformed message dropped');
  };

  /**
   * Chooses the transport for a request to `destination` (TCP above the UDP size
   * limit, §18.1.1) and puts our Via on top with the given branch. Returns where
   * to send it. Call once per request, before creating its client transaction.
   */
  prepareRequest(request: SipRequest, destination: Destination, branch: string): Destination {
    let target = destination;
    if (target.protocol === 'udp') {
      // Via and Content-Length add some bytes: estimate with a margin of 100.
      const size = serialisedLength(request) + 100;
      if (size > this.#udpSizeLimit && this.#hasTransport('tcp', ipFamily(target.address) || 4)) {
        target = { ...target, protocol: 'tcp' };
        this.#stats.switchedToTcp++;
      }
    }
    const sentBy = this.sentBy(target.protocol, ipFamily(target.address) || 4);
    const via = new Via({ transport: target.protocol.toUpperCase(), host: sentBy.host, port: sentBy.port });
    via.params.set('branch', branch);
    via.params.set('rport', null);
    request.add('Via', via.toString(), { first: true });
    return target;
  }

  /** Our address and port for Via sent-by and Contact, for a protocol and address family. */
  sentBy(protocol: Protocol, family: 4 | 6 = 4): { host: string; port: number } {
    const t = this.#transportFor(protocol, family) ?? this.#transportFor(protocol, family === 4 ? 6 : 4);
    if (t === undefined) throw new TransportError('unreachable', `no ${protocol} transport is listening`);
    let address = t.local.address;
    if (address === '0.0.0.0' || address === '::') address = this.#advertisedFor(t.local.family);
    return { host: t.local.family === 6 ? `[${address}]` : address, port: t.local.port };
  }

  /**
   * True when `host:port` names one of our listeners (RFC 3261 §16.4: a Route
   * or Request-URI that is this server). A missing port means 5060 (5061 for TLS).
   */
  isLocal(host: string, port: number | undefined, protocol?: Protocol): boolean {
    const name = host.charCodeAt(0) === 91 ? host.slice(1, -1) : host;
    const lower = name.toLowerCase();
    for (const t of this.#layer.transports) {
      if (protocol !== undefined && t.protocol !== protocol) continue;
      const want = port ?? (t.protocol === 'tls' || t.protocol === 'wss' ? 5061 : 5060);
      if (t.local.port !== want) continue;
      const bound = t.local.address;
      if (bound === lower) return true;
      if ((bound === '0.0.0.0' || bound === '::') && (this.#localAddresses().has(lower) || this.#advertisedFor(t.local.family) === lower)) return true;
    }
    return false;
  }

  /** True when `host` is an address one of our listeners is bound to (any port). */
  isLocalHost(host: string): boolean {
    const lower = (host.charCodeAt(0) === 91 ? host.slice(1, -1) : host).toLowerCase();
    return this.#layer.transports.some((t) => {
      const bound = t.local.address;
      return bound === lower || ((bound === '0.0.0.0' || bound === '::') && this.#localAddresses().has(lower));
    });
  }

  /** This machine's addresses (for listeners bound to a wildcard address). */
  #localAddresses(): Set<string> {
    if (this.#addresses === undefined) {
      this.#addresses = new Set(['127.0.0.1', '::1', 'localhost']);
      for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) this.#addresses.add(a.address.toLowerCase());
      for (const a of Object.values(this.#advertised)) if (a) this.#addresses.add(a.toLowerCase());
    }
    return this.#addresses;
  }

  /**
   * Forwards a response statelessly along its Via (RFC 3261 §16.11, §18.2.2):
   * the caller removed its own Via; the next one says where it goes.
   */
  async forwardResponse(response: SipResponse): Promise<void> {
    const via = response.topVia;
    if (via === undefined) throw new TransportError('unreachable', 'a response without Via cannot be forwarded');
    const protocol = via.transport.toLowerCase() as Protocol;
    const address = via.received ?? via.hostname;
    const rport = via.rport;
    const port = typeof rport === 'number' ? rport : via.port ?? (protocol === 'tls' ? 5061 : 5060);
    if (FORBIDDEN_TARGETS.test(address) || ipFamily(address) === 0) {
      this.#drop('forbidden-target');
      throw new TransportError('unreachable', `refusing to forward a response to ${address}`);
    }
    await this.#layer.send({ protocol, address, port }, response.toBuffer());
    this.#stats.responsesOut++;
    this.#responsesOut.add(response.status);
  }

  /** Serialises and sends a request (its Via already set by `prepareRequest`). */
  async sendRequest(request: SipRequest, destination: Destination): Promise<void> {
    await this.#layer.send(destination, request.toBuffer());
    this.#stats.requestsOut++;
    this.#requestsOut.add(request.method);
  }

  /**
   * Sends a response back (RFC 3261 §18.2.2, RFC 3581 §4): on the connection the
   * request came on for stream transports, else to the source address and the
   * rport (or sent-by port), from the local endpoint the request reached.
   */
  async sendResponse(response: SipResponse, source: MessageSource): Promise<void> {
    const via = response.topVia;
    const data = response.toBuffer();
    if (source.protocol !== 'udp') {
      const direct: Destination = {
        protocol: source.protocol,
        address: source.remote.address,
        port: source.remote.port,
        connectionId: source.connectionId,
        local: source.local,
      };
      try {
        await this.#layer.send(direct, data);
      } catch (error) {
        // The connection is gone: open a new one to received / sent-by port (§18.2.2).
        if (via === undefined) throw error;
        const port = via.port ?? (source.protocol === 'tls' ? 5061 : 5060);
        await this.#layer.send({ protocol: source.protocol, address: via.received ?? source.remote.address, port }, data);
      }
      this.#stats.responsesOut++;
      this.#responsesOut.add(response.status);
      return;
    }
    // RFC 3581 §4: rport answers go to the source port; a Via that could not be parsed
    // (a 400 to a malformed request) leaves nothing better than the source either.
    const rport = via?.rport;
    const address = via?.received ?? source.remote.address;
    const port = via === undefined ? source.remote.port : typeof rport === 'number' ? rport : via.port ?? 5060;
    if (FORBIDDEN_TARGETS.test(address)) {
      this.#drop('forbidden-target');
      throw new TransportError('unreachable', `refusing to send a response to ${address}`);
    }
    await this.#layer.send({ protocol: 'udp', address, port, local: source.local }, data);
    this.#stats.responsesOut++;
    this.#responsesOut.add(response.status);
  }

  #drop(reason: string): void {
    this.#stats.dropped[reason] = (this.#stats.dropped[reason] ?? 0) + 1;
  }

  #hasTransport(protocol: Protocol, family: 4 | 6): boolean {
    return this.#transportFor(protocol, family) !== undefined;
  }

  #transportFor(protocol: Protocol, family: 4 | 6): Transport | undefined {
    return this.#layer.transports.find((t) => t.protocol === protocol && t.local.family === family);
  }

  #advertisedFor(family: 4 | 6): string {
    const configured = this.#advertised[family];
    if (configured) return configured;
    // os.networkInterfaces() costs tens of microseconds and this runs for every request sent (Via)
    // and every Record-Route and Contact: look again at most once a second.
    const now = Date.now();
    let found = this.#found;
    if (found === undefined || now - found.at >= INTERFACES_TTL_MS) found = this.#found = { at: now, ...firstAddresses() };
    return found[family] ?? (family === 4 ? '127.0.0.1' : '::1');
  }
}

/** How long the machine's addresses found for a wildcard listener are used before looking again. */
const INTERFACES_TTL_MS = 1000;

/** The first non-internal, non-link-local address of each family, in the order the OS lists them. */
function firstAddresses(): { 4?: string; 6?: string } {
  const out: { 4?: string; 6?: string } = {};
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      const family = a.family === 'IPv4' ? 4 : 6;
      if (!a.internal && out[family] === undefined && !a.address.startsWith('fe80')) out[family] = a.address;
    }
  }
  return out;
}

/**
 * RFC 3261 §18.2.1: `received` when the sent-by host differs from the source
 * address; RFC 3581 §4: `rport` filled with the source port when present.
 */
function stampVia(request: SipRequest, source: InboundPacket): void {
  const via = request.topVia;
  if (via === undefined) return;
  let changed = false;
  if (via.hostname !== source.remote.address) {
    via.params.set('received', source.remote.address);
    changed = true;
  }
  if (via.params.has('rport')) {
    via.params.set('rport', String(source.remote.port));
    if (!via.params.has('received')) via.params.set('received', source.remote.address);
    changed = true;
  }
  if (!changed) return;
  const text = via.toString();
  request.removeFirst('via');
  request.add('Via', text, { first: true });
}

/**
 * The length of `request.toBuffer()` without building it (request line, header lines as they are,
 * one Content-Length computed from the body, the blank line, the body): the §18.1.1 size check
 * needs only the number, and the INVITE's is the largest serialisation of a call.
 */
function serialisedLength(request: SipRequest): number {
  const body = request.body.length;
  const contentLength = String(body).length;
  let length = Buffer.byteLength(request.startLine()) + 2;
  let wroteLength = false;
  for (const [name, value] of request.headers()) {
    if (headerKey(name) === 'content-length') {
      if (wroteLength) continue;
      wroteLength = true;
      length += Buffer.byteLength(name) + 2 + contentLength + 2;
      continue;
    }
    length += Buffer.byteLength(name) + 2 + Buffer.byteLength(value) + 2;
  }
  if (!wroteLength) length += 'Content-Length: '.length + contentLength + 2;
  return length + 2 + body;
}

function reasonFor(status: number, why: string): string {
  const base = status === 505 ? 'Version Not Supported' : status === 513 ? 'Message Too Large' : status === 413 ? 'Request Entity Too Large' : 'Bad Request';
  // Keep the reason phrase printable and short.
  return `${base} (${why.replace(/[^\x20-\x7e]/g, '?').slice(0, 100)})`;
}
