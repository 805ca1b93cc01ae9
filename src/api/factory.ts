import type { Parameters, SipUri, TelUri, Uri } from '../sip/message/index.js';
import type { Address, Parameterable, SipServletRequest } from './message.js';
import type { SipApplicationSession } from './session.js';

export interface CreateRequestOptions {
  /** The application session the new SIP session joins. */
  appSession: SipApplicationSession;
  method: string;
  from: Address | Uri | string;
  to: Address | Uri | string;
  /** Request-URI; defaults to the To URI. */
  requestUri?: Uri | string;
}

/** Creates addresses, URIs, requests and application sessions (JSR 289 SipFactory). */
export interface SipFactory {
  /** A request that starts a new dialog (or stands alone), in a new SipSession of `appSession`. */
  createRequest(options: CreateRequestOptions): SipServletRequest;
  /**
   * A new request with the same headers as `original` (JSR 289 createRequest(origRequest, sameCallId)),
   * in a new SipSession of the same application session.
   */
  createRequestFrom(original: SipServletRequest, options?: { sameCallId?: boolean }): SipServletRequest;
  createAddress(text: string): Address;
  createAddressFromUri(uri: Uri, displayName?: string): Address;
  createURI(text: string): Uri;
  createSipURI(user: string | undefined, host: string): SipUri;
  createTelURI(number: string): TelUri;
  createParameterable(text: string): Parameterable;
  createParameters(): Parameters;
  createApplicationSession(): SipApplicationSession;
  /** The application session for a key, created if missing (JSR 289 §15.11.2). */
  createApplicationSessionByKey(key: string): SipApplicationSession;
  /** Credentials for answering a 401/407 challenge with `request.addAuthHeader`-style use (issue: SDK digest). */
  createAuthInfo(): AuthInfo;
}

/** Credentials per realm for a UAC to answer 401/407 challenges. */
export interface AuthInfo {
  addAuthInfo(status: 401 | 407, realm: string, username: string, password: string): void;
  get(realm: string): { status: number; username: string; password: string } | undefined;
}

/** Finds application sessions by id or key (JSR 289 SipSessionsUtil). */
export interface SipSessionsUtil {
  getApplicationSessionById(id: string): SipApplicationSession | undefined;
  getApplicationSessionByKey(key: string, create?: boolean): SipApplicationSession | undefined;
}
