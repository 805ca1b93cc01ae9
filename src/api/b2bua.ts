import type { SipServletRequest, SipServletResponse } from './message.js';
import type { SipSession } from './session.js';

export type UaMode = 'UAC' | 'UAS';

/** Back-to-back user agent support (JSR 289 §12). */
export interface B2buaHelper {
  /** A new request for a second leg, copied from `original` (headers in `headers` replace or add). */
  createRequest(original: SipServletRequest, linked?: boolean, headers?: Record<string, string[]>): SipServletRequest;
  /** A subsequent request on `session`, copied from `original` (the request received on the other leg). */
  createRequestFor(session: SipSession, original: SipServletRequest, headers?: Record<string, string[]>): SipServletRequest;
  createCancel(session: SipSession): SipServletRequest;
  createResponseToOriginalRequest(session: SipSession, status: number, reason?: string): SipServletResponse;
  getLinkedSession(session: SipSession): SipSession | undefined;
  getLinkedSipServletRequest(request: SipServletRequest): SipServletRequest | undefined;
  linkSipSessions(a: SipSession, b: SipSession): void;
  unlinkSipSessions(session: SipSession): void;
  getPendingMessages(session: SipSession, mode: UaMode): (SipServletRequest | SipServletResponse)[];
}
