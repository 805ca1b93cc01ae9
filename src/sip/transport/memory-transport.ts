import { TransportError } from './transport-error.js';
import type {
  Destination,
  Endpoint,
  InboundPacket,
  IssueHandler,
  PacketHandler,
  Protocol,
  Transport,
  TransportStats,
} from './transport.js';

/** Decides the fate of a packet on a MemoryNetwork: deliver it, or drop it (loss tests). */
export type PacketFilter = (packet: { from: Endpoint; to: Destination; data: Buffer }) => boolean;

/**
 * A network inside the process: transports attached to it exchange bytes by
 * address and port, with no sockets. Messages still go through serialisation
 * and parsing, so what tests see is what a wire would carry. Delivery happens
 * in a later turn of the event loop (setImmediate), as socket I/O would: timers
 * keep running between packets, so a long run does not starve them.
 *
 * @example
 * const net = new MemoryNetwork();
 * const a = net.transport({ address: '10.0.0.1', port: 5060 });
 */
export class MemoryNetwork {
  readonly #endpoints = new Map<string, MemoryTransport>();
  /** Every packet that crossed the network, in order (for assertions). */
  readonly log: { from: Endpoint; to: Destination; data: Buffer }[] = [];
  /** Return false to drop a packet. */
  filter: PacketFilter | undefined;
  /** Keep at most this many packets in `log` (oldest dropped). */
  logLimit = 10_000;

  /** A transport on this network; `reliable` makes it behave as a stream transport (no retransmissions). */
  transport(options: { address: string; port: number; reliable?: boolean }): MemoryTransport {
    return new MemoryTransport(this, options.address, options.port, options.reliable ?? false);
  }

  /** @internal */
  attach(t: MemoryTransport): void {
    const key = keyOf(t.local.address, t.local.port, t.protocol);
    if (this.#endpoints.has(key)) throw new TransportError('listen-failed', `${t.local.address}:${t.local.port} (${t.protocol}) is already in use on this memory network`);
    this.#endpoints.set(key, t);
  }

  /** @internal */
  detach(t: MemoryTransport): void {
    const key = keyOf(t.local.address, t.local.port, t.protocol);
    if (this.#endpoints.get(key) === t) this.#endpoints.delete(key);
  }

  /** @internal */
  deliver(from: MemoryTransport, to: Destination, data: Buffer): boolean {
    const target = this.#endpoints.get(keyOf(to.address, to.port, from.protocol));
    if (target === undefined) return false;
    const packet = { from: from.local, to, data };
    if (this.log.length >= this.logLimit) this.log.shift();
    this.log.push(packet);
    if (this.filter !== undefined && !this.filter(packet)) return true;
    const copy = Buffer.from(data);
    setImmediate(() => target.receive(copy, from.local));
    return true;
  }
}

/** A Transport on a MemoryNetwork: `udp` (unreliable) or, when reliable, `tcp`. */
export class MemoryTransport implements Transport {
  readonly protocol: Protocol;
  readonly reliable: boolean;
  readonly local: Endpoint;
  readonly #network: MemoryNetwork;
  #onPacket: PacketHandler | undefined;
  #listening = false;
  readonly #stats: TransportStats = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, sendErrors: 0, dropped: {} };

  constructor(network: MemoryNetwork, address: string, port: number, reliable: boolean) {
    this.#network = network;
    this.reliable = reliable;
    this.protocol = reliable ? 'tcp' : 'udp';
    this.local = { address, port, family: address.includes(':') ? 6 : 4 };
  }

  async listen(): Promise<void> {
    this.#network.attach(this);
    this.#listening = true;
  }

  async close(): Promise<void> {
    this.#listening = false;
    this.#network.detach(this);
  }

  async send(target: Destination, data: Buffer): Promise<void> {
    if (!this.#listening) throw new TransportError('closed', 'memory transport is closed');
    if (!this.#network.deliver(this, target, data)) {
      this.#stats.sendErrors++;
      throw new TransportError(this.reliable ? 'connect-failed' : 'unreachable', `nothing listens on ${target.address}:${target.port} (${this.protocol}) on the memory network`);
    }
    this.#stats.packetsOut++;
    this.#stats.bytesOut += data.length;
  }

  onPacket(handler: PacketHandler): void {
    this.#onPacket = handler;
  }

  onIssue(_handler: IssueHandler): void {}

  stats(): TransportStats {
    return { ...this.#stats, dropped: { ...this.#stats.dropped } };
  }

  /** @internal */
  receive(data: Buffer, from: Endpoint): void {
    if (!this.#listening) return;
    this.#stats.packetsIn++;
    this.#stats.bytesIn += data.length;
    const packet: InboundPacket = { data, protocol: this.protocol, local: this.local, remote: from, receivedAt: Date.now() };
    if (this.reliable) packet.connectionId = `mem-${from.address}:${from.port}`;
    this.#onPacket?.(packet);
  }
}

function keyOf(address: string, port: number, protocol: Protocol): string {
  return `${protocol}|${address}|${port}`;
}
