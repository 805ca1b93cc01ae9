/**
 * Converged HTTP + SIP applications (JSR 289 §13): the HTTP side of one deployed version. It owns
 * the app's HTTP sessions (cookie `siplet-session`, scoped to `/<app>`), tying HTTP requests to
 * application sessions (`siplet-as` from `encodeURL`, the cookie, or a new one), and running HTTP
 * work in the application session's serial queue like SIP events. The container builds one per
 * version that declares `http.router` and hands its handler to the HTTP server's dispatch table.
 */
export { ConvergedApp, type ConvergedAppOptions } from './converged-app.js';
export { ConvergedRequestSession, HTTP_SESSION_COOKIE, cookieValues, queryParam, type ConvergedAppHost } from './converged-session.js';
export { HttpSessionTable, type HttpSessionRecord, type HttpSessionTableOptions } from './http-session-table.js';
