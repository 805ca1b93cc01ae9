/**
 * Sessions of the container (JSR 289 §6): application sessions with sliding
 * expiry and invalidate-when-ready, SIP sessions with their dialog and state,
 * the per-application-session serial queue, and the indexes that find them.
 */
export { ApplicationSessionImpl, APP_SESSION_URI_PARAM, APP_SESSION_URL_PARAM, type OwnedTimer } from './application-session.js';
export { SipSessionImpl, newSessionTag, type SessionRequestFactory, type SessionRole } from './sip-session.js';
export { SessionManager, type SessionCounts } from './session-manager.js';
export { SerialQueue } from './serial-queue.js';
export { NO_SESSION_EVENTS, type SessionEvents } from './session-events.js';
export type { AttributeChange } from './attributes.js';
