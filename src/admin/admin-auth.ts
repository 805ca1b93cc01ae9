import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { SipletError, type Logger } from '../util/index.js';
import type { AdminFacade } from './admin-facade.js';
import { ConsoleSessions, type ConsoleSession } from './console-sessions.js';
import { sendError } from './http-errors.js';
import type { LoginThrottle } from './login-throttle.js';

/** Who is making an admin request, for the routes and the audit log. */
export interface AdminPrincipal {
  readonly user: string;
  /** `basic`: HTTP Basic credentials (scripts, the CLI); `session`: the console's cookie. */
  readonly via: 'basic' | 'session';
  /** The client's address (the TCP peer's). */
  readonly source: string;
  readonly session: ConsoleSession | undefined;
}

export const SESSION_COOKIE = 'siplet_admin';
/** The console sends it on every API call: no Basic challenge then (no browser login prompt). */
export const CONSOLE_HEADER = 'x-siplet-console';
const CSRF_HEADER = 'x-csrf-token';
const CHALLENGE = 'Basic realm="Siplet admin", charset="UTF-8"';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Verified Basic credentials are remembered this long, so that scripts do not pay scrypt on each call. */
const BASIC_CACHE_MS = 5 * 60_000;
const BASIC_CACHE_MAX = 64;

export interface AdminAuthOptions {
  facade: Pick<AdminFacade, 'verifyAdmin'>;
  throttle: LoginThrottle;
  sessions: ConsoleSessions;
  log: Logger;
}

/** The client's address: the TCP peer's, never a forwarding header. */
export function sourceOf(req: Request): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/** The principal `authenticate` put on the response. */
export function principalOf(res: Response): AdminPrincipal {
  const principal = res.locals['admin'] as AdminPrincipal | undefined;
  if (principal === undefined) throw new SipletError('SIPLET_INTERNAL', 'admin route reached without authentication');
  return principal;
}

/**
 * Admin authentication: HTTP Basic for scripts and the CLI, a session cookie (HttpOnly,
 * SameSite=Strict) with a per-session CSRF token for the console; failed attempts of both are
 * rate-limited per address (`LoginThrottle`); every login and failure is logged with the address.
 *
 *   request ─► same-origin check (changes) ─► Basic? verify (cached) ─► cookie? session + CSRF (changes)
 *           ─► res.locals.admin = { user, via, source }
 */
export class AdminAuth {
  readonly #facade: Pick<AdminFacade, 'verifyAdmin'>;
  readonly #throttle: LoginThrottle;
  readonly #sessions: ConsoleSessions;
  readonly #log: Logger;
  /** sha256 of a verified Authorization header → its user and until when it is trusted. */
  readonly #verified = new Map<string, { user: string; until: number }>();

  constructor(options: AdminAuthOptions) {
    this.#facade = options.facade;
    this.#throttle = options.throttle;
    this.#sessions = options.sessions;
    this.#log = options.log;
  }

  /**
   * Refuses a change (POST, PUT, DELETE …) that a browser says comes from another site
   * (`Sec-Fetch-Site`, `Origin`): a page elsewhere cannot make the admin's browser act, even with
   * cached Basic credentials. Clients that are not browsers send neither header.
   */
  readonly sameOrigin: RequestHandler = (req, res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const site = req.headers['sec-fetch-site'];
    const origin = req.headers.origin;
    const crossSite = (typeof site === 'string' && site !== 'same-origin' && site !== 'none') || (typeof origin === 'string' && origin !== `${req.protocol}://${req.headers.host ?? ''}`);
    if (crossSite) {
      this.#log.warn({ source: sourceOf(req), origin, site, method: req.method, path: req.originalUrl }, 'cross-site admin request refused');
      sendError(res, 403, 'SIPLET_ADMIN_FORBIDDEN', 'Cross-site requests to the admin API are refused: use the console at /admin on this server, or a script with HTTP Basic credentials.');
      return;
    }
    next();
  };

  /** Requires a login: Basic credentials, or a console session (with its CSRF token for changes). */
  readonly authenticate: RequestHandler = async (req, res, next) => {
    const source = sourceOf(req);
    const header = req.headers.authorization;
    if (typeof header === 'string' && /^basic /i.test(header)) {
      const user = await this.#basic(header, source, res);
      if (user === undefined) return;
      res.locals['admin'] = { user, via: 'basic', source, session: undefined } satisfies AdminPrincipal;
      return next();
    }
    const session = this.#sessions.get(cookieOf(req, SESSION_COOKIE));
    if (session === undefined) {
      this.#unauthorized(req, res, 'Sign in first: open the console at /admin, or send HTTP Basic credentials of an admin account (SIPLET_ADMIN_USER / SIPLET_ADMIN_PASSWORD).');
      return;
    }
    if (!SAFE_METHODS.has(req.method) && !ConsoleSessions.csrfMatches(session, headerOf(req, CSRF_HEADER))) {
      this.#log.warn({ source, user: session.user, method: req.method, path: req.originalUrl }, 'admin change without its CSRF token refused');
      sendError(res, 403, 'SIPLET_ADMIN_CSRF_REJECTED', 'This change needs the console session\'s CSRF token in the X-CSRF-Token header: reload the console and try again.');
      return;
    }
    res.locals['admin'] = { user: session.user, via: 'session', source, session } satisfies AdminPrincipal;
    next();
  };

  /** `POST /admin/api/session` with `{ username, password }`: opens a console session (cookie), answers its CSRF token. */
  readonly login: RequestHandler = async (req, res) => {
    const source = sourceOf(req);
    const body = (req.body ?? {}) as { username?: unknown; password?: unknown };
    if (typeof body.username !== 'string' || typeof body.password !== 'string' || body.username === '' || body.password === '') {
      sendError(res, 400, 'SIPLET_ADMIN_BAD_REQUEST', 'Give the admin user name and password: a JSON body { "username": "…", "password": "…" }.');
      return;
    }
    if (!this.#allowedToTry(source, body.username, res)) return;
    if (!(await this.#facade.verifyAdmin(body.username, body.password))) {
      this.#failed(source, body.username, 'console');
      sendError(res, 401, 'SIPLET_ADMIN_UNAUTHORIZED', 'Wrong user name or password. The first start printed the generated password once; SIPLET_ADMIN_PASSWORD sets it.');
      return;
    }
    this.#throttle.succeed(source);
    const session = this.#sessions.create(body.username, source);
    this.#log.info({ audit: true, user: session.user, source, action: 'login' }, `admin ${session.user} signed in to the console from ${source}`);
    res.cookie(SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/admin' });
    res.status(200).json({ user: session.user, via: 'session', csrfToken: session.csrfToken });
  };

  /** `DELETE /admin/api/session`: ends the console session (after `authenticate`). */
  readonly logout: RequestHandler = (_req, res) => {
    const principal = principalOf(res);
    if (principal.session !== undefined) this.#sessions.delete(principal.session.id);
    this.#log.info({ audit: true, user: principal.user, source: principal.source, action: 'logout' }, `admin ${principal.user} signed out from ${principal.source}`);
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/admin' });
    res.status(204).end();
  };

  /** After an admin's password changed: their other sessions and cached credentials end. */
  passwordChanged(user: string, keepSession?: string): void {
    this.#sessions.deleteUser(user, keepSession);
    for (const [key, entry] of this.#verified) if (entry.user === user) this.#verified.delete(key);
  }

  async #basic(header: string, source: string, res: Response): Promise<string | undefined> {
    const key = createHash('sha256').update(header).digest('base64url');
    const now = Date.now();
    const cached = this.#verified.get(key);
    if (cached !== undefined && cached.until > now) return cached.user;
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    if (!this.#allowedToTry(source, user, res)) return undefined;
    if (user === '' || password === '' || !(await this.#facade.verifyAdmin(user, password))) {
      this.#failed(source, user, 'basic');
      res.setHeader('WWW-Authenticate', CHALLENGE);
      sendError(res, 401, 'SIPLET_ADMIN_UNAUTHORIZED', 'Wrong user or password for the admin API');
      return undefined;
    }
    this.#throttle.succeed(source);
    if (this.#verified.size >= BASIC_CACHE_MAX) this.#verified.delete(this.#verified.keys().next().value as string);
    this.#verified.set(key, { user, until: now + BASIC_CACHE_MS });
    return user;
  }

  #allowedToTry(source: string, user: string, res: Response): boolean {
    const wait = this.#throttle.retryAfter(source);
    if (wait === 0) return true;
    this.#log.warn({ source, user, retryAfterSeconds: wait }, 'admin login refused: too many failures from this address');
    res.setHeader('Retry-After', String(wait));
    sendError(res, 429, 'SIPLET_ADMIN_RATE_LIMITED', `Too many failed logins from ${source}: try again in ${wait} s, with the right password.`);
    return false;
  }

  #failed(source: string, user: string, via: 'basic' | 'console'): void {
    const locked = this.#throttle.fail(source);
    this.#log.warn({ source, user, via, lockedForSeconds: locked || undefined }, `failed admin login for "${user}" from ${source}${locked ? `: address locked for ${locked} s` : ''}`);
  }

  #unauthorized(req: Request, res: Response, message: string): void {
    // The console handles 401 itself; a challenge would make the browser pop up its own login box.
    if (req.headers[CONSOLE_HEADER] === undefined) res.setHeader('WWW-Authenticate', CHALLENGE);
    sendError(res, 401, 'SIPLET_ADMIN_UNAUTHORIZED', message);
  }
}

function headerOf(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function cookieOf(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
