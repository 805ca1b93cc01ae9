/** The HTTP server (express): health, converged apps' routes (a dispatch table by app name), and the admin console. */
export { HttpServer, type HttpServerOptions } from './http-server.js';
export { AppRoutes, RESERVED_PATHS, type AppRequestHandler } from './app-routes.js';
