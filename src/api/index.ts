/**
 * The public API of Siplet applications: the SIP Servlet model (JSR 289 1.1,
 * JSR 359 2.0 annotations) in TypeScript. Everything an app touches is declared
 * here; the container implements it. Apps import it as `siplet/sdk`.
 */
export type { Address, Parameterable, SipServletMessage, SipServletRequest, SipServletResponse, Transport } from './message.js';
export type { SipSession, SipSessionState, SipApplicationSession } from './session.js';
export type { ServletTimer, TimerOptions, TimerService } from './timer.js';
export type { SipFactory, CreateRequestOptions, AuthInfo, SipSessionsUtil } from './factory.js';
export type * from './listeners.js';
export type { Proxy, ProxyBranch, ProxyOptions } from './proxy.js';
export type { B2buaHelper, UaMode } from './b2bua.js';
export { SipServlet, NOT_HANDLED_ATTRIBUTE, type SipServletConfig } from './servlet.js';
export { IllegalStateError, SystemHeaderError, SipError } from './errors.js';
