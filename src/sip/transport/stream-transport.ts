import type { Server, Socket } from 'node:net';
import { endpointKey, ipFamily, unbracket } from './ip-address.js';
import { StreamConnection, type StreamConnectionOwner } from './stream-connection.js';
import { TransportCounters } from './transport-counters.js';
import { TransportError } from './transport-error.js';
import { silentLogger, type TransportLogger } from './transport-logger.js';
import type {
  ConnectionHandler,
  Destination,
  Endpoint,
  IssueCode,
  IssueHandler,
  PacketHandler,
  Protocol,
  Transport,
  TransportStats,
} from './transport.js';

export interface StreamTransportOptions {
  /** Numeric IPv4 or IPv6 address to bind. Default `0.0.0.0`. */
  address?: string;
  /** Default 5060; 0 binds an ephemeral port, read back from `local.port` after `listen()`. */
  port?: number;
  /** Inbound and outbound connections together; beyond it inbound ones are closed at once. Default 4096. */
  maxConnections?: number;
  /** Largest message accepted on a connection. Default 65536. */
  maxMessageSize?: number;
  /** Largest header section. Default: `maxMessageSize`. */
  maxHeaderSize?: number;
  /** Most bytes held per connection for an incomplete message. Default: `maxMessageSize`. */
  maxBufferedBytes?: number;
  /** Most bytes waiting to be written per connection before `send()` rejects `congested`. Default 1 MiB. */
  maxPendingWriteBytes?: number;
  /** A connection with no traffic either way for this long is closed; 0 never. Default 120000. */
  idleTimeoutMs?: number;
  /** Outbound connect attempts give up after this long. Default 5000. */
  connectTimeoutMs?: number;
  logger?: TransportLogger;
}

/** How a concrete stream transport (TCP, TLS) opens sockets. */
export interface StreamSocketFactory {
  /** A server that calls `onSocket` for every inbound connection once it is ready for SIP. */
  createServer(onSocket: (socket: Socket) => void): Server;
  /** Starts an outbound connection; `ready` is the event that says it can carry SIP (`connect`, `secureConnect`). */
  connect(target: { host: string; port: number; family: 4 | 6; localAddress?: string }): { socket: Socket; ready: string };
}

let connectionSequence = 0;

/**
 * Connection-oriented SIP transport (RFC 3261 §18, framing §18.3): a listening server plus outbound
 * connections, all framed by Content-Length and reused.
 *
 * Reuse order on `send()`: the connection named by `connectionId` when still open (§18.2.2: a response
 * goes back on the connection its request came on), else any open connection to the same remote
 * `address:port`, else a new connection (concurrent sends to one remote share one connect), which is
 * then read from like an inbound one.
 *
 * Hazards: a framing error or idle timeout closes that one connection only, reported as an issue and a
 * `close` connection event. IPv6 servers are bound IPv6-only.
 */
export class StreamTransport implements Transport {
  readonly protocol: Protocol;
  readonly reliable = true;
  #factory: StreamSocketFactory;
  #local: Endpoint;
  #log: TransportLogger;
  #maxConnections: number;
  #connectTimeoutMs: number;
  #connectionOptions: {
    maxMessageSize: number;
    maxHeaderSize?: number;
    maxBufferedBytes?: number;
    maxPendingWriteBytes: number;
    idleTimeoutMs: number;
  };
  #server: Server | undefined;
  #listening = false;
  #byId = new Map<string, StreamConnection>();
  #byRemote = new Map<string, StreamConnection>();
  #connecting = new Map<string, Promise<StreamConnection>>();
  #connectingSockets = new Set<Socket>();
  #onPacket: PacketHandler | undefined;
  #onIssue: IssueHandler | undefined;
  #onConnection: ConnectionHandler | undefined;
  #counters = new TransportCounters();
  #opened = { inbound: 0, outbound: 0 };
  #owner: StreamConnectionOwner = {
    message: (connection, data, receivedAt) => this.#message(connection, data, receivedAt),
    pong: (connection) => this.#event('pong', connection),
    issue: (connection, code, message, bytes) => this.#issue(code, message, connection.remote, connection.id, bytes),
    closed: (connection, reason) => this.#closed(connection, reason),
  };

  constructor(protocol: Protocol, factory: StreamSocketFactory, options: StreamTransportOptions = {}) {
    const address = unbracket(options.address ?? '0.0.0.0');
    const family = ipFamily(address);
    if (family === 0) throw new TypeError(`${protocol.toUpperCase()} transport: address must be a numeric IP address, got "${address}"`);
    this.protocol = protocol;
    this.#factory = factory;
    this.#local = { address, port: options.port ?? 5060, family };
    this.#log = options.logger ?? silentLogger;
    this.#maxConnections = options.maxConnections ?? 4096;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.#connectionOptions = {
      maxMessageSize: options.maxMessageSize ?? 65_536,
      maxHeaderSize: options.maxHeaderSize,
      maxBufferedBytes: options.maxBufferedBytes,
      maxPendingWriteBytes: options.maxPendingWriteBytes ?? 1_048_576,
      idleTimeoutMs: options.idleTimeoutMs ?? 120_000,
    };
  }

  get local(): Endpoint {
    return this.#local;
  }

  listen(): Promise<void> {
    if (this.#server) return Promise.reject(new TransportError('listen-failed', `${this.#name()} transport already listening`));
    const { address, port, family } = this.#local;
    const server = this.#factory.createServer((socket) => this.#accept(socket));
    this.#server = server;
    return new Promise<void>((resolve, reject) => {
      const onListenError = (err: Error): void => {
        this.#server = undefined;
        reject(new TransportError('listen-failed', `${this.#name()} listen on ${address}:${port} failed: ${err.message}`, { cause: err }));
      };
      server.once('error', onListenError);
      server.listen({ host: address, port, ipv6Only: family === 6, exclusive: true }, () => {
        server.off('error', onListenError);
        server.on('error', (err) => {
          this.#log.warn({ err, local: this.#local }, `${this.#name()} server error`);
          this.#issue('socket-error', err.message);
        });
        const bound = server.address();
        this.#local = { address, port: typeof bound === 'object' && bound ? bound.port : port, family };
        this.#listening = true;
        this.#log.info({ local: this.#local }, `${this.#name()} transport listening`);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    const server = this.#server;
    if (!server) return Promise.resolve();
    this.#server = undefined;
    this.#listening = false;
    for (const socket of this.#connectingSockets) socket.destroy();
    for (const connection of [...this.#byId.values()]) connection.close('closed');
    return new Promise<void>((resolve) => {
      server.close(() => resolve());
    });
  }

  async send(target: Destination, data: Buffer): Promise<void> {
    if (!this.#listening) throw new TransportError('closed', `${this.#name()} transport ${this.#describe()} is not listening`);
    const connection = await this.#connectionFor(target);
    try {
      await connection.write(data);
    } catch (err) {
      this.#counters.sendErrors++;
      throw err;
    }
    this.#counters.sent(data.length);
  }

  onPacket(handler: PacketHandler): void {
    this.#onPacket = handler;
  }

  onIssue(handler: IssueHandler): void {
    this.#onIssue = handler;
  }

  onConnection(handler: ConnectionHandler): void {
    this.#onConnection = handler;
  }

  hasConnection(connectionId: string): boolean {
    return this.#byId.get(connectionId)?.open ?? false;
  }

  /** Closes one connection (e.g. an RFC 5626 flow that failed its keep-alive); false when unknown. */
  closeConnection(connectionId: string): boolean {
    const connection = this.#byId.get(connectionId);
    if (!connection) return false;
    connection.close('closed');
    return true;
  }

  stats(): TransportStats {
    return {
      ...this.#counters.snapshot(),
      connections: {
        open: this.#byId.size,
        opened: this.#opened.inbound + this.#opened.outbound,
        inbound: this.#opened.inbound,
        outbound: this.#opened.outbound,
      },
    };
  }

  #connectionFor(target: Destination): Promise<StreamConnection> {
    if (target.connectionId !== undefined) {
      const named = this.#byId.get(target.connectionId);
      if (named?.open) return Promise.resolve(named);
    }
    const host = unbracket(target.address);
    if (ipFamily(host) !== this.#local.family) {
      return Promise.reject(
        new TransportError('unreachable', `${this.#name()} transport ${this.#describe()} cannot reach "${target.address}" (need an IPv${this.#local.family} address)`),
      );
    }
    const key = endpointKey(host, target.port);
    const existing = this.#byRemote.get(key);
    if (existing?.open) return Promise.resolve(existing);
    let pending = this.#connecting.get(key);
    if (!pending) {
      pending = this.#connect(host, target.port, key);
      this.#connecting.set(key, pending);
      const forget = (): void => {
        this.#connecting.delete(key);
      };
      pending.then(forget, forget);
    }
    return pending;
  }

  #connect(host: string, port: number, key: string): Promise<StreamConnection> {
    if (this.#byId.size + this.#connectingSockets.size >= this.#maxConnections) {
      this.#counters.sendErrors++;
      return Promise.reject(new TransportError('connection-limit', `${this.#name()} connection cap of ${this.#maxConnections} reached; not connecting to ${host}:${port}`));
    }
    const family = this.#local.family;
    const wildcard = this.#local.address === '0.0.0.0' || this.#local.address === '::';
    const { socket, ready } = this.#factory.connect({ host, port, family, localAddress: wildcard ? undefined : this.#local.address });
    this.#connectingSockets.add(socket);
    return new Promise<StreamConnection>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        this.#connectingSockets.delete(socket);
        socket.off('error', onError);
        socket.off('close', onClose);
        return true;
      };
      const fail = (code: 'connect-failed' | 'connect-timeout' | 'closed', detail: string, cause?: unknown): void => {
        if (!settle()) return;
        socket.destroy();
        this.#counters.sendErrors++;
        reject(new TransportError(code, `${this.#name()} connect to ${host}:${port} failed: ${detail}`, { cause }));
      };
      const onError = (err: Error): void => fail('connect-failed', err.message, err);
      const onClose = (): void => (this.#listening ? fail('connect-failed', 'closed before ready') : fail('closed', 'transport closed'));
      const timer = setTimeout(() => fail('connect-timeout', `no answer within ${this.#connectTimeoutMs} ms`), this.#connectTimeoutMs);
      socket.on('error', onError);
      socket.on('close', onClose);
      socket.once(ready, () => {
        if (!settle()) return;
        if (!this.#listening) {
          socket.destroy();
          reject(new TransportError('closed', `${this.#name()} transport closed while connecting to ${host}:${port}`));
          return;
        }
        resolve(this.#adopt(socket, 'outbound', { address: host, port, family }, key));
      });
    });
  }

  #accept(socket: Socket): void {
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    if (!this.#listening || address === undefined || port === undefined) {
      socket.destroy();
      return;
    }
    const remote: Endpoint = { address, port, family: this.#local.family };
    if (this.#byId.size >= this.#maxConnections) {
      this.#log.warn({ remote, maxConnections: this.#maxConnections }, `${this.#name()} connection refused: cap reached`);
      this.#issue('connection-limit', `connection cap of ${this.#maxConnections} reached`, remote);
      socket.destroy();
      return;
    }
    this.#adopt(socket, 'inbound', remote, endpointKey(address, port));
  }

  #adopt(socket: Socket, direction: 'inbound' | 'outbound', remote: Endpoint, key: string): StreamConnection {
    const id = `${this.protocol}-${++connectionSequence}`;
    const connection = new StreamConnection(
      { ...this.#connectionOptions, id, socket, protocol: this.protocol, direction, local: this.#local, remote, owner: this.#owner },
      key,
    );
    this.#byId.set(id, connection);
    if (!this.#byRemote.get(key)?.open) this.#byRemote.set(key, connection);
    this.#opened[direction]++;
    this.#log.debug({ connectionId: id, remote, direction }, `${this.#name()} connection open`);
    this.#event('open', connection);
    return connection;
  }

  #message(connection: StreamConnection, data: Buffer, receivedAt: number): void {
    this.#counters.received(data.length);
    const handler = this.#onPacket;
    if (!handler) {
      this.#issue('no-handler', 'message dropped: no packet handler registered', connection.remote, connection.id, data.length);
      return;
    }
    try {
      handler({ data, protocol: this.protocol, local: this.#local, remote: connection.remote, connectionId: connection.id, receivedAt });
    } catch (err) {
      this.#log.error({ err, remote: connection.remote, connectionId: connection.id }, `${this.#name()} packet handler threw`);
      this.#issue('handler-error', `packet handler threw: ${String(err)}`, connection.remote, connection.id, data.length);
    }
  }

  #closed(connection: StreamConnection, reason: string): void {
    this.#byId.delete(connection.id);
    if (this.#byRemote.get(connection.key) === connection) this.#byRemote.delete(connection.key);
    this.#log.debug({ connectionId: connection.id, remote: connection.remote, reason }, `${this.#name()} connection closed`);
    this.#event('close', connection, reason);
  }

  #event(type: 'open' | 'close' | 'pong', connection: StreamConnection, reason?: string): void {
    const handler = this.#onConnection;
    if (!handler) return;
    try {
      handler({
        type,
        connectionId: connection.id,
        protocol: this.protocol,
        local: this.#local,
        remote: connection.remote,
        direction: connection.direction,
        reason,
      });
    } catch (err) {
      this.#log.error({ err, connectionId: connection.id }, `${this.#name()} connection handler threw`);
    }
  }

  #issue(code: IssueCode, message: string, remote?: Endpoint, connectionId?: string, bytes?: number): void {
    this.#counters.drop(code);
    if (code !== 'socket-error' && code !== 'idle-timeout') {
      this.#log.warn({ code, remote, connectionId, bytes }, `${this.#name()} ${message}`);
    }
    const handler = this.#onIssue;
    if (!handler) return;
    try {
      handler({ code, message, protocol: this.protocol, local: this.#local, remote, connectionId, bytes });
    } catch (err) {
      this.#log.error({ err }, `${this.#name()} issue handler threw`);
    }
  }

  #name(): string {
    return this.protocol.toUpperCase();
  }

  #describe(): string {
    return this.#local.family === 6 ? `[${this.#local.address}]:${this.#local.port}` : `${this.#local.address}:${this.#local.port}`;
  }
}
