import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from '../util/index.js';

/** A request handler as Node's `http` module sees it (an express Router is one). */
export type AppRequestHandler = {
  handle(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): unknown;
}['handle'];

/** First path segments that belong to Siplet itself: no application's routes may take them. */
export const RESERVED_PATHS: ReadonlySet<string> = new Set(['admin', 'health']);

/**
 * The dispatch table of converged applications' routes: `/<name>/…` goes to the routes mounted
 * under `name`, found by the request's first path segment, so apps never see each other's routes
 * and the order they were deployed in does not matter. Mounting a name again swaps its routes
 * (a redeploy); requests already inside the old routes finish there.
 *
 * Inside the app's routes `req.baseUrl` is `/<name>` and paths are relative to it. An error an app
 * throws or passes to `next` is logged with the app's name and answered with its `status` (4xx
 * from body parsers) or 500, never with a stack trace. These routes are public: no admin login.
 */
export class AppRoutes {
  readonly #log: Logger;
  readonly #mounts = new Map<string, RequestHandler>();
  /** The middleware to put on the express app. */
  readonly dispatch: RequestHandler;

  constructor(logger: Logger) {
    this.#log = logger;
    this.dispatch = (req: Request, res: Response, next: NextFunction): void => {
      const path = req.path;
      const end = path.indexOf('/', 1);
      const mounted = this.#mounts.get(end < 0 ? path.slice(1) : path.slice(1, end));
      if (mounted === undefined) {
        next();
        return;
      }
      void mounted(req, res, next);
    };
  }

  /** Puts (or swaps) an application's routes under `/<name>/`. Throws for a reserved or malformed name. */
  mount(name: string, handler: AppRequestHandler): void {
    if (RESERVED_PATHS.has(name)) throw new Error(`/${name} is Siplet's own path: rename the application to serve HTTP routes`);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error(`${JSON.stringify(name)} cannot be a path segment`);
    const router = express.Router();
    router.use(`/${name}`, handler as RequestHandler, this.#errors(name));
    this.#mounts.set(name, router);
  }

  unmount(name: string): void {
    this.#mounts.delete(name);
  }

  /** The names mounted, sorted. */
  names(): string[] {
    return [...this.#mounts.keys()].sort();
  }

  /** Fault isolation for one app's routes. */
  #errors(name: string): express.ErrorRequestHandler {
    return (error: unknown, _req: Request, res: Response, _next: NextFunction): void => {
      const status = statusOf(error);
      if (status >= 500) this.#log.error({ err: error, app: name }, `the HTTP routes of ${name} failed`);
      else this.#log.debug({ err: error, app: name, status }, 'an HTTP request to an application was refused');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const exposed = status < 500 && (error as { expose?: unknown }).expose === true ? (error as Error).message : undefined;
      res.status(status).json({ error: exposed ?? (status >= 500 ? 'Internal Server Error' : 'Bad Request') });
    };
  }
}

/** The HTTP status an error carries (http-errors style `status` / `statusCode`, 4xx or 5xx), else 500. */
function statusOf(error: unknown): number {
  const e = error as { status?: unknown; statusCode?: unknown } | undefined;
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : 500;
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}
