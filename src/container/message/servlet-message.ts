import {
  IllegalStateError,
  SystemHeaderError,
  type Address,
  type Parameterable,
  type SipServletMessage,
  type Transport,
} from '../../api/index.js';
import { headerKey, parseNameAddress, type SipMessageValue } from '../../sip/message/index.js';
import type { MessageSource } from '../../sip/transport/index.js';
import type { ApplicationSessionImpl, SipSessionImpl } from '../session/index.js';
import { ParameterableValue } from './parameterable.js';
import { checkWritable } from './system-headers.js';

const TEXT_TYPE = /^(text\/|application\/(sdp|json|xml|[\w.+-]*\+(xml|json))|message\/sipfrag)/i;

/**
 * What the container's requests and responses share: header access with the
 * JSR 289 system-header rules, content, attributes and transport facts, over
 * a message of the SIP message layer.
 */
export abstract class ServletMessage implements SipServletMessage {
  /** The message as the SIP stack sees it. */
  readonly message: SipMessageValue;
  #session: SipSessionImpl | undefined;
  #committed = false;
  #attributes: Map<string, unknown> | undefined;
  /** Where an incoming message came from, or where an outgoing one went. */
  source: MessageSource | undefined;

  protected constructor(message: SipMessageValue, session: SipSessionImpl | undefined, source?: MessageSource) {
    this.message = message;
    this.#session = session;
    this.source = source;
  }

  abstract getMethod(): string;

  // ---- headers -------------------------------------------------------------------

  getHeader(name: string): string | undefined {
    return this.message.get(name);
  }

  getHeaders(name: string): string[] {
    return this.message.getAll(name);
  }

  getHeaderNames(): string[] {
    return this.message.headerNames();
  }

  setHeader(name: string, value: string): void {
    this.checkModifiable(name);
    this.message.set(name, value);
  }

  addHeader(name: string, value: string, first = false): void {
    this.checkModifiable(name);
    this.message.add(name, value, { first });
  }

  removeHeader(name: string): void {
    this.checkModifiable(name);
    this.message.remove(name);
  }

  getAddressHeader(name: string): Address | undefined {
    const v = this.message.get(name);
    return v === undefined ? undefined : parseNameAddress(v, headerKey(name) === 'contact')?.clone();
  }

  getAddressHeaders(name: string): Address[] {
    const out: Address[] = [];
    for (const v of this.message.getAll(name)) {
      const a = parseNameAddress(v, headerKey(name) === 'contact');
      if (a) out.push(a);
    }
    return out;
  }

  setAddressHeader(name: string, address: Address): void {
    this.checkAddressWritable(name, address);
    this.message.set(name, address.toString());
  }

  addAddressHeader(name: string, address: Address, first = false): void {
    this.checkAddressWritable(name, address);
    this.message.add(name, address.toString(), { first });
  }

  getParameterableHeader(name: string): Parameterable | undefined {
    const v = this.message.get(name);
    return v === undefined ? undefined : ParameterableValue.parse(v);
  }

  getParameterableHeaders(name: string): Parameterable[] {
    const out: Parameterable[] = [];
    for (const v of this.message.getAll(name)) {
      const p = ParameterableValue.parse(v);
      if (p) out.push(p);
    }
    return out;
  }

  getFrom(): Address {
    return this.message.from.clone();
  }

  getTo(): Address {
    return this.message.to.clone();
  }

  getCallId(): string {
    return this.message.callId;
  }

  getCSeq(): number {
    return this.message.cseq.seq;
  }

  // ---- content -------------------------------------------------------------------

  getContent(): string | Buffer | undefined {
    const body = this.message.body;
    if (body.length === 0) return undefined;
    const type = this.message.get('content-type') ?? '';
    return TEXT_TYPE.test(type) ? body.toString('utf8') : body;
  }

  getRawContent(): Buffer {
    return this.message.body;
  }

  getContentType(): string | undefined {
    return this.message.get('content-type');
  }

  getContentLength(): number {
    return this.message.body.length;
  }

  setContent(content: string | Buffer | undefined, contentType?: string): void {
    this.checkModifiable();
    if (content === undefined || content.length === 0) {
      this.message.setContent(Buffer.alloc(0));
      this.message.remove('content-type');
      return;
    }
    const type = contentType ?? this.message.get('content-type');
    if (type === undefined) throw new TypeError('setContent needs a content type (second argument) when the message has no Content-Type');
    this.message.setContent(typeof content === 'string' ? Buffer.from(content, 'utf8') : content, type);
  }

  // ---- sessions, state, transport ---------------------------------------------

  getSession(): SipSessionImpl {
    if (this.#session === undefined) {
      throw new IllegalStateError('the request has no session yet: a @SipApplicationKey method may only read the request');
    }
    return this.#session;
  }

  /** Moves the message to another session (derived sessions of forked responses), or gives it its first one. */
  protected rebind(session: SipSessionImpl): void {
    this.#session = session;
  }

  getApplicationSession(): ApplicationSessionImpl {
    return this.getSession().getApplicationSession();
  }

  isCommitted(): boolean {
    return this.#committed;
  }

  /** Container side: the message was sent (or, for an incoming request, answered finally). */
  commit(): void {
    this.#committed = true;
  }

  isSecure(): boolean {
    const t = this.getTransport();
    return t === 'tls' || t === 'wss';
  }

  getTransport(): Transport | undefined {
    return this.source?.protocol;
  }

  getLocalAddr(): string | undefined {
    return this.source?.local.address;
  }

  getLocalPort(): number | undefined {
    return this.source?.local.port;
  }

  getRemoteAddr(): string | undefined {
    return this.source?.remote.address;
  }

  getRemotePort(): number | undefined {
    return this.source?.remote.port;
  }

  getAttribute<T = unknown>(name: string): T | undefined {
    return this.#attributes?.get(name) as T | undefined;
  }

  setAttribute(name: string, value: unknown): void {
    (this.#attributes ??= new Map()).set(name, value);
  }

  removeAttribute(name: string): void {
    this.#attributes?.delete(name);
  }

  toString(): string {
    return this.message.toString();
  }

  // ---- rules ---------------------------------------------------------------------

  /** Throws when the message is committed or, given a header name, when that header is a system header. */
  protected checkModifiable(header?: string): void {
    if (this.#committed) {
      throw new IllegalStateError(`the ${this.describe()} was already sent (committed) and cannot be changed; create a new message instead`);
    }
    if (header !== undefined) checkWritable(header, this.message);
  }

  /** From/To may change on an uncommitted new request (never their tag); other address headers follow the system-header rules. */
  protected checkAddressWritable(name: string, address: Address): void {
    const key = headerKey(name);
    if (key !== 'from' && key !== 'to') {
      this.checkModifiable(name);
      return;
    }
    this.checkModifiable();
    if (!this.fromToWritable()) {
      throw new SystemHeaderError(key === 'from' ? 'From' : 'To', 'From and To may only be changed on a new request the application created and has not sent');
    }
    const current = key === 'from' ? this.message.from : this.message.to;
    if (address.tag !== current.tag) {
      throw new SystemHeaderError(key === 'from' ? 'From' : 'To', 'the tag is set by the container; change the URI or display name only');
    }
  }

  /** Only new requests created by the application allow From/To changes. */
  protected fromToWritable(): boolean {
    return false;
  }

  protected abstract describe(): string;
}
