import { randomBytes } from 'node:crypto';
import {
  createResponse,
  NameAddress,
  parseMessage,
  parseUri,
  SipRequest,
  SipUri,
  Via,
  type SipResponse,
  type Uri,
} from '../../src/sip/message/index.js';
import type { Endpoint, MemoryNetwork, MemoryTransport } from '../../src/sip/transport/index.js';

export type SipMessageValue = SipRequest | SipResponse;

export interface RequestOptions {
  to: string | Uri;
  requestUri?: string | Uri;
  from?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  contentType?: string;
}

export interface ResponseOptions {
  toTag?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  contentType?: string;
  /** Adds our Contact (default: for 1xx-2xx answers to INVITE, SUBSCRIBE, REFER and to re-INVITE/UPDATE). */
  contact?: boolean;
  reason?: string;
}

const tag = (): string => randomBytes(5).toString('hex');
const branch = (): string => 'z9hG4bK' + randomBytes(8).toString('base64url');

/**
 * A scripted user agent on a MemoryNetwork (like SipUnit for the Java
 * containers): it sends exactly the requests and responses a test builds, and
 * lets the test wait for what arrives. There is no transaction layer in it, so
 * a test sees every message Siplet puts on the wire, retransmissions included.
 *
 * @example
 * const alice = await siplet.ua('alice');
 * const invite = alice.createRequest('INVITE', { to: 'sip:bob@siplet.test' });
 * await alice.send(invite);
 * const ok = await alice.expectResponse(invite, 200);
 * await alice.ack(invite, ok);
 */
export class ScriptedUa {
  readonly name: string;
  readonly transport: MemoryTransport;
  /** Where requests go unless a target is given: the server under test. */
  readonly target: Endpoint;
  readonly #unread: SipMessageValue[] = [];
  /** Every message received, in order. */
  readonly received: SipMessageValue[] = [];
  readonly #waiters = new Set<() => void>();
  /** Where each received request came from, to answer it. */
  readonly #sources = new WeakMap<SipRequest, Endpoint>();
  readonly #cseq = new Map<string, number>();
  /** Route sets of the dialogs this UA created as a UAC, by Call-ID and remote tag. */
  readonly #routeSets = new Map<string, string[]>();

  constructor(network: MemoryNetwork, options: { name: string; address: string; port: number; target: Endpoint; reliable?: boolean }) {
    this.name = options.name;
    this.target = options.target;
    this.transport = network.transport({ address: options.address, port: options.port, reliable: options.reliable });
    this.transport.onPacket((packet) => {
      const r = parseMessage(packet.data, { stream: this.transport.reliable });
      if (r.ok !== true) return;
      if (r.message.isRequest) this.#sources.set(r.message, packet.remote);
      this.received.push(r.message);
      this.#unread.push(r.message);
      for (const wake of [...this.#waiters]) wake();
    });
  }

  get address(): string {
    return this.transport.local.address;
  }

  get port(): number {
    return this.transport.local.port;
  }

  get protocol(): 'udp' | 'tcp' {
    return this.transport.protocol as 'udp' | 'tcp';
  }

  /**
   * sip:name@address:port, with `;transport=tcp` on a reliable network: a
   * numeric host without it means UDP (RFC 3263 §4.1), which a reliable
   * TestSiplet does not have.
   */
  get uri(): SipUri {
    const uri = new SipUri({ user: this.name, host: this.address, port: this.port });
    if (this.protocol === 'tcp') uri.params.set('transport', 'tcp');
    return uri;
  }

  get contact(): string {
    return `<sip:${this.name}@${this.address}:${this.port}${this.protocol === 'tcp' ? ';transport=tcp' : ''}>`;
  }

  start(): Promise<void> {
    return this.transport.listen();
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  /** A request that starts a new dialog (or stands alone): new Call-ID, From tag, CSeq 1, our Contact. */
  createRequest(method: string, options: RequestOptions): SipRequest {
    const to = typeof options.to === 'string' ? parseUri(options.to) : options.to;
    if (to === undefined) throw new TypeError(`bad To URI ${String(options.to)}`);
    const ruri = options.requestUri === undefined ? to.clone() : typeof options.requestUri === 'string' ? parseUri(options.requestUri) : options.requestUri;
    if (ruri === undefined) throw new TypeError(`bad Request-URI ${String(options.requestUri)}`);
    const req = new SipRequest(method, ruri);
    const from = new NameAddress(options.from ? (parseUri(options.from) ?? this.uri) : this.uri);
    from.tag = tag();
    req.add('From', from.toString());
    req.add('To', new NameAddress(to).toString());
    req.add('Call-ID', randomBytes(8).toString('hex') + '@' + this.address);
    req.add('CSeq', `1 ${method}`);
    req.add('Max-Forwards', '70');
    if (method !== 'REGISTER' || options.headers?.['Contact'] === undefined) req.add('Contact', this.contact);
    this.#apply(req, options);
    return req;
  }

  /**
   * A request inside the dialog that `response` established for `request`
   * (RFC 3261 §12.2.1.1): Request-URI from the remote Contact, Route from the
   * Record-Route in reverse, the next CSeq.
   */
  createInDialog(request: SipRequest, response: SipResponse, method: string, options: Omit<RequestOptions, 'to'> = {}): SipRequest {
    // RFC 3261 §13.2.2.4: the ACK for a 2xx takes the INVITE's CSeq number and uses up none.
    const seq = method === 'ACK' ? request.cseq.seq : this.#nextCSeq(request);
    const target = response.contact[0]?.uri ?? request.uri;
    const req = new SipRequest(method, target.clone());
    req.add('From', request.get('from') as string);
    req.add('To', response.get('to') as string);
    req.add('Call-ID', request.callId);
    req.add('CSeq', `${seq} ${method}`);
    req.add('Max-Forwards', '70');
    // RFC 3261 §12.1.2: the route set is fixed by the response that created the dialog; a later
    // response (to a re-INVITE) without Record-Route does not change it.
    const key = request.callId + '|' + (response.to.tag ?? '');
    let routes = this.#routeSets.get(key);
    if (routes === undefined || response.recordRoute.length > 0) {
      routes = [...response.recordRoute].reverse().map((r) => r.toString());
      if (routes.length > 0 || !this.#routeSets.has(key)) this.#routeSets.set(key, routes);
    }
    for (const r of routes) req.add('Route', r);
    if (method === 'INVITE' || method === 'UPDATE') req.add('Contact', this.contact);
    this.#apply(req, options);
    return req;
  }

  /**
   * A request from the UAS side of a dialog this UA answered: `request` is the
   * dialog-creating request it received, `toTag` the tag it answered with.
   */
  createInDialogAsUas(request: SipRequest, toTag: string, method: string, options: Omit<RequestOptions, 'to'> = {}): SipRequest {
    const target = request.contact[0]?.uri ?? request.from.uri;
    const req = new SipRequest(method, target.clone());
    const from = request.to.clone();
    from.tag = toTag;
    req.add('From', from.toString());
    req.add('To', request.get('from') as string);
    req.add('Call-ID', request.callId);
    req.add('CSeq', `${this.#nextCSeq(request, 0)} ${method}`);
    req.add('Max-Forwards', '70');
    for (const rr of request.recordRoute) req.add('Route', rr.toString());
    this.#apply(req, options);
    return req;
  }

  /** Sends a request (with a new top Via, unless it has ours already) to the server, or to `to`. */
  async send(request: SipRequest, to: Endpoint = this.target): Promise<void> {
    if (!request.topVia || request.topVia.host !== this.address || request.topVia.port !== this.port) {
      const via = new Via({ transport: this.protocol.toUpperCase(), host: this.address, port: this.port });
      via.params.set('branch', branch());
      via.params.set('rport', null);
      request.add('Via', via.toString(), { first: true });
    }
    await this.transport.send({ address: to.address, port: to.port, protocol: this.protocol }, request.toBuffer());
  }

  /** Sends the same bytes again (a retransmission): a request, or a response (to the server unless `to` says otherwise). */
  async resend(message: SipMessageValue, to: Endpoint = this.target): Promise<void> {
    await this.transport.send({ address: to.address, port: to.port, protocol: this.protocol }, message.toBuffer());
  }

  /** ACK for `response` to `invite`: same branch for a non-2xx (§17.1.1.3), a new request in the dialog for a 2xx (§13.2.2.4). */
  async ack(invite: SipRequest, response: SipResponse): Promise<SipRequest> {
    if (response.status >= 300) {
      const ack = new SipRequest('ACK', invite.uri.clone());
      ack.add('Via', invite.get('via') as string);
      ack.add('From', invite.get('from') as string);
      ack.add('To', response.get('to') as string);
      ack.add('Call-ID', invite.callId);
      ack.add('CSeq', `${invite.cseq.seq} ACK`);
      ack.add('Max-Forwards', '70');
      for (const r of invite.getAll('route')) ack.add('Route', r);
      await this.resend(ack);
      return ack;
    }
    const ack = this.createInDialog(invite, response, 'ACK');
    await this.send(ack);
    return ack;
  }

  /** CANCEL for a sent INVITE (RFC 3261 §9.1): same branch, Request-URI, Call-ID, From, To, CSeq number. */
  async cancel(invite: SipRequest): Promise<SipRequest> {
    const cancel = new SipRequest('CANCEL', invite.uri.clone());
    cancel.add('Via', invite.via[0]?.toString() as string);
    cancel.add('From', invite.get('from') as string);
    cancel.add('To', invite.get('to') as string);
    cancel.add('Call-ID', invite.callId);
    cancel.add('CSeq', `${invite.cseq.seq} CANCEL`);
    cancel.add('Max-Forwards', '70');
    for (const r of invite.getAll('route')) cancel.add('Route', r);
    await this.resend(cancel);
    return cancel;
  }

  /** Answers a received request; returns the response sent. */
  async respond(request: SipRequest, status: number, options: ResponseOptions = {}): Promise<SipResponse> {
    const res = createResponse(request, status, { reason: options.reason, toTag: status > 100 ? (options.toTag ?? request.to.tag ?? tag()) : undefined });
    const dialogish = status > 100 && status < 300 && ['INVITE', 'SUBSCRIBE', 'REFER', 'UPDATE'].includes(request.method);
    if (options.contact ?? dialogish) res.add('Contact', this.contact);
    if (dialogish && request.to.tag === undefined) for (const rr of request.getAll('record-route')) res.add('Record-Route', rr);
    for (const [n, v] of Object.entries(options.headers ?? {})) for (const one of Array.isArray(v) ? v : [v]) res.add(n, one);
    if (options.body !== undefined) res.setContent(options.body, options.contentType ?? 'application/sdp');
    const source = this.#sources.get(request) ?? this.target;
    await this.transport.send({ address: source.address, port: source.port, protocol: this.protocol }, res.toBuffer());
    return res;
  }

  /** Waits for the next unread message that matches, consuming it. */
  waitFor<T extends SipMessageValue>(predicate: (m: SipMessageValue) => m is T, timeoutMs?: number, what?: string): Promise<T>;
  waitFor(predicate: (m: SipMessageValue) => boolean, timeoutMs?: number, what?: string): Promise<SipMessageValue>;
  waitFor(predicate: (m: SipMessageValue) => boolean, timeoutMs = 2000, what = 'a matching message'): Promise<SipMessageValue> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const i = this.#unread.findIndex(predicate);
        if (i < 0) return false;
        const [m] = this.#unread.splice(i, 1);
        resolve(m as SipMessageValue);
        return true;
      };
      if (check()) return;
      const wake = (): void => {
        if (check()) {
          this.#waiters.delete(wake);
          clearTimeout(timer);
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; unread: ${this.#unread.map(describe).join(' | ') || 'none'}`));
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }

  /** The next response to `request` (matched by Call-ID, CSeq and branch) with that status, or any final one. */
  expectResponse(request: SipRequest, status?: number | ((status: number) => boolean), timeoutMs?: number): Promise<SipResponse> {
    const want = status === undefined ? (s: number) => s >= 200 : typeof status === 'number' ? (s: number) => s === status : status;
    const branchId = request.topVia?.branch;
    return this.waitFor(
      (m): m is SipResponse =>
        !m.isRequest && m.callId === request.callId && m.cseq.seq === request.cseq.seq && m.cseq.method === request.method && m.topVia?.branch === branchId && want(m.status),
      timeoutMs,
      `${typeof status === 'number' ? status : 'final'} response to ${request.method}`,
    );
  }

  /** The next request of that method (optionally in that Call-ID). */
  expectRequest(method: string, options: { callId?: string; timeoutMs?: number } = {}): Promise<SipRequest> {
    return this.waitFor(
      (m): m is SipRequest => m.isRequest && m.method === method && (options.callId === undefined || m.callId === options.callId),
      options.timeoutMs,
      `${method} request`,
    );
  }

  /** Messages received and not yet consumed by an expect/wait. */
  unread(): readonly SipMessageValue[] {
    return this.#unread;
  }

  #nextCSeq(request: SipRequest, base = request.cseq.seq): number {
    const key = request.callId;
    const next = (this.#cseq.get(key) ?? base) + 1;
    this.#cseq.set(key, next);
    return next;
  }

  #apply(req: SipRequest, options: Omit<RequestOptions, 'to'>): void {
    for (const [n, v] of Object.entries(options.headers ?? {})) {
      req.remove(n);
      for (const one of Array.isArray(v) ? v : [v]) req.add(n, one);
    }
    if (options.body !== undefined) req.setContent(options.body, options.contentType ?? 'application/sdp');
  }
}

function describe(m: SipMessageValue): string {
  return m.isRequest ? `${m.method} ${m.uriText}` : `${m.status} ${m.reason} (${m.cseq.method})`;
}
