import { connect, type Socket } from 'node:net';
import type { ConnectionEvent, InboundPacket, Transport, TransportIssue } from '../../../src/sip/transport/index.js';

/** A framed SIP request with a body (Content-Length set from it). */
export function sipRequest(options: { body?: string; callId?: string; extraHeaders?: string[]; lengthHeader?: string } = {}): Buffer {
  const body = options.body ?? '';
  const head = [
    'OPTIONS sip:bob@127.0.0.1 SIP/2.0',
    'Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK776asdhds',
    'Max-Forwards: 70',
    'To: <sip:bob@127.0.0.1>',
    'From: <sip:alice@127.0.0.1>;tag=1928301774',
    `Call-ID: ${options.callId ?? 'a84b4c76e66710@127.0.0.1'}`,
    'CSeq: 63104 OPTIONS',
    ...(options.extraHeaders ?? []),
    options.lengthHeader ?? `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`, 'latin1');
}

/** Collects what a transport reports, with waiters bounded in time. */
export class Recorder {
  readonly packets: InboundPacket[] = [];
  readonly issues: TransportIssue[] = [];
  readonly events: ConnectionEvent[] = [];

  constructor(transport?: Transport) {
    if (transport) this.attach(transport);
  }

  attach(transport: Transport): this {
    transport.onPacket((p) => this.packets.push(p));
    transport.onIssue((i) => this.issues.push(i));
    transport.onConnection?.((e) => this.events.push(e));
    return this;
  }

  packet(index = 0, timeoutMs = 2000): Promise<InboundPacket> {
    return waitFor(() => this.packets[index], timeoutMs, `packet #${index}`);
  }

  issue(code: string, timeoutMs = 2000): Promise<TransportIssue> {
    return waitFor(() => this.issues.find((i) => i.code === code), timeoutMs, `issue ${code}`);
  }

  event(type: ConnectionEvent['type'], timeoutMs = 2000, filter: (e: ConnectionEvent) => boolean = () => true): Promise<ConnectionEvent> {
    return waitFor(() => this.events.find((e) => e.type === type && filter(e)), timeoutMs, `connection event ${type}`);
  }
}

/** Polls `probe` until it returns something other than undefined/false, or rejects after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | false, timeoutMs = 2000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A raw TCP client socket that records everything it reads and whether it was closed. */
export interface RawClient {
  socket: Socket;
  received(): Buffer;
  closed(): boolean;
  waitClosed(timeoutMs?: number): Promise<true>;
  waitReceived(bytes: number, timeoutMs?: number): Promise<Buffer>;
  write(data: Buffer | string): Promise<void>;
}

export function rawClient(port: number, host = '127.0.0.1'): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let isClosed = false;
    const socket = connect({ host, port });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => {
      isClosed = true;
    });
    socket.on('error', () => {});
    const timer = setTimeout(() => reject(new Error('raw client connect timed out')), 2000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({
        socket,
        received: () => Buffer.concat(chunks),
        closed: () => isClosed,
        waitClosed: (t = 2000) => waitFor(() => isClosed, t, 'raw client close'),
        waitReceived: (n, t = 2000) =>
          waitFor(() => {
            const all = Buffer.concat(chunks);
            return all.length >= n ? all : undefined;
          }, t, `${n} bytes on raw client`),
        write: (data) => new Promise<void>((res, rej) => socket.write(data, (err) => (err ? rej(err) : res()))),
      });
    });
  });
}
