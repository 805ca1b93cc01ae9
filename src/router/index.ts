/**
 * The application router layer (JSR 289 §15): decides which applications an initial request
 * visits, and in what order. It owns the router SPI (`ApplicationRouter` and the types it sees),
 * the default application router driven by a DAR file (JSR 289 Appendix C, Mobicents format,
 * docs/dar.md), and `loadRouter` for plugging in a custom router module.
 *
 * The router sees only public API data (`RouterRequest`, strings) and knows nothing of the
 * container: the container calls it, never the reverse.
 */
export type {
  ApplicationRouter,
  ApplicationRouterInfo,
  ApplicationRouterInitOptions,
  RouteModifier,
  RouterLogger,
  RouterRequest,
  RoutingDirective,
  RoutingRegion,
  TargetedRequestInfo,
} from './application-router.js';
export { ROUTE_MODIFIERS, ROUTING_REGIONS } from './application-router.js';
export { loadRouter, type LoadRouterOptions } from './load-router.js';
export { DAR_ALL, parseDar } from './default/dar-parser.js';
export type {
  DarHeaderPattern,
  DarOptions,
  DarParseError,
  DarParseOptions,
  DarParseResult,
  DarRule,
  DarRules,
  DarSubscriber,
} from './default/dar-parser.js';
export { DefaultApplicationRouter } from './default/default-application-router.js';
export type { DarReloadResult, DarState, DefaultApplicationRouterOptions } from './default/default-application-router.js';
export { DarFile } from './default/dar-file.js';
export type { DarFileOptions, DarLoadResult, DarReloadTarget } from './default/dar-file.js';
