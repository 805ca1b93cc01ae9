import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { parseMessage, type SipResponse } from '../../src/sip/message/index.js';
import { StreamFramer } from '../../src/sip/transport/index.js';

/** A UDP peer on loopback that records every SIP response it receives. */
export class UdpPeer {
  readonly socket: UdpSocket;
  readonly received: SipResponse[] = [];
  readonly raw: Buffer[] = [];
  /** Status codes of every response received, read from the status line alone (answers to malformed requests may lack headers). */
  readonly statuses: number[] = [];

  private constructor(socket: UdpSocket) {
    this.socket = socket;
    socket.on('message', (data) => {
      this.raw.push(data);
      const status = statusOf(data);
      if (status !== undefined) this.statuses.push(status);
      const r = parseMessage(data);
      if (r.ok === true && !r.message.isRequest) this.received.push(r.message);
    });
  }

  static async open(host = '127.0.0.1'): Promise<UdpPeer> {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => socket.bind(0, host, () => resolve()));
    return new UdpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(data: Buffer, port: number, host = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(data, port, host, (e) => (e ? reject(e) : resolve())));
  }

  /** Waits until `predicate` holds on what was received, or `ms` pass (then resolves false). */
  async waitFor(predicate: (r: SipResponse[]) => boolean, ms = 2000): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (predicate(this.received)) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return predicate(this.received);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** A TCP connection on loopback that records SIP responses and whether the server closed it. */
export class TcpPeer {
  readonly socket: Socket;
  readonly received: SipResponse[] = [];
  /** Status codes of every response received, from the status line alone. */
  readonly statuses: number[] = [];
  closed = false;
  readonly #framer = new StreamFramer({ maxMessageSize: 1 << 20, maxHeaderSize: 1 << 16, maxBufferedBytes: 1 << 21 });

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk) => {
      for (const m of this.#framer.push(chunk).messages) {
        const status = statusOf(m);
        if (status !== undefined) this.statuses.push(status);
        const r = parseMessage(m, { stream: true });
        if (r.ok === true && !r.message.isRequest) this.received.push(r.message);
      }
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
  }

  static open(port: number, host = '127.0.0.1'): Promise<TcpPeer> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => resolve(new TcpPeer(s)));
      s.once('error', reject);
    });
  }

  send(data: Buffer): void {
    this.socket.write(data);
  }

  async waitFor(predicate: (peer: TcpPeer) => boolean, ms = 2000): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (predicate(this)) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return predicate(this);
  }

  close(): void {
    this.socket.destroy();
  }
}

let counter = 0;
/** A minimal valid OPTIONS to probe a server with. */
export function optionsRequest(port: number, transport = 'UDP', host = '127.0.0.1'): Buffer {
  counter++;
  return Buffer.from(
    `OPTIONS sip:${host}:${port} SIP/2.0\r\n` +
      `Via: SIP/2.0/${transport} ${host}:9;branch=z9hG4bK-probe-${counter};rport\r\n` +
      `From: <sip:probe@${host}>;tag=p${counter}\r\nTo: <sip:${host}:${port}>\r\n` +
      `Call-ID: probe-${counter}@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
  );
}

/** The status code of a response, from its status line alone. */
export function statusOf(data: Buffer): number | undefined {
  const m = /^SIP\/2\.0 (\d{3}) /.exec(data.subarray(0, 16).toString('latin1'));
  return m ? Number(m[1]) : undefined;
}
