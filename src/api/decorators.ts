import type { Container } from 'inversify';
import type { SipServletRequest, SipServletResponse } from './message.js';
import {
  recordApplicationKey,
  recordClass,
  recordRequestHandler,
  recordResponseHandler,
  type ResponseHandlerKind,
} from './metadata.js';

/**
 * The decorators of a Siplet application (JSR 289 §18 annotations, JSR 359 handler annotations).
 *
 * They only record metadata (STYLE habit 8). Deployment merges what they recorded with the app's
 * `siplet.json` descriptor (the descriptor wins), validates the result, and reports every mistake
 * at once with what to do about it; nothing is checked when the decorator runs.
 *
 * The dependency-injection decorators of the app's container, `inject`, `injectable` and
 * `optional`, are re-exported here so that an app uses the container's own copy of inversify.
 */
export { inject, injectable, optional } from 'inversify';

/** Any class: abstract or not, whatever its constructor takes. */
export type AnyClass = abstract new (...args: never[]) => unknown;
/** A class the app's DI container can construct. */
export type ServiceClass = new (...args: never[]) => unknown;

export interface SipApplicationOptions {
  /** The application's name: unique in the server, used by the application router. Letters, digits, `.`, `_`, `-`. */
  name: string;
  displayName?: string;
  description?: string;
  /** The servlet that receives initial requests. Default: the only servlet, when there is one. */
  mainServlet?: string;
  /** Minutes an application session lives without activity (JSR 289 §6.1.2.2). Default 3; 0 or less: never expires. */
  sessionTimeout?: number;
  /** Seconds a proxy branch may ring before it is cancelled (JSR 289 §10.2.3). Default 180. */
  proxyTimeout?: number;
  /** Whether sessions may be replicated across a cluster (recorded for later; no effect yet). Default false. */
  distributable?: boolean;
  /** Application-wide parameters, read through the SipServletContext (`SERVLET_CONTEXT`). */
  initParams?: Readonly<Record<string, string>>;
  /** Classes bound in the app's DI container, one instance each (singleton scope), injectable by class. */
  services?: readonly ServiceClass[];
  /**
   * Binds anything else the app needs in its DI container (factories, values, interfaces to classes).
   * Runs once per deployment, after Siplet's tokens and `services` are bound and before any servlet
   * or listener is constructed.
   */
  configure?(container: Container): void | Promise<void>;
  /**
   * Which requests need digest authentication (RFC 3261 §22) before a servlet sees them (JSR 289
   * security-constraint). Initial requests a constraint covers are challenged (401, or 407 for
   * `proxyAuthentication`); requests inside a dialog only when the constraint lists their method.
   * Users come from the server's credential store. Default: none, every request reaches the servlet.
   */
  securityConstraints?: readonly SecurityConstraint[];
  /**
   * The realm of this app's challenges (RFC 3261 §22.1), e.g. its domain `example.com`. Default: the
   * server's `--auth-realm`, else the Request-URI host of a REGISTER, else the From host.
   */
  realm?: string;
  /**
   * The HTTP side of a converged app: `router` is the export name, in the entry module, of its
   * router factory (`HttpRouterFactory`, or an express `Router`). Its routes are mounted under
   * `/<app name>/` on the HTTP port. siplet.json `"http"` overrides it.
   */
  http?: { router: string };
}

/**
 * One security constraint (JSR 289 `<security-constraint>`). Hazards: ACK and CANCEL are never
 * challenged (RFC 3261 §22.1: they cannot be resubmitted), so they may not be listed; a request
 * inside a dialog is checked only when `methods` names its method explicitly.
 *
 * @example
 * @SipApplication({ name: 'registrar', realm: 'example.com', securityConstraints: [{ methods: ['REGISTER'] }] })
 */
export interface SecurityConstraint {
  /** A name for logs. */
  name?: string;
  /** The SIP methods covered, e.g. `['INVITE', 'REGISTER']`. Default (or empty): every method, initial requests only. */
  methods?: readonly string[];
  /** The roles allowed; an authenticated user in none of them gets 403. Default (or empty): any authenticated user. */
  roles?: readonly string[];
  /** The servlets covered (by servlet name). Default (or empty): every servlet of the app. */
  servletNames?: readonly string[];
  /**
   * `true` for an app that proxies: challenge with 407 and Proxy-Authenticate, read Proxy-Authorization
   * (RFC 3261 §22.3). Default `false`: 401 with WWW-Authenticate, read Authorization (§22.2).
   */
  proxyAuthentication?: boolean;
}

export interface SipServletOptions {
  /** The servlet's name, unique in the app. Default: the class name. */
  name?: string;
  /** The application this servlet belongs to; when given it must equal the app's name. */
  applicationName?: string;
  /**
   * 0 or more: construct and `init` the servlet when the app is deployed, in ascending order.
   * Omitted or negative: on the first message it receives.
   */
  loadOnStartup?: number;
  description?: string;
  /** Read with `getServletConfig().initParams` (or the `init(config)` argument of a plain class). */
  initParams?: Readonly<Record<string, string>>;
}

/**
 * The listener interfaces of `listeners.ts`, by short name: `servlet` (SipServletListener),
 * `applicationSession`, `session`, `applicationSessionAttribute`, `sessionAttribute`, `error`
 * (SipErrorListener), `timer` (TimerListener).
 */
export type ListenerKind =
  | 'servlet'
  | 'applicationSession'
  | 'session'
  | 'applicationSessionAttribute'
  | 'sessionAttribute'
  | 'error'
  | 'timer';

export interface SipListenerOptions {
  /**
   * Which listener interfaces the class implements. Default: found from its method names. Required
   * when a method name belongs to two interfaces — `sessionCreated`, `sessionDestroyed` and
   * `sessionReadyToInvalidate` (application session or SIP session), `attributeAdded`,
   * `attributeRemoved` and `attributeReplaced` (which session's attributes) — because TypeScript
   * interfaces leave nothing at run time to tell them apart.
   */
  kinds?: readonly ListenerKind[];
  description?: string;
}

/** Narrows a response decorator to one request method and/or one status code. */
export interface ResponseFilter {
  /** The method of the request the response answers (`'INVITE'`). */
  method?: string;
  /** Exactly this status (`180`). */
  status?: number;
}

type RequestHandler = (request: SipServletRequest) => void | Promise<void>;
type ResponseHandler = (response: SipServletResponse) => void | Promise<void>;
type ApplicationKeyMethod = (request: SipServletRequest) => string | undefined;

/** A decorator for a class. */
export type SipClassDecorator = <T extends AnyClass>(target: T) => void;
/** A decorator for a method taking a `SipServletRequest`. */
export type RequestHandlerDecorator = <T extends RequestHandler>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<T>,
) => void;
/** A decorator for a method taking a `SipServletResponse`. */
export type ResponseHandlerDecorator = <T extends ResponseHandler>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<T>,
) => void;

/**
 * Declares the application (JSR 289 `@SipApplication`). Put it on exactly one exported class of the
 * app — any class; it is not instantiated for it. `siplet.json` fields override these.
 *
 * @example
 * import { SipApplication } from 'siplet/sdk';
 * @SipApplication({ name: 'echo', mainServlet: 'echo', sessionTimeout: 5, services: [CallLog] })
 * export class EchoApp {}
 */
export function SipApplication(options: SipApplicationOptions): SipClassDecorator {
  return (target) => recordClass(target, 'application', { ...options });
}

/**
 * Declares a servlet (JSR 359 `@SipServlet`; named `Servlet` here because `SipServlet` is the base
 * class). Put it on a `SipServlet` subclass, or on a plain class whose methods carry the handler
 * decorators (`@Invite()`, `@SuccessResponse()` …). The container constructs it through the app's DI
 * container, so its constructor may take `@inject(TOKEN)` parameters.
 *
 * @example
 * import { Servlet, SipServlet, inject, SIP_FACTORY, type SipFactory, type SipServletRequest } from 'siplet/sdk';
 * @Servlet({ name: 'echo', loadOnStartup: 1 })
 * export class Echo extends SipServlet {
 *   constructor(@inject(SIP_FACTORY) private readonly factory: SipFactory) { super(); }
 *   override async doInvite(req: SipServletRequest) { await req.createResponse(200).send(); }
 * }
 */
export function Servlet(options: SipServletOptions = {}): SipClassDecorator {
  return (target) => recordClass(target, 'servlet', { ...options });
}

/**
 * Declares a listener (JSR 289 `@SipListener`): a class with methods of the interfaces in
 * `listeners.ts`. It is constructed once, through the app's DI container, when the app is deployed.
 *
 * @example
 * import { SipListener, type SipApplicationSessionListener, type SipApplicationSessionEvent } from 'siplet/sdk';
 * @SipListener({ kinds: ['applicationSession'] })
 * export class Expiry implements SipApplicationSessionListener {
 *   sessionExpired(event: SipApplicationSessionEvent) { event.session.setExpires(1); }
 * }
 */
export function SipListener(options: SipListenerOptions = {}): SipClassDecorator {
  return (target) => recordClass(target, 'listener', { ...options });
}

/**
 * Marks the static method that maps an initial request to an application-session key (JSR 289
 * §15.11.2): requests with the same key join the same application session. Return `undefined` for a
 * new session. At most one per app.
 *
 * Hazard: it runs for every initial request before any session exists; keep it fast and pure.
 *
 * @example
 * import { SipApplicationKey, type SipServletRequest } from 'siplet/sdk';
 * export class Conference {
 *   @SipApplicationKey()
 *   static key(req: SipServletRequest) { return req.getRequestURI().toString(); }
 * }
 */
export function SipApplicationKey(): <T extends ApplicationKeyMethod>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<T>,
) => void {
  return (target, propertyKey) => recordApplicationKey(target, propertyKey);
}

function requestDecorator(sipMethod: string, decorator: string): RequestHandlerDecorator {
  return (target, propertyKey) => recordRequestHandler(target, propertyKey, sipMethod, decorator);
}

/**
 * Handles INVITE requests in a plain-class servlet (JSR 359 `@Invite`). The most specific handler
 * wins: `@Invite()` before `@AnyMethod()`. A request no method handles gets the JSR 289 default
 * (500, or 501 for an unknown method) — as in a `SipServlet` subclass.
 *
 * @example
 * import { Servlet, Invite, Bye, type SipServletRequest } from 'siplet/sdk';
 * @Servlet()
 * export class Answer {
 *   @Invite() async invite(req: SipServletRequest) { await req.createResponse(200).send(); }
 *   @Bye() async bye(req: SipServletRequest) { await req.createResponse(200).send(); }
 * }
 */
export function Invite(): RequestHandlerDecorator {
  return requestDecorator('INVITE', '@Invite()');
}
/** Handles ACK requests (JSR 359 `@Ack`). @example @Ack() ack(req: SipServletRequest) { this.confirmed(req); } */
export function Ack(): RequestHandlerDecorator {
  return requestDecorator('ACK', '@Ack()');
}
/** Handles OPTIONS requests (JSR 359 `@Options`). @example @Options() async options(req: SipServletRequest) { await req.createResponse(200).send(); } */
export function Options(): RequestHandlerDecorator {
  return requestDecorator('OPTIONS', '@Options()');
}
/** Handles BYE requests (JSR 359 `@Bye`). @example @Bye() async bye(req: SipServletRequest) { await req.createResponse(200).send(); } */
export function Bye(): RequestHandlerDecorator {
  return requestDecorator('BYE', '@Bye()');
}
/** Handles CANCEL requests (JSR 359 `@Cancel`); the container has already answered it. @example @Cancel() cancel(req: SipServletRequest) { this.stop(req); } */
export function Cancel(): RequestHandlerDecorator {
  return requestDecorator('CANCEL', '@Cancel()');
}
/** Handles REGISTER requests (JSR 359 `@Register`). @example @Register() async register(req: SipServletRequest) { await req.createResponse(200).send(); } */
export function Register(): RequestHandlerDecorator {
  return requestDecorator('REGISTER', '@Register()');
}
/** Handles SUBSCRIBE requests (JSR 359 `@Subscribe`). @example @Subscribe() async subscribe(req: SipServletRequest) { await req.createResponse(202).send(); } */
export function Subscribe(): RequestHandlerDecorator {
  return requestDecorator('SUBSCRIBE', '@Subscribe()');
}
/** Handles NOTIFY requests (JSR 359 `@Notify`). @example @Notify() async notify(req: SipServletRequest) { await req.createResponse(200).send(); } */
export function Notify(): RequestHandlerDecorator {
  return requestDecorator('NOTIFY', '@Notify()');
}
/** Handles MESSAGE requests (JSR 359 `@Message`). @example @Message() async message(req: SipServletRequest) { await req.createResponse(200).send(); } */
export function Message(): RequestHandlerDecorator {
  return requestDecorator('MESSAGE', '@Message()');
}
/** Handles INFO requests (JSR 359 `@Info`). @example @Info() async info(req: SipServletRequest) { await req.createResponse(200).send(); } */
export function Info(): RequestHandlerDecorator {
  return requestDecorator('INFO', '@Info()');
}
/** Handles REFER requests (JSR 359 `@Refer`). @example @Refer() async refer(req: SipServletRequest) { await req.createResponse(202).send(); } */
export function Refer(): RequestHandlerDecorator {
  return requestDecorator('REFER', '@Refer()');
}
/** Handles PUBLISH requests (JSR 359 `@Publish`). @example @Publish() async publish(req: SipServletRequest) { await req.createResponse(200).send(); } */
export function Publish(): RequestHandlerDecorator {
  return requestDecorator('PUBLISH', '@Publish()');
}
/** Handles UPDATE requests (JSR 359 `@Update`). @example @Update() async update(req: SipServletRequest) { await req.createResponse(200).send(); } */
export function Update(): RequestHandlerDecorator {
  return requestDecorator('UPDATE', '@Update()');
}
/** Handles PRACK requests (JSR 359 `@Prack`). @example @Prack() async prack(req: SipServletRequest) { await req.createResponse(200).send(); } */
export function Prack(): RequestHandlerDecorator {
  return requestDecorator('PRACK', '@Prack()');
}
/**
 * Handles every request method no more specific handler takes, including unknown methods
 * (JSR 359 `@AnyMethod`).
 *
 * @example
 * @AnyMethod() async other(req: SipServletRequest) { await req.createResponse(405).send(); }
 */
export function AnyMethod(): RequestHandlerDecorator {
  return requestDecorator('*', '@AnyMethod()');
}

function responseDecorator(kind: ResponseHandlerKind, name: string, filter: ResponseFilter = {}): ResponseHandlerDecorator {
  const shown = [
    filter.method === undefined ? undefined : `method: '${filter.method}'`,
    filter.status === undefined ? undefined : `status: ${filter.status}`,
  ].filter((part) => part !== undefined);
  const decorator = `@${name}(${shown.length ? `{ ${shown.join(', ')} }` : ''})`;
  return (target, propertyKey) => recordResponseHandler(target, propertyKey, kind, filter, decorator);
}

/**
 * Handles 1xx responses (JSR 359 `@ProvisionalResponse`), optionally only those to one method or
 * of one status. The most specific handler wins: a status filter before a method filter, a method
 * filter before none, a response class (`@SuccessResponse`) before `@AnyResponse`.
 *
 * @example
 * @ProvisionalResponse({ method: 'INVITE', status: 180 }) ringing(res: SipServletResponse) { this.log.info('ringing'); }
 */
export function ProvisionalResponse(filter?: ResponseFilter): ResponseHandlerDecorator {
  return responseDecorator('provisional', 'ProvisionalResponse', filter);
}
/** Handles 2xx responses (JSR 359 `@SuccessResponse`). @example @SuccessResponse({ method: 'INVITE' }) async ok(res: SipServletResponse) { await res.createAck().send(); } */
export function SuccessResponse(filter?: ResponseFilter): ResponseHandlerDecorator {
  return responseDecorator('success', 'SuccessResponse', filter);
}
/** Handles 3xx responses (JSR 359 `@RedirectResponse`). @example @RedirectResponse() moved(res: SipServletResponse) { this.retry(res); } */
export function RedirectResponse(filter?: ResponseFilter): ResponseHandlerDecorator {
  return responseDecorator('redirect', 'RedirectResponse', filter);
}
/** Handles 4xx–6xx responses (JSR 359 `@ErrorResponse`). @example @ErrorResponse({ status: 486 }) busy(res: SipServletResponse) { this.busy(res); } */
export function ErrorResponse(filter?: ResponseFilter): ResponseHandlerDecorator {
  return responseDecorator('error', 'ErrorResponse', filter);
}
/**
 * Handles intermediate responses of a proxy branch (JSR 359 `@BranchResponse`); a branch response
 * reaches only `@BranchResponse` and `@AnyResponse` handlers, as `doBranchResponse` in a `SipServlet`.
 *
 * @example
 * @BranchResponse() branch(res: SipServletResponse) { this.log.info({ status: res.getStatus() }, 'branch'); }
 */
export function BranchResponse(filter?: ResponseFilter): ResponseHandlerDecorator {
  return responseDecorator('branch', 'BranchResponse', filter);
}
/** Handles every response no more specific handler takes (JSR 359 `@AnyResponse`). @example @AnyResponse() any(res: SipServletResponse) { this.seen.push(res.getStatus()); } */
export function AnyResponse(filter?: ResponseFilter): ResponseHandlerDecorator {
  return responseDecorator('any', 'AnyResponse', filter);
}
