import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppConfig, SipServletContext } from './config.js';
import { IllegalStateError } from './errors.js';
import type { SipFactory, SipSessionsUtil } from './factory.js';
import type { LocationService } from './location.js';
import type { SipApplicationSession } from './session.js';
import type { TimerService } from './timer.js';
import type { AppLogger, Token } from './tokens.js';

/**
 * The HTTP side of a converged application (JSR 289 §13, converged HTTP + SIP apps).
 *
 * An app declares an HTTP router, `@SipApplication({ http: { router: 'http' } })` or siplet.json
 * `"http": { "router": "http" }` (the export name of a router factory in its entry module). At
 * deployment Siplet calls the factory once with the app's `HttpContext` and mounts what it returns
 * under `/<app name>/` on the HTTP port; it is removed when the app is undeployed and swapped when a
 * new version replaces it (a version draining its calls keeps no HTTP routes).
 *
 * Inside a handler, `getConvergedSession(req)` ties the HTTP request to an application session:
 * the one named by the `siplet-as` query parameter (`SipApplicationSession.encodeURL`), else the
 * one the client's session cookie names, else a new one.
 */

/**
 * A request handler as Node's `http` module and express see it: an express `Router` is one. The
 * parameter types are compared bivariantly, so a handler written for express's `Request` and
 * `Response` fits.
 */
export type HttpHandler = {
  handle(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): unknown;
}['handle'];

/** What a router factory receives: the app's own services, as its servlets get them injected. */
export interface HttpContext {
  /** The application's name; its routes are under `basePath`. */
  readonly applicationName: string;
  /** `/<app name>`: where the routes are mounted (what `req.baseUrl` is inside them). */
  readonly basePath: string;
  /** The app's `SipFactory` (`SIP_FACTORY`): requests created here join application sessions of this app. */
  readonly sipFactory: SipFactory;
  /** The app's `SipSessionsUtil` (`SIP_SESSIONS_UTIL`): application sessions by id or key. */
  readonly sessionsUtil: SipSessionsUtil;
  readonly timerService: TimerService;
  /** The app's live configuration (`APP_CONFIG`). */
  readonly config: AppConfig;
  /** The app's logger (`APP_LOGGER`). */
  readonly logger: AppLogger;
  /** The app's `SipServletContext` (`SERVLET_CONTEXT`): attributes its servlets share. */
  readonly servletContext: SipServletContext;
  /** The app's data in the server's data store (`APP_DATA`). */
  readonly data: AppData;
  readonly locationService: LocationService | undefined;
  /**
   * Something bound in the app's DI container: a token, or a class listed in
   * `@SipApplication({ services })`; the same singleton its servlets get injected.
   */
  resolve<T>(id: Token<T> | (new (...args: never[]) => T)): T;
}

/**
 * What `http.router` names: a function called once per deployment with the app's context,
 * returning its routes (an express `Router`). It may be async. An express `Router` exported
 * directly is accepted as well (it is then shared by every deployment of the same module).
 *
 * @example
 * import { express, getConvergedSession, type HttpContext } from 'siplet/sdk';
 * export function http(ctx: HttpContext) {
 *   const router = express.Router();
 *   router.get('/calls/:id', async (req, res) => {
 *     const call = ctx.sessionsUtil.getApplicationSessionById(req.params.id);
 *     if (call === undefined) return void res.status(404).end();
 *     await getConvergedSession(req).join(call);
 *     res.json({ legs: call.getSessions().map((s) => s.getState()) });
 *   });
 *   return router;
 * }
 */
export type HttpRouterFactory = (context: HttpContext) => HttpHandler | Promise<HttpHandler>;

/**
 * The HTTP session of one client of a converged app (JSR 289 ConvergedHttpSession), kept by a
 * cookie scoped to the app's path, and the application session it belongs to.
 *
 * Serial execution: once `getApplicationSession()` or `join()` resolves, the HTTP request holds
 * that application session's serial queue, like a SIP event does, until its response has been
 * sent (or the client went away): SIP messages of the same application session wait meanwhile,
 * so the handler sees and changes a consistent state.
 *
 * Hazard: never await, inside an HTTP handler holding an application session, something that
 * needs a SIP event of the same application session (the answer to an INVITE it sent): that event
 * waits for the response, which waits for it. Answer at once and let the client poll. A hold is
 * released after 30 s regardless, with an error logged.
 */
export interface ConvergedHttpSession {
  /** The HTTP session's id (the cookie's value); a new session gets its cookie on first use. */
  getId(): string;
  /** True until the client has sent the session cookie back. */
  isNew(): boolean;
  /**
   * The application session of this request: the one the `siplet-as` query parameter names, else
   * the one this HTTP session belongs to, else (unless `create` is false) a new one. Resolves once
   * this request holds its serial queue.
   */
  getApplicationSession(): Promise<SipApplicationSession>;
  getApplicationSession(create: boolean): Promise<SipApplicationSession | undefined>;
  /**
   * Makes `appSession` (found by id or key through `SipSessionsUtil`) the application session of
   * this HTTP session, and resolves once this request holds its serial queue.
   */
  join(appSession: SipApplicationSession): Promise<void>;
  /** HTTP-session attributes: this client's, not shared with SIP (use the application session's for that). */
  getAttribute<T = unknown>(name: string): T | undefined;
  setAttribute(name: string, value: unknown): void;
  removeAttribute(name: string): void;
  getAttributeNames(): string[];
  /** Ends the HTTP session (its attributes and its link); the application session stays. */
  invalidate(): void;
}

/** Where the container puts the converged session of a request; `Symbol.for`, so two copies of this module agree. */
export const CONVERGED_SESSION_KEY: unique symbol = Symbol.for('siplet.ConvergedHttpSession') as never;

/**
 * The converged HTTP session of a request that reached a converged app's routes.
 *
 * Throws `IllegalStateError` for a request that did not come through Siplet's mount of the app.
 *
 * @example
 * router.post('/calls', async (req, res) => {
 *   const appSession = await getConvergedSession(req).getApplicationSession();
 *   appSession.setAttribute('requestedBy', req.ip);
 *   res.status(201).json({ id: appSession.getId() });
 * });
 */
export function getConvergedSession(req: IncomingMessage): ConvergedHttpSession {
  const session = (req as unknown as Record<symbol, ConvergedHttpSession | undefined>)[CONVERGED_SESSION_KEY];
  if (session === undefined) {
    throw new IllegalStateError('this request did not reach a converged application\'s routes: getConvergedSession works inside the router an app declares with http.router');
  }
  return session;
}

/**
 * The app's own data in the server's data store (`<dataDir>/siplet.db`): a key-value table kept
 * across restarts and redeployments, shared by everything of the app (servlets, HTTP handlers).
 * Values are JSON (at most 64 KiB serialised); keys are 1 to 256 characters. `list(prefix)` makes
 * lists: `set('blocked:alice', …)`, then `list('blocked:')`.
 *
 * @example
 * constructor(@inject(APP_DATA) private readonly data: AppData) {}
 * async doInvite(req: SipServletRequest) {
 *   if (await this.data.get(`blocked:${req.getFrom().uri.user}`)) return req.createResponse(403).send();
 * }
 */
export interface AppData {
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Writes (replaces) a value. Throws `TypeError` for a bad key or a value that is not JSON or too large. */
  set(key: string, value: unknown): Promise<void>;
  /** Removes a key; false when it was absent. */
  delete(key: string): Promise<boolean>;
  /** The entries whose key starts with `prefix` (every entry without one), sorted by key. */
  list<T = unknown>(prefix?: string): Promise<{ key: string; value: T }[]>;
}
