import { connect, createServer } from 'node:net';
import { StreamTransport, type StreamSocketFactory, type StreamTransportOptions } from './stream-transport.js';

export type TcpTransportOptions = StreamTransportOptions;

const tcpSockets: StreamSocketFactory = {
  createServer: (onSocket) => createServer({ noDelay: true }, onSocket),
  connect: ({ host, port, family, localAddress }) => ({
    socket: connect({ host, port, family, localAddress, noDelay: true }),
    ready: 'connect',
  }),
};

/**
 * SIP over TCP (RFC 3261 §18): Content-Length framing (§18.3), connection reuse (§18.2.2), CRLF
 * keep-alives (RFC 5626 §3.5.1). See {@link StreamTransport} for the connection rules.
 */
export class TcpTransport extends StreamTransport {
  constructor(options: TcpTransportOptions = {}) {
    super('tcp', tcpSockets, options);
  }
}
