import type { Logger } from '../util/index.js';
import type { AppConfig, SipServletContext } from './config.js';
import type { SipFactory, SipSessionsUtil } from './factory.js';
import type { AppData } from './http.js';
import type { LocationService } from './location.js';
import type { TimerService } from './timer.js';

/**
 * The DI tokens Siplet binds in every application's container. Inject them with `@inject(TOKEN)`
 * on a constructor parameter of a servlet, listener or service.
 *
 * They are `Symbol.for` symbols, so that two copies of this module still name the same binding.
 *
 * @example
 * import { inject, SIP_FACTORY, APP_LOGGER, type SipFactory, type AppLogger } from 'siplet/sdk';
 * class Caller {
 *   constructor(
 *     @inject(SIP_FACTORY) private readonly factory: SipFactory,
 *     @inject(APP_LOGGER) private readonly log: AppLogger,
 *   ) {}
 * }
 */

/** A symbol that carries, for the reader and the compiler, the type of what is bound to it. */
export type Token<T> = symbol & { readonly __tokenOf?: T };

/** The type bound to a token: `TokenType<typeof SIP_FACTORY>` is `SipFactory`. */
export type TokenType<K> = K extends Token<infer T> ? T : never;

/**
 * Makes a token. Apps may make their own for interfaces they bind in `configure`.
 *
 * @example
 * export const CALL_STORE = token<CallStore>('my-app.CallStore');
 */
export function token<T>(key: string): Token<T> {
  return Symbol.for(key) as Token<T>;
}

/** The app's logger: Siplet's structured logger with `{ app: <name> }` on every record. */
export type AppLogger = Logger;

/** The `SipFactory` (JSR 289 §3.1): addresses, URIs, requests, application sessions. @example constructor(@inject(SIP_FACTORY) factory: SipFactory) {} */
export const SIP_FACTORY: Token<SipFactory> = token<SipFactory>('siplet.SipFactory');
/** The `TimerService` (JSR 289 §17). @example constructor(@inject(TIMER_SERVICE) timers: TimerService) {} */
export const TIMER_SERVICE: Token<TimerService> = token<TimerService>('siplet.TimerService');
/** The `SipSessionsUtil` (JSR 289 §15.11.4). @example constructor(@inject(SIP_SESSIONS_UTIL) sessions: SipSessionsUtil) {} */
export const SIP_SESSIONS_UTIL: Token<SipSessionsUtil> = token<SipSessionsUtil>('siplet.SipSessionsUtil');
/** The app's logger (`AppLogger`). @example constructor(@inject(APP_LOGGER) log: AppLogger) {} */
export const APP_LOGGER: Token<AppLogger> = token<AppLogger>('siplet.AppLogger');
/** The app's configuration (`AppConfig`), live. @example constructor(@inject(APP_CONFIG) config: AppConfig) {} */
export const APP_CONFIG: Token<AppConfig> = token<AppConfig>('siplet.AppConfig');
/** The app's `SipServletContext`. @example constructor(@inject(SERVLET_CONTEXT) context: SipServletContext) {} */
export const SERVLET_CONTEXT: Token<SipServletContext> = token<SipServletContext>('siplet.SipServletContext');
/**
 * The `LocationService` (RFC 3261 §10): registered contacts of addresses of record, and which
 * domains this server serves. Bound for every app, over the server's data store.
 * @example constructor(@inject(LOCATION_SERVICE) locations: LocationService) {}
 */
export const LOCATION_SERVICE: Token<LocationService> = token<LocationService>('siplet.LocationService');
/**
 * The app's data in the server's data store (`AppData`): a key-value table kept across restarts,
 * shared by the app's servlets and its HTTP handlers (`HttpContext.data`).
 * @example constructor(@inject(APP_DATA) data: AppData) {}
 */
export const APP_DATA: Token<AppData> = token<AppData>('siplet.AppData');
