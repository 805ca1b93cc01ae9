import type { RequestHandlerRecord, ResponseHandlerKind, ResponseHandlerRecord } from '../../api/index.js';
import type { RequestHandlerEntry, ResponseHandlerEntry } from './application-model.js';

/**
 * The JSR 359 handler tables of a plain-class servlet, and the rule that picks the most specific
 * handler for a message.
 *
 * Requests: the handler of the request's method, else `@AnyMethod()`.
 * Responses: a status filter beats a method filter, which beats a response class
 * (`@SuccessResponse` …), which beats `@AnyResponse`. Branch responses (proxy intermediate
 * responses) go only to `@BranchResponse` and `@AnyResponse`, as `doBranchResponse` in a
 * `SipServlet`. Two handlers with the same decorator and filter make the servlet ambiguous: a
 * deployment error.
 */

export interface HandlerTables {
  readonly requestHandlers: ReadonlyMap<string, RequestHandlerEntry>;
  readonly responseHandlers: readonly ResponseHandlerEntry[];
}

const KIND_DECORATOR: Readonly<Record<ResponseHandlerKind, string>> = {
  provisional: 'ProvisionalResponse',
  success: 'SuccessResponse',
  redirect: 'RedirectResponse',
  error: 'ErrorResponse',
  branch: 'BranchResponse',
  any: 'AnyResponse',
};

/** Builds the tables, or says what is wrong with the handlers of servlet `servletName`. */
export function buildHandlerTables(
  servletName: string,
  requests: readonly RequestHandlerRecord[],
  responses: readonly ResponseHandlerRecord[],
): { ok: true; tables: HandlerTables } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const requestHandlers = new Map<string, RequestHandlerEntry>();
  for (const record of requests) {
    const name = String(record.methodName);
    if (record.isStatic) {
      errors.push(`Servlet '${servletName}': ${record.decorator} is on static method ${name}; handlers must be instance methods (remove 'static').`);
      continue;
    }
    const existing = requestHandlers.get(record.sipMethod);
    if (existing !== undefined) {
      if (existing.methodName !== record.methodName) errors.push(ambiguous(servletName, existing.methodName, record.methodName, record.decorator));
      continue;
    }
    requestHandlers.set(record.sipMethod, { methodName: record.methodName, sipMethod: record.sipMethod, decorator: record.decorator });
  }

  const byKey = new Map<string, ResponseHandlerEntry>();
  for (const record of responses) {
    const name = String(record.methodName);
    if (record.isStatic) {
      errors.push(`Servlet '${servletName}': ${record.decorator} is on static method ${name}; handlers must be instance methods (remove 'static').`);
      continue;
    }
    const filterError = checkFilter(record);
    if (filterError !== undefined) {
      errors.push(`Servlet '${servletName}': ${record.decorator} on ${name} ${filterError}`);
      continue;
    }
    const { method, status } = record.filter;
    const key = `${record.kind}|${method ?? '*'}|${status ?? '*'}`;
    const existing = byKey.get(key);
    if (existing !== undefined) {
      if (existing.methodName !== record.methodName) errors.push(ambiguous(servletName, existing.methodName, record.methodName, record.decorator));
      continue;
    }
    byKey.set(key, {
      methodName: record.methodName,
      kind: record.kind,
      method,
      status,
      decorator: record.decorator,
      specificity: (status === undefined ? 0 : 4) + (method === undefined ? 0 : 2) + (record.kind === 'any' ? 0 : 1),
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  const responseHandlers = [...byKey.values()].sort((a, b) => b.specificity - a.specificity);
  return { ok: true, tables: { requestHandlers, responseHandlers } };
}

/** The request handler for `method`: its own, else `@AnyMethod()`, else none. */
export function selectRequestHandler(
  handlers: ReadonlyMap<string, RequestHandlerEntry>,
  method: string,
): RequestHandlerEntry | undefined {
  return handlers.get(method) ?? handlers.get('*');
}

/** The most specific response handler (`handlers` sorted most specific first), or none. */
export function selectResponseHandler(
  handlers: readonly ResponseHandlerEntry[],
  status: number,
  method: string,
  branch: boolean,
): ResponseHandlerEntry | undefined {
  const kind = branch ? 'branch' : responseClass(status);
  for (const handler of handlers) {
    if (handler.kind !== kind && handler.kind !== 'any') continue;
    if (handler.method !== undefined && handler.method !== method) continue;
    if (handler.status !== undefined && handler.status !== status) continue;
    return handler;
  }
  return undefined;
}

function responseClass(status: number): ResponseHandlerKind {
  if (status < 200) return 'provisional';
  if (status < 300) return 'success';
  if (status < 400) return 'redirect';
  return 'error';
}

function checkFilter(record: ResponseHandlerRecord): string | undefined {
  const { method, status } = record.filter;
  if (method !== undefined && (typeof method !== 'string' || method.length === 0)) {
    return `has method ${JSON.stringify(method)}: give a SIP method name such as 'INVITE', or leave method out.`;
  }
  if (status === undefined) return undefined;
  if (!Number.isInteger(status) || status < 100 || status > 699) {
    return `has status ${JSON.stringify(status)}: give a status code from 100 to 699, or leave status out.`;
  }
  if (record.kind === 'any' || record.kind === 'branch') return undefined;
  if (responseClass(status) !== record.kind) {
    return `can never match: ${status} is not a ${record.kind} status. Use @${KIND_DECORATOR[responseClass(status)]}({ status: ${status} }) or @AnyResponse({ status: ${status} }).`;
  }
  return undefined;
}

function ambiguous(servletName: string, first: string | symbol, second: string | symbol, decorator: string): string {
  return (
    `Servlet '${servletName}': methods ${String(first)} and ${String(second)} both handle ${decorator}, so neither is more specific. ` +
    'Keep one, or narrow one of them with a method or status filter.'
  );
}
