import type { Socket } from 'node:net';
import { StreamFramer, type StreamFramerOptions } from './stream-framer.js';
import { TransportError } from './transport-error.js';
import type { Endpoint, IssueCode, Protocol } from './transport.js';

/** What a connection tells the transport that owns it. Called synchronously from socket events. */
export interface StreamConnectionOwner {
  message(connection: StreamConnection, data: Buffer, receivedAt: number): void;
  pong(connection: StreamConnection): void;
  issue(connection: StreamConnection, code: IssueCode, message: string, bytes?: number): void;
  closed(connection: StreamConnection, reason: string): void;
}

export interface StreamConnectionOptions extends StreamFramerOptions {
  id: string;
  socket: Socket;
  protocol: Protocol;
  direction: 'inbound' | 'outbound';
  local: Endpoint;
  remote: Endpoint;
  owner: StreamConnectionOwner;
  /** Close after this long without a byte read or written; 0 never. */
  idleTimeoutMs: number;
  /** `write()` rejects with `congested` while more than this many bytes wait in the socket. */
  maxPendingWriteBytes: number;
}

/** Answer to a CRLFCRLF ping (RFC 5626 §4.4.1). */
const PONG = Buffer.from('\r\n', 'latin1');

/**
 * One SIP stream connection (TCP now, TLS later: a TLSSocket is a net.Socket): frames what it reads
 * into messages, answers keep-alive pings, closes itself when idle or unframeable.
 *
 * Hazards: after a framing error nothing more is read from the connection; it is destroyed with the
 * error as its close reason.
 */
export class StreamConnection {
  readonly id: string;
  readonly protocol: Protocol;
  readonly direction: 'inbound' | 'outbound';
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** `address|port` of the remote, the key the transport reuses connections by. */
  readonly key: string;
  #socket: Socket;
  #framer: StreamFramer;
  #owner: StreamConnectionOwner;
  #maxPendingWriteBytes: number;
  #closeReason: string | undefined;
  #open = true;

  constructor(options: StreamConnectionOptions, key: string) {
    this.id = options.id;
    this.protocol = options.protocol;
    this.direction = options.direction;
    this.local = options.local;
    this.remote = options.remote;
    this.key = key;
    this.#socket = options.socket;
    this.#owner = options.owner;
    this.#maxPendingWriteBytes = options.maxPendingWriteBytes;
    this.#framer = new StreamFramer(options);
    const socket = options.socket;
    socket.setNoDelay(true);
    if (options.idleTimeoutMs > 0) socket.setTimeout(options.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    socket.on('timeout', () => this.#idle(options.idleTimeoutMs));
    socket.on('error', (err) => this.#error(err));
    socket.on('close', () => this.#closed());
  }

  get open(): boolean {
    return this.#open;
  }

  /** Writes bytes as they are; resolves once handed to the kernel. */
  write(data: Buffer): Promise<void> {
    if (!this.#open || this.#socket.destroyed) {
      return Promise.reject(new TransportError('closed', `connection ${this.id} to ${describe(this.remote)} is closed`));
    }
    if (this.#socket.writableLength + data.length > this.#maxPendingWriteBytes) {
      return Promise.reject(
        new TransportError('congested', `connection ${this.id}: ${this.#socket.writableLength} bytes already waiting, peer ${describe(this.remote)} is not reading`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#socket.write(data, (err) => {
        if (err) reject(new TransportError('send-failed', `write on connection ${this.id} to ${describe(this.remote)} failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  /** Destroys the socket; `reason` becomes the close event's reason. Idempotent. */
  close(reason: string): void {
    this.#closeReason ??= reason;
    this.#socket.destroy();
  }

  #read(chunk: Buffer): void {
    const receivedAt = Date.now();
    const out = this.#framer.push(chunk);
    for (const message of out.messages) this.#owner.message(this, message, receivedAt);
    // RFC 5626 §4.4.1: a CRLFCRLF ping is answered with a single CRLF.
    for (let i = 0; i < out.pings; i++) if (this.#open) this.#socket.write(PONG);
    if (out.pongs > 0) this.#owner.pong(this);
    if (out.error && this.#open) {
      this.#owner.issue(this, out.error.code, out.error.message, out.error.bytes);
      this.#closeAfterReplies(out.error.code);
    }
  }

  /**
   * After a framing error nothing more is read, but answers to the messages framed
   * before it (written within this turn of the event loop) still go out: the socket
   * is ended gracefully, and destroyed if the peer does not close within a second.
   */
  #closeAfterReplies(reason: string): void {
    this.#closeReason ??= reason;
    this.#socket.pause();
    this.#socket.removeAllListeners('data');
    setImmediate(() => {
      this.#socket.end();
      setTimeout(() => this.#socket.destroy(), 1000).unref();
    });
  }

  #idle(timeoutMs: number): void {
    this.#owner.issue(this, 'idle-timeout', `no traffic for ${timeoutMs} ms`);
    this.close('idle-timeout');
  }

  #error(err: Error): void {
    if (this.#closeReason) return;
    this.#closeReason = 'socket-error';
    this.#owner.issue(this, 'socket-error', err.message);
  }

  #closed(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#owner.closed(this, this.#closeReason ?? 'remote');
  }
}

function describe(endpoint: Endpoint): string {
  return endpoint.family === 6 ? `[${endpoint.address}]:${endpoint.port}` : `${endpoint.address}:${endpoint.port}`;
}
