import type { NameAddress, Parameters, Uri } from '../sip/message/index.js';
import type { B2buaHelper } from './b2bua.js';
import type { AuthInfo } from './factory.js';
import type { Proxy } from './proxy.js';
import type { SipApplicationSession, SipSession } from './session.js';

/** An address header value (From, To, Contact, Route …): display name, URI and parameters. */
export type Address = NameAddress;
/** A header value with parameters (`Accept: application/sdp;level=1`, `Event: presence;id=7`). */
export interface Parameterable {
  value: string;
  readonly params: Parameters;
  toString(): string;
}

export type Transport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/**
 * What requests and responses share (JSR 289 SipServletMessage).
 *
 * Header names are case-insensitive and may be given in compact form (`f` for From).
 * System headers (Call-ID, CSeq, Via, Record-Route, Route, From/To tags, RSeq, RAck,
 * and Contact where the container owns it) cannot be changed: the error names the
 * header and says what to use instead. A committed message cannot be changed at all.
 */
export interface SipServletMessage {
  getMethod(): string;
  getHeader(name: string): string | undefined;
  /** Every value, comma lists split for list headers. */
  getHeaders(name: string): string[];
  getHeaderNames(): string[];
  setHeader(name: string, value: string): void;
  addHeader(name: string, value: string, first?: boolean): void;
  removeHeader(name: string): void;
  /** A copy of the first address value of a header (From, To, Contact, P-Asserted-Identity …). */
  getAddressHeader(name: string): Address | undefined;
  getAddressHeaders(name: string): Address[];
  setAddressHeader(name: string, address: Address): void;
  addAddressHeader(name: string, address: Address, first?: boolean): void;
  getParameterableHeader(name: string): Parameterable | undefined;
  getParameterableHeaders(name: string): Parameterable[];
  getFrom(): Address;
  getTo(): Address;
  getCallId(): string;
  /** CSeq number. */
  getCSeq(): number;
  /** The body; `undefined` when empty. Text types come back as a string, others as a Buffer. */
  getContent(): string | Buffer | undefined;
  getRawContent(): Buffer;
  getContentType(): string | undefined;
  getContentLength(): number;
  setContent(content: string | Buffer | undefined, contentType?: string): void;
  getSession(): SipSession;
  getApplicationSession(): SipApplicationSession;
  isCommitted(): boolean;
  isSecure(): boolean;
  getTransport(): Transport | undefined;
  getLocalAddr(): string | undefined;
  getLocalPort(): number | undefined;
  getRemoteAddr(): string | undefined;
  getRemotePort(): number | undefined;
  /** Message-scoped attributes (not sent on the wire). */
  getAttribute<T = unknown>(name: string): T | undefined;
  setAttribute(name: string, value: unknown): void;
  removeAttribute(name: string): void;
  /** The message as it goes (or came) on the wire. */
  toString(): string;
}

export interface SipServletRequest extends SipServletMessage {
  getRequestURI(): Uri;
  setRequestURI(uri: Uri): void;
  /** True for a request that starts a dialog or stands alone (no To tag), as the container saw it. */
  isInitial(): boolean;
  getMaxForwards(): number;
  setMaxForwards(n: number): void;
  createResponse(status: number, reason?: string): SipServletResponse;
  /** Sends the request (a UAC request, or a subsequent request of a dialog). Resolves once handed to the transaction layer. */
  send(): Promise<void>;
  /** CANCEL for this INVITE (JSR 289 §11.1.8); send it with `send()`. */
  createCancel(): SipServletRequest;
  /** Adds a Route header on top (loose routing). */
  pushRoute(uri: Uri | Address): void;
  /** The Route header the container removed because it addressed this server, if any. */
  getPoppedRoute(): Address | undefined;
  /** The initial-request Route popped first, for application composition. */
  getInitialPoppedRoute(): Address | undefined;
  getProxy(create?: boolean): Proxy;
  getB2buaHelper(): B2buaHelper;
  /** The subscriber URI the application router chose (JSR 289 §15.4), if any. */
  getSubscriberURI(): Uri | undefined;
  getRoutingRegion(): 'ORIGINATING' | 'TERMINATING' | 'NEUTRAL' | undefined;
  /** The authenticated user, once digest authentication succeeded. */
  getUserPrincipal(): string | undefined;
  isUserInRole(role: string): boolean;
  /**
   * Answers a 401 or 407 challenge (JSR 289 addAuthHeader): adds an Authorization (401) or
   * Proxy-Authorization (407) header for each realm challenged in `challenge` that `authInfo` has
   * credentials for, with the digest computed (RFC 3261 §22.2, RFC 8760: the first challenge whose
   * algorithm is SHA-256 or MD5, qop auth with a fresh cnonce). The username and password form
   * applies to every realm challenged.
   *
   * Hazards: only on a request this application sends, before `send()`; the retry must be a new
   * request (e.g. `SipFactory.createRequestFrom(original, { sameCallId: true })`). Throws when no
   * challenged realm has credentials, naming the realms.
   *
   * @example
   * const retry = factory.createRequestFrom(response.getRequest(), { sameCallId: true });
   * retry.addAuthHeader(response, authInfo);
   * await retry.send();
   */
  addAuthHeader(challenge: SipServletResponse, authInfo: AuthInfo): void;
  addAuthHeader(challenge: SipServletResponse, username: string, password: string): void;
}

export interface SipServletResponse extends SipServletMessage {
  getStatus(): number;
  getReasonPhrase(): string;
  setStatus(status: number, reason?: string): void;
  getRequest(): SipServletRequest;
  /** Sends a response to an incoming request (UAS), or forwards it upstream as a proxy would not: see Proxy. */
  send(): Promise<void>;
  /** RFC 3262: sends a 1xx reliably (100rel); resolves when the PRACK arrives. */
  sendReliably(): Promise<void>;
  /** ACK for a 2xx (UAC): the app sends it with `send()`. Non-2xx are acknowledged by the container. */
  createAck(): SipServletRequest;
  /** PRACK for a reliable provisional response (RFC 3262). */
  createPrack(): SipServletRequest;
  /** True when this response reached the app through a proxy branch, not as the best response. */
  isBranchResponse(): boolean;
  getProxy(): Proxy;
}
