import type { Address, SipServletRequest } from './message.js';
import type { ServletTimer } from './timer.js';

export type SipSessionState = 'INITIAL' | 'EARLY' | 'CONFIRMED' | 'TERMINATED';

/**
 * One dialog (or one standalone transaction) of an application (JSR 289 §6.2).
 * Its events reach the servlet named by `setHandler`, one at a time, in order.
 */
export interface SipSession {
  getId(): string;
  getState(): SipSessionState;
  getCallId(): string;
  getLocalParty(): Address;
  getRemoteParty(): Address;
  getApplicationSession(): SipApplicationSession;
  /** A request inside this dialog (BYE, re-INVITE, UPDATE, INFO …), with CSeq, route set and tags filled in. */
  createRequest(method: string): SipServletRequest;
  /** The servlet that receives this session's subsequent messages (by servlet name). */
  setHandler(servletName: string): void;
  getHandler(): string;
  getAttribute<T = unknown>(name: string): T | undefined;
  setAttribute(name: string, value: unknown): void;
  removeAttribute(name: string): void;
  getAttributeNames(): string[];
  isValid(): boolean;
  /** Ends the session at once (its transactions are not waited for). */
  invalidate(): void;
  /** Ends the session as soon as it is ready: no dialog left and no transaction pending (JSR 289 §6.2.4.1.2). */
  setInvalidateWhenReady(flag: boolean): void;
  getInvalidateWhenReady(): boolean;
  isReadyToInvalidate(): boolean;
  getCreationTime(): number;
  getLastAccessedTime(): number;
}

/**
 * Everything of one application that belongs to one call or service instance:
 * its SIP sessions, its HTTP sessions (converged apps), attributes and timers
 * (JSR 289 §6.1). It expires after `sessionTimeout` minutes without activity
 * unless extended.
 */
export interface SipApplicationSession {
  getId(): string;
  getApplicationName(): string;
  getSessions(): SipSession[];
  getSipSession(id: string): SipSession | undefined;
  getTimers(): ServletTimer[];
  getAttribute<T = unknown>(name: string): T | undefined;
  setAttribute(name: string, value: unknown): void;
  removeAttribute(name: string): void;
  getAttributeNames(): string[];
  /** Minutes until expiry from now; 0 or less never expires. Returns the granted minutes. */
  setExpires(minutes: number): number;
  /** Absolute expiry time (ms since epoch), or 0 when it never expires. */
  getExpirationTime(): number;
  isValid(): boolean;
  invalidate(): void;
  setInvalidateWhenReady(flag: boolean): void;
  getInvalidateWhenReady(): boolean;
  isReadyToInvalidate(): boolean;
  /** Adds this application session's id to a URI so that a request to it joins this session (JSR 289 §15.11.3). */
  encodeURI(uri: import('../sip/message/index.js').Uri): void;
  /** Adds the session id to an HTTP URL (converged apps). */
  encodeURL(url: string): string;
  getCreationTime(): number;
  getLastAccessedTime(): number;
}
