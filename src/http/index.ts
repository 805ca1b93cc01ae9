/** The HTTP server (express): health now; the admin console and converged apps' routes mount here. */
export { HttpServer, type HttpServerOptions } from './http-server.js';
