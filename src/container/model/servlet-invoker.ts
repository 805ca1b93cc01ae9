import {
  NOT_HANDLED_ATTRIBUTE,
  SipServlet,
  type SipServletConfig,
  type SipServletRequest,
  type SipServletResponse,
} from '../../api/index.js';
import type { ResponseHandlerEntry, ServletModel } from './application-model.js';
import { selectRequestHandler, selectResponseHandler } from './handler-table.js';

/**
 * One servlet instance as the container drives it, whatever its style: a `SipServlet` subclass
 * (doRequest/doResponse) or a plain class with JSR 359 handler decorators.
 *
 * Every method returns a promise that rejects with whatever the app threw, synchronously or not;
 * the dispatcher turns that into a response (STYLE habit 5).
 */
export interface ServletInvoker {
  readonly name: string;
  handleRequest(request: SipServletRequest): Promise<void>;
  handleResponse(response: SipServletResponse): Promise<void>;
  /** JSR 289 `init`: a plain class gets it only when it has an `init(config)` method. */
  init(config: SipServletConfig): Promise<void>;
  /** JSR 289 `destroy`: a plain class gets it only when it has a `destroy()` method. */
  destroy(): Promise<void>;
}

/** Requests the JSR 289 default never answers (`SipServlet.doAck`, `doCancel` do nothing). */
const NEVER_ANSWERED = new Set(['ACK', 'CANCEL']);

/** Response-handler choices of one method name are cached per status; beyond this many method names the cache restarts. */
const MAX_CACHED_METHODS = 64;

/**
 * Wraps `instance` (constructed by the app's DI container from `servlet.ctor`).
 *
 * For a plain class, a request no handler takes gets `NOT_HANDLED_ATTRIBUTE` set, exactly as the
 * `SipServlet` base class does, so that the container answers an initial request 500 (501 for an
 * unknown method); ACK and CANCEL never get it. A response no handler takes is dropped.
 *
 * Hazard: throws when a `servlet`-kind model gets an instance that is not a `SipServlet` (a
 * `configure` hook that rebound the class to something else).
 */
export function createServletInvoker(servlet: ServletModel, instance: object): ServletInvoker {
  if (servlet.kind === 'servlet') {
    if (!(instance instanceof SipServlet)) {
      throw new TypeError(
        `Servlet '${servlet.name}': the DI container returned ${describe(instance)} for class ${servlet.ctor.name}, not a SipServlet; do not rebind servlet classes in configure().`,
      );
    }
    return servletInvoker(servlet.name, instance);
  }
  return pojoInvoker(servlet, instance as Record<string | symbol, unknown>);
}

function servletInvoker(name: string, servlet: SipServlet): ServletInvoker {
  return {
    name,
    async handleRequest(request) {
      await servlet.doRequest(request);
    },
    async handleResponse(response) {
      await servlet.doResponse(response);
    },
    async init(config) {
      await servlet.init(config);
    },
    async destroy() {
      await servlet.destroy();
    },
  };
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

function pojoInvoker(servlet: ServletModel, instance: Record<string | symbol, unknown>): ServletInvoker {
  const call = (methodName: string | symbol, message: unknown): unknown => {
    const method = instance[methodName];
    if (typeof method !== 'function') {
      throw new TypeError(`Servlet '${servlet.name}': ${String(methodName)} is not a method of the instance the DI container returned.`);
    }
    return (method as Method).call(instance, message);
  };
  const optional = (methodName: string, ...args: unknown[]): unknown => {
    const method = instance[methodName];
    return typeof method === 'function' ? (method as Method).apply(instance, args) : undefined;
  };

  // method -> (status, plus 1000 for branch responses) -> handler or null (none)
  const cache = new Map<string, (ResponseHandlerEntry | null)[]>();
  const responseHandler = (response: SipServletResponse): ResponseHandlerEntry | null => {
    const method = response.getMethod();
    const status = response.getStatus();
    const branch = response.isBranchResponse();
    let byStatus = cache.get(method);
    if (byStatus === undefined) {
      if (cache.size >= MAX_CACHED_METHODS) cache.clear();
      byStatus = [];
      cache.set(method, byStatus);
    }
    const slot = branch ? status + 1000 : status;
    let handler = byStatus[slot];
    if (handler === undefined) {
      handler = selectResponseHandler(servlet.responseHandlers, status, method, branch) ?? null;
      byStatus[slot] = handler;
    }
    return handler;
  };

  return {
    name: servlet.name,
    async handleRequest(request) {
      const method = request.getMethod();
      const handler = selectRequestHandler(servlet.requestHandlers, method);
      if (handler === undefined) {
        if (!NEVER_ANSWERED.has(method)) request.setAttribute(NOT_HANDLED_ATTRIBUTE, true);
        return;
      }
      await call(handler.methodName, request);
    },
    async handleResponse(response) {
      const handler = responseHandler(response);
      if (handler !== null) await call(handler.methodName, response);
    },
    async init(config) {
      await optional('init', config);
    },
    async destroy() {
      await optional('destroy');
    },
  };
}

function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  return `an instance of ${value.constructor?.name ?? 'Object'}`;
}
