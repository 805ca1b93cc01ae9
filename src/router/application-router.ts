/**
 * The application router SPI (JSR 289 §15): the contract between the container and the component
 * that decides which applications an initial request visits, and in what order.
 *
 * The router sees only this file's types: a read-only view of the request (`RouterRequest`) and
 * plain strings. It knows nothing of the container, sessions or transactions, so a custom router
 * is an ordinary module (see `loadRouter`).
 */

/**
 * Which half of a call an application serves (JSR 289 §15.7): `ORIGINATING` for the caller's
 * subscriber, `TERMINATING` for the callee's, `NEUTRAL` for neither.
 */
export type RoutingRegion = 'ORIGINATING' | 'TERMINATING' | 'NEUTRAL';

/**
 * How a request relates to an earlier one (JSR 289 §15.2.2): `NEW` for a request that starts a
 * chain (from the network, or created by an app without an original); `CONTINUE` for one an app
 * proxied or relayed on the original's behalf; `REVERSE` for one a B2BUA sends back towards the
 * original's caller.
 */
export type RoutingDirective = 'NEW' | 'CONTINUE' | 'REVERSE';

/**
 * What the container does with `ApplicationRouterInfo.routes` (JSR 289 §15.4.1):
 * - `ROUTE`: push the routes; if the first is external, send the request out (the application name
 *   is then not invoked); if it is internal, hand it to the application as its popped route.
 * - `ROUTE_BACK`: push a route back to this container (carrying the router's state), then the
 *   routes, and send the request out; it resumes here after visiting them.
 * - `NO_ROUTE`: ignore `routes`.
 */
export type RouteModifier = 'ROUTE' | 'ROUTE_BACK' | 'NO_ROUTE';

/**
 * Present when a request names its target application itself (JSR 289 §15.11): an encoded URI
 * (`SipApplicationSession.encodeURI`), or a `Join` (RFC 3911) / `Replaces` (RFC 3891) header whose
 * dialog belongs to an application.
 */
export interface TargetedRequestInfo {
  type: 'ENCODED_URI' | 'JOIN' | 'REPLACES';
  applicationName: string;
}

/**
 * What the router sees of a request: read-only, public API data only.
 *
 * Hazard: `header()` returns the first value as received (`"Bob" <sip:bob@example.com>;tag=1`);
 * `from` and `to` are the URIs alone.
 */
export interface RouterRequest {
  readonly method: string;
  /** The Request-URI as text. */
  readonly requestUri: string;
  /** The URI of the From header, as text (no display name, no tag). */
  readonly from: string;
  /** The URI of the To header, as text. */
  readonly to: string;
  /** The first value of a header (long or compact name, any case), or undefined when absent. */
  header(name: string): string | undefined;
  readonly isInitial: boolean;
  /** The Route the container popped because it addressed this container, if any (JSR 289 §15.5). */
  readonly poppedRoute?: string;
  /**
   * Where the request comes from: received from the `NETWORK`, or created by an `APPLICATION`
   * (SipFactory, B2BUA helper). Undefined when the container does not say.
   */
  readonly origin?: 'NETWORK' | 'APPLICATION';
}

/**
 * The router's answer (JSR 289 `SipApplicationRouterInfo`). An undefined `nextApplicationName`
 * (like returning `undefined` altogether) means "no more applications": the container routes the
 * request out per its Route headers, or its Request-URI when there are none.
 */
export interface ApplicationRouterInfo {
  nextApplicationName: string | undefined;
  /** The subscriber the application serves; `SipSession.getSubscriberURI()` in the app. */
  subscriberUri?: string;
  routingRegion?: RoutingRegion;
  /** SIP URIs, pushed as Route headers per `routeModifier`. */
  routes?: string[];
  routeModifier: RouteModifier;
  /**
   * Opaque to the container: handed back on the next call for this request's chain. The container
   * stores it with the session, so keep it small.
   */
  stateInfo?: unknown;
}

/**
 * The logger a router is given: structured fields first, then the message. The server's pino
 * logger satisfies it; a custom router needs nothing else.
 */
export interface RouterLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface ApplicationRouterInitOptions {
  /** Router-specific settings from the server configuration. Default: none. */
  properties?: Record<string, string>;
  /** Where the router logs. Default: the router's own choice (the default router stays silent). */
  logger?: RouterLogger;
}

/**
 * An application router (JSR 289 §15.4). The container calls `init` once before any request,
 * `applicationDeployed` / `applicationUndeployed` as applications come and go, `getNextApplication`
 * for every initial request, and `destroy` at shutdown.
 *
 * Hazard: `getNextApplication` runs on the path of every initial request; it must be synchronous
 * and cheap. Do expensive work (loading rules, compiling patterns) in `init` or on reload.
 */
export interface ApplicationRouter {
  init(options: ApplicationRouterInitOptions): void | Promise<void>;
  destroy(): void | Promise<void>;
  /** Applications now deployed, by the names they are deployed under. */
  applicationDeployed(names: string[]): void;
  applicationUndeployed(names: string[]): void;
  /**
   * Chooses the next application for an initial request (JSR 289 §15.4.1). Called first with
   * directive `NEW` and `stateInfo` undefined, then again each time an application proxies or
   * relays the request (or creates one from it), with the directive that implies and the
   * `stateInfo` this router returned last time. `region` is the region of the application that
   * handled the request last, undefined on the first call.
   *
   * Returns `undefined`, or an info without `nextApplicationName`, when no more applications
   * should see the request.
   */
  getNextApplication(
    request: RouterRequest,
    region: RoutingRegion | undefined,
    directive: RoutingDirective,
    targeted: TargetedRequestInfo | undefined,
    stateInfo: unknown,
  ): ApplicationRouterInfo | undefined;
}

export const ROUTING_REGIONS: readonly RoutingRegion[] = ['ORIGINATING', 'TERMINATING', 'NEUTRAL'];
export const ROUTE_MODIFIERS: readonly RouteModifier[] = ['ROUTE', 'ROUTE_BACK', 'NO_ROUTE'];
