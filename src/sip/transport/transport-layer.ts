import { ipFamily } from './ip-address.js';
import { Resolver, type ResolveTarget } from './resolver.js';
import { TransportError } from './transport-error.js';
import { silentLogger, type TransportLogger } from './transport-logger.js';
import type {
  ConnectionEvent,
  ConnectionHandler,
  Destination,
  Endpoint,
  InboundPacket,
  IssueHandler,
  PacketHandler,
  Protocol,
  Transport,
  TransportIssue,
  TransportStats,
} from './transport.js';

export interface TransportLayerOptions {
  /** Transports to own from the start; more can be added with `add()` before `listen()`. */
  transports?: readonly Transport[];
  /** RFC 3263 resolver for `resolve()`. Default: one that knows the owned transports' protocols and families. */
  resolver?: Resolver;
  logger?: TransportLogger;
}

/** Counters of the whole layer, a plain object ready to serialise for statistics. */
export interface TransportLayerStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  sendErrors: number;
  /** Destinations abandoned by `sendWithFailover` for the next one. */
  failovers: number;
  /** What was dropped or closed, by reason (issue codes, plus `unreachable` sends). */
  dropped: Record<string, number>;
  connections: { opened: number; closed: number; open: number };
  transports: (TransportStats & { protocol: Protocol; local: Endpoint })[];
}

/**
 * Owns every transport (any number per protocol, IPv4 and IPv6), funnels what they receive into one
 * upward handler, picks the transport for each send, and fails over between resolved destinations.
 *
 * Seam for the parser: the upward handler receives raw {@link InboundPacket}s; the composition root
 * puts `parseMessage` between this layer and the transaction layer.
 *
 * Hazards: handlers run on the socket read path; one that throws is counted (`handler-error`) and the
 * packet is lost, nothing else. Register handlers before `listen()`.
 */
export class TransportLayer {
  #transports: Transport[] = [];
  /** Transports by `protocol|family`, in the order they were added. */
  #index = new Map<string, Transport[]>();
  #resolver: Resolver | undefined;
  #log: TransportLogger;
  #onPacket: PacketHandler | undefined;
  #onConnection: ConnectionHandler | undefined;
  #onIssue: IssueHandler | undefined;
  #stats = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, sendErrors: 0, failovers: 0 };
  #dropped: Record<string, number> = {};
  #connections = { opened: 0, closed: 0 };
  #receive = (packet: InboundPacket): void => {
    this.#stats.packetsIn++;
    this.#stats.bytesIn += packet.data.length;
    const handler = this.#onPacket;
    if (!handler) {
      this.#drop('no-handler');
      return;
    }
    try {
      handler(packet);
    } catch (err) {
      this.#drop('handler-error');
      this.#log.error({ err, remote: packet.remote, protocol: packet.protocol }, 'packet handler threw');
    }
  };
  #issue = (issue: TransportIssue): void => {
    this.#drop(issue.code);
    if (this.#onIssue) {
      try {
        this.#onIssue(issue);
      } catch (err) {
        this.#log.error({ err }, 'issue handler threw');
      }
    }
  };
  #connection = (event: ConnectionEvent): void => {
    if (event.type === 'open') this.#connections.opened++;
    else if (event.type === 'close') this.#connections.closed++;
    if (!this.#onConnection) return;
    try {
      this.#onConnection(event);
    } catch (err) {
      this.#log.error({ err, connectionId: event.connectionId }, 'connection handler threw');
    }
  };

  constructor(options: TransportLayerOptions = {}) {
    this.#log = options.logger ?? silentLogger;
    this.#resolver = options.resolver;
    for (const transport of options.transports ?? []) this.add(transport);
  }

  /** The owned transports, in the order they were added. */
  get transports(): readonly Transport[] {
    return this.#transports;
  }

  /** Takes ownership of a transport; its packets, issues and connection events now come through this layer. */
  add(transport: Transport): void {
    this.#transports.push(transport);
    const key = indexKey(transport.protocol, transport.local.family);
    const list = this.#index.get(key);
    if (list) list.push(transport);
    else this.#index.set(key, [transport]);
    transport.onPacket(this.#receive);
    transport.onIssue(this.#issue);
    transport.onConnection?.(this.#connection);
  }

  /** Binds every transport; if one fails, the others are closed again and the error is rethrown. */
  async listen(): Promise<void> {
    const results = await Promise.allSettled(this.#transports.map((t) => t.listen()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.close();
      throw failed.reason;
    }
    for (const t of this.#transports) this.#log.info({ protocol: t.protocol, local: t.local }, 'listening');
  }

  /** Closes every transport and connection. */
  async close(): Promise<void> {
    await Promise.all(this.#transports.map((t) => t.close()));
  }

  /** The one upward handler for inbound packets (replaces any previous one). */
  onPacket(handler: PacketHandler): void {
    this.#onPacket = handler;
  }

  /** Stream connection open/close/pong events from every stream transport (RFC 5626 flows). */
  onConnection(handler: ConnectionHandler): void {
    this.#onConnection = handler;
  }

  /** Every issue any transport reports (already counted in `stats().dropped`). */
  onIssue(handler: IssueHandler): void {
    this.#onIssue = handler;
  }

  /**
   * The transport a destination goes out on: same protocol and address family; among several, the
   * one holding `connectionId`, else the one bound to `local`, else the first added.
   */
  select(destination: Destination): Transport | undefined {
    const family = ipFamily(destination.address);
    if (family === 0) return undefined;
    const candidates = this.#index.get(indexKey(destination.protocol, family));
    if (!candidates) return undefined;
    if (candidates.length === 1) return candidates[0];
    const { connectionId, local } = destination;
    if (connectionId !== undefined) {
      const holder = candidates.find((t) => t.hasConnection?.(connectionId));
      if (holder) return holder;
    }
    if (local) {
      const bound = candidates.find((t) => t.local.port === local.port && t.local.address === local.address);
      if (bound) return bound;
    }
    return candidates[0];
  }

  /** Sends to one numeric destination. Rejects with TransportError (`unreachable` when no transport fits). */
  async send(destination: Destination, data: Buffer): Promise<void> {
    const transport = this.select(destination);
    if (!transport) {
      this.#stats.sendErrors++;
      this.#drop('unreachable');
      throw new TransportError(
        'unreachable',
        ipFamily(destination.address) === 0
          ? `"${destination.address}" is not an IP address: resolve it first (RFC 3263)`
          : `no ${destination.protocol.toUpperCase()} transport for IPv${ipFamily(destination.address)}; add one to reach ${destination.address}`,
      );
    }
    try {
      await transport.send(destination, data);
    } catch (err) {
      this.#stats.sendErrors++;
      throw err;
    }
    this.#stats.packetsOut++;
    this.#stats.bytesOut += data.length;
  }

  /**
   * Tries each destination in order until one accepts the bytes (RFC 3263 §4.3) and returns it.
   * Rejects with TransportError `all-failed` (the last failure as `cause`) when none does.
   *
   * Hazard: UDP sends rarely fail here; an unanswered UDP request fails over only when the
   * transaction layer times it out and calls again with the remaining destinations.
   */
  async sendWithFailover(destinations: readonly Destination[], data: Buffer): Promise<Destination> {
    let last: TransportError | undefined;
    for (const destination of destinations) {
      if (last) this.#stats.failovers++;
      try {
        await this.send(destination, data);
        return destination;
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        last = err;
        this.#log.debug({ destination, code: err.code }, 'destination failed, trying the next one');
      }
    }
    throw new TransportError(
      'all-failed',
      last ? `no destination of ${destinations.length} accepted the message; last: ${last.message}` : 'no destination to send to',
      { cause: last },
    );
  }

  /** RFC 3263 resolution of a URI's host/port/transport to destinations this layer can use. */
  resolve(target: ResolveTarget): Promise<Destination[]> {
    this.#resolver ??= new Resolver({
      protocols: [...new Set(this.#transports.map((t) => t.protocol))],
      families: [...new Set(this.#transports.map((t) => t.local.family))].sort(),
      logger: this.#log,
    });
    return this.#resolver.resolve(target);
  }

  stats(): TransportLayerStats {
    const open = this.#connections.opened - this.#connections.closed;
    return {
      ...this.#stats,
      dropped: { ...this.#dropped },
      connections: { ...this.#connections, open },
      transports: this.#transports.map((t) => ({ protocol: t.protocol, local: { ...t.local }, ...t.stats() })),
    };
  }

  #drop(reason: string): void {
    this.#dropped[reason] = (this.#dropped[reason] ?? 0) + 1;
  }
}

function indexKey(protocol: Protocol, family: 4 | 6): string {
  return `${protocol}|${family}`;
}
