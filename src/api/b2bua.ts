import type { SipServletRequest, SipServletResponse } from './message.js';
import type { SipSession } from './session.js';

export type UaMode = 'UAC' | 'UAS';

/**
 * Back-to-back user agent support (JSR 289 §12): an application that answers a
 * request on one leg (UAS) and places a new one on another (UAC), relaying between
 * the two dialogs. Get it with `request.getB2buaHelper()`; after that the request
 * can no longer be proxied (and a proxied request has no B2BUA helper).
 *
 * Header maps (`{ 'X-Account': ['42'], Subject: 'hi' }`) replace the named headers of
 * the copy (an empty list removes one). From and To may be given for a new leg (URI
 * and display name; the container chooses the tags); Contact for its user part,
 * display name and parameters (the container chooses host, port and transport);
 * Route for an outbound proxy on a new leg. System headers (Via, Call-ID, CSeq,
 * Record-Route, Content-Length, RSeq, RAck, Path) throw a SystemHeaderError.
 *
 * @example
 * override async doInvite(req: SipServletRequest) {
 *   const b2b = req.getB2buaHelper();
 *   const leg = b2b.createRequest(req, true, { 'P-Leg': ['callee'] });
 *   leg.setRequestURI(parseUri('sip:bob@10.0.0.7')!);
 *   await leg.send();
 * }
 * override async doSuccessResponse(res: SipServletResponse) {
 *   const b2b = res.getRequest().getB2buaHelper();
 *   const upstream = b2b.getLinkedSipServletRequest(res.getRequest())!;
 *   const ok = upstream.createResponse(res.getStatus());
 *   ok.setContent(res.getRawContent(), res.getContentType());
 *   await ok.send();
 * }
 */
export interface B2buaHelper {
  /**
   * A new request for a second leg, in a new SipSession of the same application
   * session: same method, Request-URI, headers (but the system headers: Via,
   * Record-Route, Route, Contact, Call-ID, CSeq) and content as `original`, a new
   * Call-ID and From tag, no To tag, Max-Forwards one less. `linked` (default true)
   * links the two sessions and the two requests. Sent, it goes through the
   * application router first (JSR 289 §15.4.1: CONTINUE), so applications composed
   * after this one see it before the network does.
   *
   * Hazard: throws an IllegalStateError when `linked` is true and the original's
   * session is already linked to another one (unlink it first).
   */
  createRequest(original: SipServletRequest, linked?: boolean, headers?: Readonly<Record<string, string | readonly string[]>>): SipServletRequest;
  /**
   * A subsequent request in the dialog of `session` (the other leg), copied from
   * `original` (the request received on this leg): its method, non-system headers and
   * content. Links the sessions (unless one is linked already) and the requests. For an
   * ACK it acknowledges the 2xx waiting on `session`; for a PRACK it acknowledges the
   * oldest reliable provisional response waiting there. CANCEL: use `createCancel`.
   */
  createRequestFor(session: SipSession, original: SipServletRequest, headers?: Readonly<Record<string, string | readonly string[]>>): SipServletRequest;
  /** CANCEL for the INVITE this application sent in `session`, still without a final response. */
  createCancel(session: SipSession): SipServletRequest;
  /**
   * A response to the request that created `session` (the original request), even
   * once it was answered: a further 2xx to an INVITE already answered 2xx (a forked
   * 2xx relayed upstream) goes in a new derived session with its own To tag, which
   * the application links to the fork's session.
   *
   * Hazard: throws an IllegalStateError for a response inconsistent with the one sent
   * (a 486 or a 180 after a 200), and when `session` did not receive its request.
   */
  createResponseToOriginalRequest(session: SipSession, status: number, reason?: string): SipServletResponse;
  /** The session linked to `session`, or undefined (none, or no longer valid). */
  getLinkedSession(session: SipSession): SipSession | undefined;
  /** The request linked to `request` by createRequest/createRequestFor, or undefined. */
  getLinkedSipServletRequest(request: SipServletRequest): SipServletRequest | undefined;
  /** Links two sessions both ways; throws an IllegalStateError when one is linked to a third. */
  linkSipSessions(a: SipSession, b: SipSession): void;
  /** Removes the link of `session` (both ways). */
  unlinkSipSessions(session: SipSession): void;
  /**
   * Messages of `session` not yet committed, in increasing CSeq order. UAS: requests
   * received and not yet answered finally. UAC: requests sent without a final response,
   * 2xx responses to INVITE not yet acknowledged, and reliable provisional responses
   * not yet PRACKed.
   */
  getPendingMessages(session: SipSession, mode: UaMode): (SipServletRequest | SipServletResponse)[];
}
