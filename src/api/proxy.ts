import type { Uri } from '../sip/message/index.js';
import type { SipServletRequest, SipServletResponse } from './message.js';

/** One target of a proxy operation (JSR 289 ProxyBranch). */
export interface ProxyBranch {
  getTarget(): Uri;
  getRequest(): SipServletRequest;
  getResponse(): SipServletResponse | undefined;
  isStarted(): boolean;
  cancel(): void;
  setProxyBranchTimeout(seconds: number): void;
  getRecursedProxyBranches(): ProxyBranch[];
}

export interface ProxyOptions {
  /** Fork to all targets at once (default) or one after another. */
  parallel?: boolean;
  recordRoute?: boolean;
  /** Call doResponse for intermediate (branch) responses too (default true). */
  supervised?: boolean;
  /** Follow 3xx Contacts (default true). */
  recurse?: boolean;
  /** Seconds a sequential branch may ring before the next one starts (default: the app's proxyTimeout). */
  proxyTimeout?: number;
  /** Add a Path header (RFC 3327) when proxying REGISTER. */
  addToPath?: boolean;
}

/** Proxying of an initial request (JSR 289 §10). */
export interface Proxy {
  getOriginalRequest(): SipServletRequest;
  proxyTo(targets: Uri | Uri[]): void;
  createProxyBranches(targets: Uri[]): ProxyBranch[];
  startProxy(): void;
  getProxyBranches(): ProxyBranch[];
  getProxyBranch(uri: Uri): ProxyBranch | undefined;
  cancel(): void;
  setParallel(parallel: boolean): void;
  getParallel(): boolean;
  setRecordRoute(recordRoute: boolean): void;
  getRecordRoute(): boolean;
  /** The URI put in Record-Route; its parameters come back on subsequent requests. */
  getRecordRouteURI(): Uri;
  setSupervised(supervised: boolean): void;
  getSupervised(): boolean;
  setRecurse(recurse: boolean): void;
  getRecurse(): boolean;
  setProxyTimeout(seconds: number): void;
  getProxyTimeout(): number;
  setAddToPath(addToPath: boolean): void;
  getAddToPath(): boolean;
  getPathURI(): Uri;
}
