import {
  createResponse,
  parseMessage,
  type SipRequest,
  type SipResponse,
} from '../../../src/sip/message/index.js';
import type { MessageSender, MessageSource } from '../../../src/sip/transaction/index.js';
import type { Destination, Protocol } from '../../../src/sip/transport/index.js';

/** One message the fake sender was asked to send, with the (fake) time since the sender was made. */
export type Sent =
  | { kind: 'request'; message: SipRequest; destination: Destination; at: number }
  | { kind: 'response'; message: SipResponse; source: MessageSource; at: number };

/**
 * An in-memory MessageSender: records every send with its time, and fails sends on demand with an
 * error carrying a `code`, like the transport's TransportError. Create it after `vi.useFakeTimers()`.
 */
export class FakeSender implements MessageSender {
  readonly sent: Sent[] = [];
  readonly #t0 = Date.now();
  readonly #reliable = new Set<Protocol>(['tcp', 'tls', 'ws', 'wss']);
  /** When set, every send rejects with an error with this code. */
  failWith: string | undefined;

  sendRequest(request: SipRequest, destination: Destination): Promise<void> {
    this.sent.push({ kind: 'request', message: request, destination, at: Date.now() - this.#t0 });
    return this.#outcome();
  }

  sendResponse(response: SipResponse, source: MessageSource): Promise<void> {
    this.sent.push({ kind: 'response', message: response, source, at: Date.now() - this.#t0 });
    return this.#outcome();
  }

  isReliable(protocol: Protocol): boolean {
    return this.#reliable.has(protocol);
  }

  /** Times (ms since creation) of the requests sent, optionally of one method. */
  requestTimes(method?: string): number[] {
    return this.requests(method).map((s) => s.at);
  }

  requests(method?: string): Extract<Sent, { kind: 'request' }>[] {
    return this.sent.filter((s): s is Extract<Sent, { kind: 'request' }> => s.kind === 'request' && (method === undefined || s.message.method === method));
  }

  responses(status?: number): Extract<Sent, { kind: 'response' }>[] {
    return this.sent.filter((s): s is Extract<Sent, { kind: 'response' }> => s.kind === 'response' && (status === undefined || s.message.status === status));
  }

  /** Times of the responses sent, optionally of one status. */
  responseTimes(status?: number): number[] {
    return this.responses(status).map((s) => s.at);
  }

  #outcome(): Promise<void> {
    if (this.failWith === undefined) return Promise.resolve();
    return Promise.reject(Object.assign(new Error(`send failed: ${this.failWith}`), { code: this.failWith }));
  }
}

export function parse(text: string): SipRequest | SipResponse {
  const result = parseMessage(Buffer.from(text, 'latin1'));
  if (result.ok !== true) throw new Error(`test message did not parse: ${result.ok === false ? result.reason : 'partial'}`);
  return result.message;
}

export function parseRequest(text: string): SipRequest {
  const message = parse(text);
  if (!message.isRequest) throw new Error('expected a request');
  return message;
}

export interface RequestOptions {
  method?: string;
  uri?: string;
  /** The whole top Via value; default a UDP Via with `branch`. */
  via?: string;
  branch?: string;
  callId?: string;
  cseq?: number;
  cseqMethod?: string;
  fromTag?: string;
  toTag?: string;
  extra?: string[];
}

/** A request as text, CRLF-terminated, parsed by the real parser. */
export function request(options: RequestOptions = {}): SipRequest {
  const method = options.method ?? 'INVITE';
  const branch = options.branch ?? 'z9hG4bK74bf9';
  const via = options.via ?? `SIP/2.0/UDP 192.0.2.1:5060;branch=${branch}`;
  const lines = [
    `${method} ${options.uri ?? 'sip:bob@example.com'} SIP/2.0`,
    `Via: ${via}`,
    'Max-Forwards: 70',
    `To: Bob <sip:bob@example.com>${options.toTag ? ';tag=' + options.toTag : ''}`,
    `From: Alice <sip:alice@example.com>;tag=${options.fromTag ?? '9fxced76sl'}`,
    `Call-ID: ${options.callId ?? '3848276298220188511@example.com'}`,
    `CSeq: ${options.cseq ?? 1} ${options.cseqMethod ?? method}`,
    'Contact: <sip:alice@192.0.2.1>',
    ...(options.extra ?? []),
    'Content-Length: 0',
  ];
  return parseRequest(lines.join('\r\n') + '\r\n\r\n');
}

/** A response to `req` as the peer would send it: built, serialised and parsed again. */
export function reply(req: SipRequest, status: number, toTag = 'peer-tag'): SipResponse {
  const built = createResponse(req, status, status === 100 ? {} : { toTag });
  const message = parse(built.toString());
  if (message.isRequest) throw new Error('expected a response');
  return message;
}

export const UDP_SOURCE: MessageSource = {
  protocol: 'udp',
  local: { address: '192.0.2.10', port: 5060, family: 4 },
  remote: { address: '192.0.2.1', port: 5060, family: 4 },
};

export const TCP_SOURCE: MessageSource = { ...UDP_SOURCE, protocol: 'tcp', connectionId: 'c1' };

export const UDP_DEST: Destination = { address: '192.0.2.20', port: 5060, protocol: 'udp' };
export const TCP_DEST: Destination = { address: '192.0.2.20', port: 5060, protocol: 'tcp' };

/** An outgoing request as the TU hands it to a client transaction (our Via on top). */
export function outgoing(options: RequestOptions & { transport?: 'UDP' | 'TCP' } = {}): SipRequest {
  const branch = options.branch ?? 'z9hG4bKclient1';
  return request({ ...options, via: `SIP/2.0/${options.transport ?? 'UDP'} 192.0.2.10:5060;branch=${branch};rport` });
}
