/**
 * The admin layer: the web console for people and the REST API for scripts and `siplet
 * deploy|undeploy|apps`, under `/admin` of the HTTP server. It owns authentication (HTTP Basic,
 * console sessions with CSRF tokens, failed-login rate limiting), the loopback-only rule
 * (`--admin-allow`), the audit log of changes, the API's routes and error answers, and the
 * console's static files (console/: HTML, CSS, plain JS, no build step).
 *
 * It sees the rest of Siplet only through `AdminFacade`, which the composition root implements:
 * never a container, deployer, router or store.
 */
export { mountAdminConsole, addressGuard, CONSOLE_DIR, type AdminConsoleOptions } from './admin-console.js';
export type {
  AdminFacade,
  AppView,
  ContactView,
  DarCheck,
  DarErrorView,
  DarRuleView,
  DarView,
  RealmView,
  RegistrationView,
  StatsView,
  UndeployView,
  UserView,
} from './admin-facade.js';
export { AddressFilter } from './address-filter.js';
export { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';
export { ConsoleSessions, type ConsoleSession, type ConsoleSessionsOptions } from './console-sessions.js';
export { SESSION_COOKIE } from './admin-auth.js';
