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
  /** Cancels every pending branch (the caller's CANCEL does too); afterwards only doResponse may start branches, elsewhere IllegalStateError. */
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
  /**
   * Observes every response a branch gets (a Siplet extension, for helpers built on the Proxy):
   * provisional and final, received or made up by the container (408 at a branch timeout, 487 for a
   * branch cancelled before its first provisional, 503 on a transport error, 404 for a target that
   * does not resolve). Supervised or not, and whether or not the servlet's callbacks see it.
   * Returns a function that removes the listener.
   *
   * Hazards: called synchronously as the response arrives, outside the application session's queue
   * and before the proxy acts on it: a listener that creates and starts branches on a final response
   * keeps the proxy going, as doResponse may (JSR 289 §10.2.4.1). A listener that throws is logged
   * and ignored.
   */
  onBranchResponse(listener: (response: SipServletResponse, branch: ProxyBranch) => void): () => void;
  /**
   * Observes the final response the proxy sends upstream (the first 2xx, or the best response;
   * `branch` is the branch it came from, undefined when the proxy answered itself, e.g. 483), once.
   * Same hazards as `onBranchResponse`. Returns a function that removes the listener.
   */
  onFinalResponse(listener: (response: SipServletResponse, branch: ProxyBranch | undefined) => void): () => void;
}
