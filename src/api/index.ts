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
export {
  SipApplication,
  Servlet,
  SipListener,
  SipApplicationKey,
  Invite,
  Ack,
  Options,
  Bye,
  Cancel,
  Register,
  Subscribe,
  Notify,
  Message,
  Info,
  Refer,
  Publish,
  Update,
  Prack,
  AnyMethod,
  ProvisionalResponse,
  SuccessResponse,
  RedirectResponse,
  ErrorResponse,
  BranchResponse,
  AnyResponse,
  inject,
  injectable,
  optional,
  type AnyClass,
  type ServiceClass,
  type SipApplicationOptions,
  type SecurityConstraint,
  type SipServletOptions,
  type SipListenerOptions,
  type ListenerKind,
  type ResponseFilter,
  type SipClassDecorator,
  type RequestHandlerDecorator,
  type ResponseHandlerDecorator,
} from './decorators.js';
export {
  getSipMetadata,
  type SipClassMetadata,
  type RequestHandlerRecord,
  type ResponseHandlerRecord,
  type ResponseHandlerKind,
  type ApplicationKeyRecord,
} from './metadata.js';
export {
  SIP_FACTORY,
  TIMER_SERVICE,
  SIP_SESSIONS_UTIL,
  APP_LOGGER,
  APP_CONFIG,
  SERVLET_CONTEXT,
  LOCATION_SERVICE,
  APP_DATA,
  token,
  type Token,
  type TokenType,
  type AppLogger,
} from './tokens.js';
export type { AppConfig, SipServletContext } from './config.js';
export type { ContactBinding, ContactBindingChanges, LocationService } from './location.js';
export {
  getConvergedSession,
  CONVERGED_SESSION_KEY,
  type AppData,
  type ConvergedHttpSession,
  type HttpContext,
  type HttpHandler,
  type HttpRouterFactory,
} from './http.js';
