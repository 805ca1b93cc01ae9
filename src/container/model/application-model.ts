import type { Container } from 'inversify';
import type {
  ListenerKind,
  ResponseHandlerKind,
  ServiceClass,
  SipServletRequest,
} from '../../api/index.js';

/**
 * The one model of a deployed application (STYLE habit 8): decorators and the descriptor merged,
 * defaults filled in, validated. The container reads only this.
 */
export interface ApplicationModel {
  readonly name: string;
  /** From the descriptor, else the app folder's package.json. */
  readonly version: string | undefined;
  /** Default: the name. */
  readonly displayName: string;
  readonly description: string | undefined;
  /** The name of the servlet that receives initial requests; always one of `servlets`. */
  readonly mainServlet: string;
  /** Minutes (JSR 289 §6.1.2.2); 0 or less never expires. Default 3. */
  readonly sessionTimeout: number;
  /** Seconds (JSR 289 §10.2.3). Default 180. */
  readonly proxyTimeout: number;
  readonly distributable: boolean;
  /** Decorated classes in the order of the entry module's export names, then servlets only the descriptor declares. */
  readonly servlets: readonly ServletModel[];
  readonly listeners: readonly ListenerModel[];
  /** JSR 289 §15.11.2: the key of the application session an initial request joins. */
  readonly applicationKey: ((request: SipServletRequest) => string | undefined) | undefined;
  /** Bound in the app's DI container in singleton scope. */
  readonly services: readonly ServiceClass[];
  readonly configure: ((container: Container) => void | Promise<void>) | undefined;
  /** Application init parameters (SipServletContext). */
  readonly initParams: Readonly<Record<string, string>>;
  /** Which requests need digest authentication before a servlet sees them; empty: none. */
  readonly securityConstraints: readonly SecurityConstraintModel[];
  /** The app's HTTP side (converged apps): siplet.json "http" over @SipApplication({ http }). */
  readonly http: HttpModel | undefined;
  /** The realm of the app's digest challenges; `undefined`: the server's default, else one derived per request. */
  readonly realm: string | undefined;
}

/** The HTTP routes an app declares (siplet.json `"http": { "router": "<export name>" }`, or `@SipApplication({ http })`). */
export interface HttpModel {
  /** The export name of the router in the entry module. */
  readonly router: string;
  /** What the entry module exports under that name: a router factory `(ctx) => Router`, or an express Router. */
  readonly handler: (...args: never[]) => unknown;
}

/**
 * One security constraint (JSR 289 §20.7), as `container/auth` enforces it: a request is covered
 * when its method and servlet are listed (an empty list covers all); inside a dialog only when
 * `methods` lists its method.
 */
export interface SecurityConstraintModel {
  /** For logs. */
  readonly name: string | undefined;
  /** Empty: every servlet of the app. */
  readonly servletNames: readonly string[];
  /** Upper case. Empty: every method, for initial requests only. */
  readonly methods: readonly string[];
  /** Empty: any authenticated user. */
  readonly roles: readonly string[];
  /** 407 + Proxy-Authenticate / Proxy-Authorization instead of 401 + WWW-Authenticate / Authorization. */
  readonly proxyAuthentication: boolean;
  /** Declared only: not enforced yet. */
  readonly transportGuarantee: 'NONE' | 'INTEGRAL' | 'CONFIDENTIAL';
}

/** `servlet`: a `SipServlet` subclass, driven through doRequest/doResponse. `pojo`: a plain class with JSR 359 handler decorators. */
export type ServletKind = 'servlet' | 'pojo';

export interface ServletModel {
  readonly name: string;
  readonly ctor: ServiceClass;
  readonly kind: ServletKind;
  /** 0 or more: loaded at deployment, lowest first. `undefined`: on first use. */
  readonly loadOnStartup: number | undefined;
  readonly description: string | undefined;
  readonly initParams: Readonly<Record<string, string>>;
  /** pojo only (empty otherwise): handler by request method; `'*'` is `@AnyMethod()`. */
  readonly requestHandlers: ReadonlyMap<string, RequestHandlerEntry>;
  /** pojo only (empty otherwise): most specific first; the first that matches a response takes it. */
  readonly responseHandlers: readonly ResponseHandlerEntry[];
}

export interface RequestHandlerEntry {
  readonly methodName: string | symbol;
  /** A SIP method, or `'*'`. */
  readonly sipMethod: string;
  /** As written, for logs and errors: `@Invite()`. */
  readonly decorator: string;
}

export interface ResponseHandlerEntry {
  readonly methodName: string | symbol;
  readonly kind: ResponseHandlerKind;
  readonly method: string | undefined;
  readonly status: number | undefined;
  readonly decorator: string;
  /** Higher wins: status filter 4, method filter 2, a response class other than `any` 1. */
  readonly specificity: number;
}

export interface ListenerModel {
  readonly ctor: ServiceClass;
  /** The listener interfaces it implements (see `LISTENER_METHODS`). */
  readonly kinds: readonly ListenerKind[];
}
