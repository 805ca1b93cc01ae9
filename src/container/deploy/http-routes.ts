import type { AppData, HttpContext, HttpHandler } from '../../api/index.js';
import type { HttpModel } from '../model/index.js';

/**
 * Turns what an app's `http.router` names into its request handler: a router factory is called
 * with the app's context (once per deployment; it may be async), an express Router (or any
 * `(req, res, next)` handler) is taken as it is. Throws with a message saying what to export.
 */
export async function buildHttpHandler(http: HttpModel, context: HttpContext): Promise<HttpHandler> {
  const exported = http.handler as ((...args: unknown[]) => unknown) & { stack?: unknown; handle?: unknown };
  if (isHandler(exported)) return exported as HttpHandler;
  const routes = await exported(context);
  if (typeof routes !== 'function') {
    throw new TypeError(
      `its HTTP router factory '${http.router}' returned ${routes === null ? 'null' : typeof routes}, not a request handler: return an express Router (express.Router() from 'siplet/sdk')`,
    );
  }
  return routes as HttpHandler;
}

/** An express Router (it has `stack` and `handle`) or a plain `(req, res[, next])` handler; a factory takes one argument. */
function isHandler(fn: ((...args: unknown[]) => unknown) & { stack?: unknown; handle?: unknown }): boolean {
  return Array.isArray(fn.stack) || typeof fn.handle === 'function' || fn.length >= 2;
}

/** `HttpContext.data` of an app deployed without a data store (an embedding that gave none). */
export const NO_APP_DATA: AppData = {
  get: () => Promise.reject(noStore()),
  set: () => Promise.reject(noStore()),
  delete: () => Promise.reject(noStore()),
  list: () => Promise.reject(noStore()),
};

function noStore(): Error {
  return new Error('this Siplet was started without a data store, so APP_DATA is not available: pass a store to createSipStack');
}
