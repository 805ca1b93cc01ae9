import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { Router, type Express } from 'express';
import type { Logger } from '../util/index.js';
import { createAdminApi } from './admin-api.js';
import { AdminAuth, sourceOf } from './admin-auth.js';
import type { AdminFacade } from './admin-facade.js';
import { AddressFilter } from './address-filter.js';
import { ConsoleSessions, type ConsoleSessionsOptions } from './console-sessions.js';
import { sendError } from './http-errors.js';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';

export interface AdminConsoleOptions {
  facade: AdminFacade;
  logger: Logger;
  /** Networks besides loopback allowed to reach `/admin` (`--admin-allow`), as `address/prefix`. */
  allow?: readonly string[];
  /** Largest archive `POST /admin/api/apps` accepts (bytes). */
  maxUploadBytes: number;
  throttle?: LoginThrottleOptions;
  sessions?: ConsoleSessionsOptions;
}

/** The console's static files (HTML, CSS, JS): beside this module, in src/ and in dist/ alike. */
export const CONSOLE_DIR = fileURLToPath(new URL('./console/', import.meta.url));

// The console runs only its own script and style: no inline code, no framing, no referrer.
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * The admin console and API under `/admin` of the HTTP server:
 *
 *   /admin/*  ─► client address allowed? (loopback, --admin-allow) ─► security headers
 *     /admin/api/*  ─► JSON API (admin-api.ts: login, CSRF, rate limit, audit log)
 *     /admin/       ─► the console's static files (login page and the single-page console)
 *
 * Only `/admin` is restricted: converged apps' routes on the same port are not.
 *
 * @example
 * mountAdminConsole(http.app, { facade, logger, allow: config.adminAllow, maxUploadBytes: config.archiveMaxSize });
 */
export function mountAdminConsole(app: Express, options: AdminConsoleOptions): { readonly filter: AddressFilter } {
  const log = options.logger;
  const filter = new AddressFilter(options.allow ?? []);
  const auth = new AdminAuth({ facade: options.facade, throttle: new LoginThrottle(options.throttle), sessions: new ConsoleSessions(options.sessions), log });
  const admin = Router();
  admin.use(addressGuard(filter, log));
  admin.use((_req, res, next) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    next();
  });
  admin.use('/api', createAdminApi({ facade: options.facade, auth, log, maxUploadBytes: options.maxUploadBytes }));
  if (!existsSync(CONSOLE_DIR)) log.warn({ folder: CONSOLE_DIR }, 'the admin console\'s files are missing (was the build\'s copy step skipped?): only /admin/api is served');
  admin.use(express.static(CONSOLE_DIR, { index: 'index.html', redirect: true, dotfiles: 'ignore', fallthrough: true }));
  app.use('/admin', admin);
  log.info({ allow: ['loopback', ...filter.networks] }, 'admin console at /admin');
  return { filter };
}

/**
 * Refuses `/admin` to clients outside loopback and the allowed networks, whatever they send: the
 * TCP peer's address decides, never `X-Forwarded-For`.
 */
export function addressGuard(filter: AddressFilter, log: Logger): express.RequestHandler {
  return (req, res, next) => {
    const source = sourceOf(req);
    if (filter.allows(source)) return next();
    log.warn({ source, method: req.method, path: req.originalUrl }, 'admin request from an address not allowed refused');
    const message = `The admin console answers only loopback addresses${filter.networks.length > 0 ? ` and ${filter.networks.join(', ')}` : ''}; ${source} is not allowed. Use it from the server itself (ssh -L 8080:127.0.0.1:8080), or start Siplet with --admin-allow <CIDR list>.`;
    if (req.path.startsWith('/api/') || req.path === '/api') sendError(res, 403, 'SIPLET_ADMIN_FORBIDDEN', message);
    else res.status(403).type('text/plain').send(`${message}\n`);
  };
}
