import type { SecurityConstraintModel } from '../model/index.js';

/** What a request needs before its servlet may see it: the union of the constraints that cover it. */
export interface Protection {
  /** 407 and Proxy-Authorization (RFC 3261 §22.3) rather than 401 and Authorization (§22.2). */
  readonly proxy: boolean;
  /** The roles any of which admits the user; `undefined`: any authenticated user. */
  readonly roles: readonly string[] | undefined;
}

/**
 * The protection of a request under an app's security constraints, or `undefined` when none
 * covers it. A constraint covers a request when its method and its servlet are listed (an empty
 * list covers all); a request inside a dialog only when the constraint lists its method by name,
 * so that an app protecting INVITE does not challenge every BYE.
 *
 * Several covering constraints combine as the servlet specification combines them: proxy
 * authentication when any asks for it, and any authenticated user when one names no roles,
 * otherwise the union of their roles.
 *
 * Hazard: ACK and CANCEL are never covered (RFC 3261 §22.1): they cannot be resubmitted with
 * credentials, and an ACK belongs to an INVITE already authenticated.
 */
export function protectionFor(
  constraints: readonly SecurityConstraintModel[],
  method: string,
  servlet: string,
  initial: boolean,
): Protection | undefined {
  if (constraints.length === 0 || method === 'ACK' || method === 'CANCEL') return undefined;
  let covered = false;
  let proxy = false;
  let anyUser = false;
  let roles: string[] | undefined;
  for (const c of constraints) {
    if (c.methods.length === 0 ? !initial : !c.methods.includes(method)) continue;
    if (c.servletNames.length > 0 && !c.servletNames.includes(servlet)) continue;
    covered = true;
    proxy ||= c.proxyAuthentication;
    if (c.roles.length === 0) anyUser = true;
    else (roles ??= []).push(...c.roles);
  }
  if (!covered) return undefined;
  return { proxy, roles: anyUser ? undefined : roles };
}
