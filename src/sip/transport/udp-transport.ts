import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { ipFamily, unbracket } from './ip-address.js';
import { TransportCounters } from './transport-counters.js';
import { TransportError } from './transport-error.js';
import { silentLogger, type TransportLogger } from './transport-logger.js';
import type {
  Destination,
  Endpoint,
  IssueCode,
  IssueHandler,
  PacketHandler,
  Transport,
  TransportStats,
} from './transport.js';

export interface UdpTransportOptions {
  /** Numeric IPv4 or IPv6 address to bind. Default `0.0.0.0`. Use `::` (IPv6 only) beside it for dual stack. */
  address?: string;
  /** Default 5060; 0 binds an ephemeral port, read it back from `local.port` after `listen()`. */
  port?: number;
  /** Inbound datagrams above this many bytes are dropped and counted (`too-large`). Default 65535. */
  maxMessageSize?: number;
  /** SO_RCVBUF in bytes; under SIPp load 4 MiB avoids kernel drops. Default: the OS's. Capped by `net.core.rmem_max`. */
  recvBufferSize?: number;
  /** SO_SNDBUF in bytes. Default: the OS's. */
  sendBufferSize?: number;
  logger?: TransportLogger;
}

/** Largest UDP payload: 65535 less the IP and UDP headers (IPv6 has no IP header in its length field). */
const MAX_DATAGRAM = { 4: 65_507, 6: 65_527 } as const;

/**
 * SIP over UDP (RFC 3261 §18): one socket, one datagram per message, unreliable.
 *
 * IPv6 sockets are bound `ipv6Only`, so an IPv4 and an IPv6 transport can share a port number.
 * Inbound datagrams are handed up raw; the only checks here are emptiness and size.
 */
export class UdpTransport implements Transport {
  readonly protocol = 'udp' as const;
  readonly reliable = false;
  #local: Endpoint;
  #options: UdpTransportOptions;
  #maxMessageSize: number;
  #log: TransportLogger;
  #socket: Socket | undefined;
  #listening = false;
  #onPacket: PacketHandler | undefined;
  #onIssue: IssueHandler | undefined;
  #counters = new TransportCounters();
  /** The numeric address `send()` just checked, for `#lookup` to hand back. */
  #checked: string | undefined;
  /**
   * dgram resolves every destination, even a numeric one, through dns.lookup and a nextTick before
   * the sendmsg. The address `send()` has just checked (numeric, our family) is handed straight
   * back, so the datagram leaves in the same tick; anything else (the bind) takes the default path.
   */
  #lookup = (
    address: string,
    options: LookupOneOptions | number,
    callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
  ): void => {
    if (address === this.#checked) {
      this.#checked = undefined;
      callback(null, address, this.#local.family);
      return;
    }
    dnsLookup(address, typeof options === 'number' ? { family: options } : options, callback);
  };

  constructor(options: UdpTransportOptions = {}) {
    const address = unbracket(options.address ?? '0.0.0.0');
    const family = ipFamily(address);
    if (family === 0) throw new TypeError(`UdpTransport: address must be a numeric IP address, got "${address}"`);
    this.#options = options;
    this.#local = { address, port: options.port ?? 5060, family };
    this.#maxMessageSize = options.maxMessageSize ?? 65_535;
    this.#log = options.logger ?? silentLogger;
  }

  get local(): Endpoint {
    return this.#local;
  }

  /** The kernel's buffer sizes once listening (Linux reports twice what was asked, capped by rmem_max/wmem_max). */
  get bufferSizes(): { recv: number; send: number } | undefined {
    const socket = this.#socket;
    if (!socket || !this.#listening) return undefined;
    return { recv: socket.getRecvBufferSize(), send: socket.getSendBufferSize() };
  }

  listen(): Promise<void> {
    if (this.#socket) return Promise.reject(new TransportError('listen-failed', 'UDP transport already listening'));
    const { address, port, family } = this.#local;
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, lookup: this.#lookup });
    this.#socket = socket;
    return new Promise<void>((resolve, reject) => {
      const onBindError = (err: Error): void => {
        this.#socket = undefined;
        socket.close();
        reject(new TransportError('listen-failed', `UDP bind to ${address}:${port} failed: ${err.message}`, { cause: err }));
      };
      socket.once('error', onBindError);
      socket.bind({ address, port, exclusive: true }, () => {
        socket.off('error', onBindError);
        socket.on('error', (err) => this.#socketError(err));
        socket.on('message', (data, rinfo) => this.#receive(data, rinfo));
        this.#applyBufferSizes(socket);
        this.#local = { address, port: socket.address().port, family };
        this.#listening = true;
        this.#log.info({ local: this.#local }, 'UDP transport listening');
        resolve();
      });
    });
  }

  close(): Promise<void> {
    const socket = this.#socket;
    if (!socket) return Promise.resolve();
    this.#socket = undefined;
    this.#listening = false;
    return new Promise<void>((resolve) => {
      socket.close(() => resolve());
    });
  }

  send(target: Destination, data: Buffer): Promise<void> {
    const socket = this.#socket;
    if (!socket || !this.#listening) {
      return Promise.reject(new TransportError('closed', `UDP transport ${this.#describe()} is not listening`));
    }
    const address = unbracket(target.address);
    if (ipFamily(address) !== this.#local.family) {
      return Promise.reject(
        new TransportError('unreachable', `UDP transport ${this.#describe()} cannot reach "${target.address}" (need an IPv${this.#local.family} address)`),
      );
    }
    if (data.length > MAX_DATAGRAM[this.#local.family]) {
      return Promise.reject(
        new TransportError('too-large', `${data.length} bytes do not fit one UDP datagram; send over TCP (RFC 3261 §18.1.1)`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#checked = address;
      socket.send(data, target.port, address, (err) => {
        if (err) {
          this.#counters.sendErrors++;
          const code = isUnreachable(err) ? 'unreachable' : 'send-failed';
          reject(new TransportError(code, `UDP send to ${address}:${target.port} failed: ${err.message}`, { cause: err }));
          return;
        }
        this.#counters.sent(data.length);
        resolve();
      });
      this.#checked = undefined;
    });
  }

  onPacket(handler: PacketHandler): void {
    this.#onPacket = handler;
  }

  onIssue(handler: IssueHandler): void {
    this.#onIssue = handler;
  }

  stats(): TransportStats {
    return this.#counters.snapshot();
  }

  #receive(data: Buffer, rinfo: RemoteInfo): void {
    const remote: Endpoint = { address: rinfo.address, port: rinfo.port, family: this.#local.family };
    if (data.length === 0) {
      this.#issue('empty', 'empty datagram dropped', remote, 0);
      return;
    }
    if (data.length > this.#maxMessageSize) {
      this.#issue('too-large', `datagram of ${data.length} bytes above the ${this.#maxMessageSize}-byte limit dropped`, remote, data.length);
      return;
    }
    this.#counters.received(data.length);
    const handler = this.#onPacket;
    if (!handler) {
      this.#issue('no-handler', 'datagram dropped: no packet handler registered', remote, data.length);
      return;
    }
    try {
      handler({ data, protocol: 'udp', local: this.#local, remote, receivedAt: Date.now() });
    } catch (err) {
      this.#log.error({ err, remote }, 'UDP packet handler threw');
      this.#issue('handler-error', `packet handler threw: ${String(err)}`, remote, data.length);
    }
  }

  #applyBufferSizes(socket: Socket): void {
    const { recvBufferSize, sendBufferSize } = this.#options;
    try {
      if (recvBufferSize !== undefined) socket.setRecvBufferSize(recvBufferSize);
      if (sendBufferSize !== undefined) socket.setSendBufferSize(sendBufferSize);
    } catch (err) {
      this.#log.warn({ err, recvBufferSize, sendBufferSize }, 'UDP socket buffer sizes not applied; raise net.core.rmem_max / wmem_max');
    }
  }

  #socketError(err: Error): void {
    this.#log.warn({ err, local: this.#local }, 'UDP socket error');
    this.#issue('socket-error', err.message);
  }

  #issue(code: IssueCode, message: string, remote?: Endpoint, bytes?: number): void {
    this.#counters.drop(code);
    const handler = this.#onIssue;
    if (!handler) return;
    try {
      handler({ code, message, protocol: 'udp', local: this.#local, remote, bytes });
    } catch (err) {
      this.#log.error({ err }, 'UDP issue handler threw');
    }
  }

  #describe(): string {
    return `${this.#local.family === 6 ? `[${this.#local.address}]` : this.#local.address}:${this.#local.port}`;
  }
}

function isUnreachable(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENETUNREACH' || code === 'EHOSTUNREACH' || code === 'EADDRNOTAVAIL';
}
