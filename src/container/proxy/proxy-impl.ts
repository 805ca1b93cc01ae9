import { IllegalStateError, type Proxy, type ProxyBranch, type SipServletRequest, type SipServletResponse } from '../../api/index.js';
import { createResponse, SipUri, type NameAddress, type SipResponse, type Uri } from '../../sip/message/index.js';
import { newBranch, type ClientInviteTransaction, type ServerTransaction } from '../../sip/transaction/index.js';
import type { Destination } from '../../sip/transport/index.js';
import type { Logger } from '../../util/index.js';
import { IncomingResponse, OutgoingRequest, type IncomingRequest, type MessageRuntime } from '../message/index.js';
import type { SipNetwork } from '../index.js';
import type { SipSessionImpl } from '../session/index.js';
import type { TransactionLayer } from '../../sip/transaction/index.js';
import { chooseBestResponse, prepareBestResponse } from './best-response.js';
import { ProxyBranchImpl, type BranchOwner } from './proxy-branch.js';
import { ourUri, SESSION_PARAM, sessionRef } from './record-route.js';

/** What a proxy needs from the container. */
export interface ProxyHost {
  readonly transactions: TransactionLayer;
  readonly network: SipNetwork;
  readonly runtime: MessageRuntime;
  readonly log: Logger;
  /** Runs a task in the session's application-session queue (one event at a time). */
  enqueue(session: SipSessionImpl, task: () => Promise<void> | void): void;
  /** The app's doResponse (or doBranchResponse) for a response, with fault isolation; call it inside `enqueue`. */
  invokeResponse(response: IncomingResponse): Promise<void>;
  /** Application composition (JSR 289 §15.4.1): Routes to push on a proxied initial request, if the router picks another app. */
  continueRouting(branchRequest: OutgoingRequest, original: IncomingRequest): NameAddress[];
}

/**
 * Proxying of an initial request (JSR 289 §10, RFC 3261 §16): parallel or
 * sequential branches, Record-Route with a URI whose parameters come back on
 * subsequent requests, supervised responses, recursion on 3xx, branch and
 * proxy timeouts, cancellation, and best-response selection (§16.7).
 */
export class ProxyImpl implements Proxy, BranchOwner {
  readonly #host: ProxyHost;
  readonly original: IncomingRequest;
  readonly #session: SipSessionImpl;
  #parallel = true;
  #recordRoute = false;
  #supervised = true;
  #recurse = true;
  #proxyTimeout: number;
  #addToPath = false;
  readonly #branches: ProxyBranchImpl[] = [];
  #rrUri: SipUri | undefined;
  #pathUri: SipUri | undefined;
  readonly #finals: SipResponse[] = [];
  #started = false;
  #finalSent = false;
  #success = false;
  #cancelled = false;
  /** Set while the app's doResponse for the best response runs: branches it starts keep the proxy going. */
  #choosing = false;
  #restarted = false;
  readonly #branchListeners: Array<(response: SipServletResponse, branch: ProxyBranch) => void> = [];
  readonly #finalListeners: Array<(response: SipServletResponse, branch: ProxyBranch | undefined) => void> = [];

  constructor(host: ProxyHost, original: IncomingRequest, proxyTimeoutSeconds: number) {
    this.#host = host;
    this.original = original;
    this.#session = original.getSession();
    this.#proxyTimeout = proxyTimeoutSeconds;
  }

  getOriginalRequest(): SipServletRequest {
    return this.original;
  }

  get recordRouted(): boolean {
    return this.#recordRoute && this.#started;
  }

  proxyTo(targets: Uri | Uri[]): void {
    const list = Array.isArray(targets) ? targets : [targets];
    if (list.length === 0) throw new RangeError('proxyTo needs at least one target');
    this.createProxyBranches(list);
    this.startProxy();
  }

  createProxyBranches(targets: Uri[]): ProxyBranch[] {
    this.#checkOpen();
    const created: ProxyBranchImpl[] = [];
    for (const target of targets) {
      if (this.#branches.some((b) => b.target.toString() === target.toString())) continue;
      const branch = this.#newBranch(target);
      this.#branches.push(branch);
      created.push(branch);
    }
    return created;
  }

  startProxy(): void {
    this.#checkOpen();
    if (this.#choosing) this.#restarted = true;
    if (!this.#started) {
      // RFC 3261 §16.3 item 3: no hops left.
      if (this.original.getMaxForwards() === 0) {
        this.#answer(createResponse(this.original.message, 483));
        return;
      }
      this.#started = true;
    }
    const waiting = this.#branches.filter((b) => b.state === 'created');
    if (waiting.length === 0) throw new IllegalStateError('no proxy branch to start: call createProxyBranches or proxyTo with targets first');
    if (this.#parallel) for (const b of waiting) this.startBranch(b);
    else if (!this.#branches.some((b) => b.pending)) this.startBranch(waiting[0] as ProxyBranchImpl);
  }

  getProxyBranches(): ProxyBranch[] {
    return [...this.#branches];
  }

  getProxyBranch(uri: Uri): ProxyBranch | undefined {
    return this.#branches.find((b) => b.target.toString() === uri.toString());
  }

  /** Cancels every pending branch (RFC 3261 §16.10); the best response then goes upstream as usual. */
  cancel(): void {
    this.#cancelled = true;
    for (const b of this.#branches) {
      if (b.pending) this.cancelBranch(b);
      else if (b.state === 'created') b.state = 'done';
    }
    this.#maybeFinish();
  }

  setParallel(parallel: boolean): void {
    this.#parallel = parallel;
  }
  getParallel(): boolean {
    return this.#parallel;
  }
  setRecordRoute(recordRoute: boolean): void {
    if (this.#started) throw new IllegalStateError('record-routing is decided before the proxy starts');
    this.#recordRoute = recordRoute;
  }
  getRecordRoute(): boolean {
    return this.#recordRoute;
  }

  getRecordRouteURI(): Uri {
    if (!this.#recordRoute) throw new IllegalStateError('call setRecordRoute(true) before asking for the Record-Route URI');
    if (this.#rrUri === undefined) {
      const protocol = this.original.source?.protocol ?? 'udp';
      this.#rrUri = ourUri(this.#host.network.sentBy(protocol), protocol);
      const appSession = this.#session.getApplicationSession();
      this.#rrUri.params.set(SESSION_PARAM, sessionRef(appSession.getId(), this.#session.getId()));
    }
    return this.#rrUri;
  }

  setSupervised(supervised: boolean): void {
    this.#supervised = supervised;
  }
  getSupervised(): boolean {
    return this.#supervised;
  }
  setRecurse(recurse: boolean): void {
    this.#recurse = recurse;
  }
  getRecurse(): boolean {
    return this.#recurse;
  }
  setProxyTimeout(seconds: number): void {
    if (!(seconds > 0)) throw new RangeError(`proxy timeout must be > 0 seconds, got ${seconds}`);
    this.#proxyTimeout = seconds;
  }
  getProxyTimeout(): number {
    return this.#proxyTimeout;
  }
  setAddToPath(addToPath: boolean): void {
    this.#addToPath = addToPath;
  }
  getAddToPath(): boolean {
    return this.#addToPath;
  }

  getPathURI(): Uri {
    if (!this.#addToPath) throw new IllegalStateError('call setAddToPath(true) before asking for the Path URI');
    if (this.#pathUri === undefined) {
      const protocol = this.original.source?.protocol ?? 'udp';
      this.#pathUri = ourUri(this.#host.network.sentBy(protocol), protocol);
    }
    return this.#pathUri;
  }

  onBranchResponse(listener: (response: SipServletResponse, branch: ProxyBranch) => void): () => void {
    return addListener(this.#branchListeners, listener);
  }

  onFinalResponse(listener: (response: SipServletResponse, branch: ProxyBranch | undefined) => void): () => void {
    return addListener(this.#finalListeners, listener);
  }

  // ---- branches ---------------------------------------------------------------------

  /** RFC 3261 §16.6: the branch's copy of the request, sent through its own client transaction. */
  startBranch(branch: ProxyBranchImpl): void {
    const msg = branch.message;
    branch.state = 'started';
    msg.set('Max-Forwards', String(Math.max(0, this.original.getMaxForwards() - 1)));
    if (this.#recordRoute) msg.add('Record-Route', `<${this.getRecordRouteURI().toString()}>`, { first: true });
    if (this.#addToPath && msg.method === 'REGISTER') msg.add('Path', `<${this.getPathURI().toString()}>`, { first: true });
    for (const route of [...this.#host.continueRouting(branch.request, this.original)].reverse()) msg.add('Route', route.toString(), { first: true });
    const seconds = branch.timeoutSeconds || this.#proxyTimeout;
    if (msg.method === 'INVITE') {
      branch.timer = setTimeout(() => this.#timedOut(branch), seconds * 1000);
      branch.timer.unref?.();
    }
    void this.#send(branch);
  }

  /** `status`: the final response the branch gets when it had no provisional yet (487; 408 at its timeout, RFC 3261 §16.8). */
  cancelBranch(branch: ProxyBranchImpl, status = 487): void {
    if (branch.cancelled || branch.state === 'done') return;
    branch.cancelled = true;
    const tx = branch.transaction;
    if (tx !== undefined && tx.kind === 'client-invite') {
      // The transaction layer sends the CANCEL once a provisional has arrived (RFC 3261 §9.1).
      this.#host.transactions.createCancel(tx as ClientInviteTransaction).catch(() => undefined);
    }
    if (branch.state === 'started' || tx === undefined) {
      // Nothing provisional yet: do not wait for the far end, the branch is over for this proxy.
      this.#final(branch, createResponse(branch.message, status), false);
    }
  }

  async #send(branch: ProxyBranchImpl): Promise<void> {
    const msg = branch.message;
    const hop = msg.route[0]?.uri ?? msg.uri;
    if (msg.route.length === 0 && hop instanceof SipUri && this.#host.network.isLocalDomain(hop)) {
      // The chain of applications ended and the target is this server itself: sending it would only
      // bring it back to the first application. Nobody serves the address (no location service yet).
      this.#final(branch, createResponse(msg, 404, { reason: 'Not Found (no application serves this address)' }), false);
      return;
    }
    let targets: Destination[] = [];
    if (hop instanceof SipUri) {
      try {
        targets = await this.#host.network.resolve(hop);
      } catch (error) {
        this.#host.log.debug({ err: error, uri: hop.toString() }, 'proxy target resolution failed');
      }
    }
    if (branch.state === 'done') return;
    if (targets.length === 0) {
      this.#final(branch, createResponse(msg, 404, { reason: `Not Found (cannot resolve ${hop.toString()})` }), false);
      return;
    }
    this.#attempt(branch, targets, 0);
  }

  #attempt(branch: ProxyBranchImpl, targets: Destination[], index: number): void {
    const msg = branch.message;
    if (index > 0) msg.removeFirst('via');
    let tx;
    try {
      const destination = this.#host.network.prepareRequest(msg, targets[index] as Destination, newBranch());
      tx = this.#host.transactions.createClientTransaction(msg, destination);
    } catch (error) {
      this.#host.log.warn({ err: error }, 'could not send a proxy branch');
      this.#final(branch, createResponse(msg, 503), false);
      return;
    }
    branch.transaction = tx;
    let answered = false;
    const offResponse = tx.onResponse((response) => {
      answered = true;
      this.#response(branch, response);
      if (tx.state === 'Accepted' && branch.response === response) {
        // RFC 6026 §7.2: for Timer M this branch only relays 2xx retransmissions and other forks'
        // 2xx upstream (§16.7 step 5); the listener that stays must not keep the call alive.
        offResponse();
        tx.onResponse(relay2xx(this.original.transaction as ServerTransaction, this.#host.log));
      }
    });
    tx.onTimeout(() => this.#final(branch, createResponse(msg, 408), false));
    tx.onTransportError(() => {
      if (!answered && index + 1 < targets.length && branch.state !== 'done') this.#attempt(branch, targets, index + 1);
      else this.#final(branch, createResponse(msg, 503), false);
    });
  }

  #timedOut(branch: ProxyBranchImpl): void {
    if (!branch.pending) return;
    this.#host.log.debug({ target: branch.target.toString() }, 'proxy branch timed out');
    // RFC 3261 §16.8: no provisional yet counts as a 408; after one, a CANCEL goes and the 487 follows.
    this.cancelBranch(branch, 408);
    // Sequential proxying moves on at once; the branch's 487 is recorded when it arrives.
    if (branch.state !== 'done') this.#final(branch, createResponse(branch.message, 408), false);
  }

  #response(branch: ProxyBranchImpl, response: SipResponse): void {
    const status = response.status;
    if (status === 100) return;
    if (status < 200) {
      if (branch.state === 'done') return;
      branch.state = 'provisional';
      branch.response = response;
      this.#notifyBranch(branch, response);
      const forward = (): void => {
        if (!this.#finalSent && !branch.cancelled) this.#forward(response);
      };
      this.#deliver(branch, response, false, forward);
      return;
    }
    if (branch.state === 'done') {
      // A 2xx to INVITE again: a retransmission or another fork of the far end; relay it (§16.7 step 5).
      if (status < 300 && response.cseq.method === 'INVITE' && branch.response?.status !== undefined && branch.response.status < 300) this.#forward(response);
      return;
    }
    this.#final(branch, response, true);
  }

  /** A branch reached its final response (received, or made up locally for a timeout or a cancel). */
  #final(branch: ProxyBranchImpl, response: SipResponse, received: boolean): void {
    if (branch.state === 'done') return;
    branch.state = 'done';
    clearTimeout(branch.timer);
    branch.response = response;
    this.#notifyBranch(branch, response);
    const status = response.status;
    if (status < 300) {
      // RFC 3261 §16.7 step 5: a 2xx goes upstream at once; the other branches are cancelled (JSR 289 §10.2.4.1).
      this.#success = true;
      for (const b of this.#branches) if (b !== branch && b.pending) this.cancelBranch(b);
      for (const b of this.#branches) if (b.state === 'created') b.state = 'done';
      this.#deliver(branch, response, false, () => this.#forwardFinal(response, branch));
      return;
    }
    if (status >= 600) {
      for (const b of this.#branches) if (b !== branch && b.pending) this.cancelBranch(b);
      for (const b of this.#branches) if (b.state === 'created') b.state = 'done';
    }
    let recursed = false;
    if (received && status >= 300 && status < 400 && this.#recurse && !this.#cancelled) {
      for (const contact of response.contact) {
        if (contact.wildcard) continue;
        if (this.#branches.some((b) => b.target.toString() === contact.uri.toString())) continue;
        const child = this.#newBranch(contact.uri);
        branch.recursed.push(child);
        this.#branches.push(child);
        recursed = true;
      }
    }
    if (!recursed) this.#finals.push(response);
    const more = this.#branches.some((b) => b.pending || b.state === 'created');
    if (more && received && this.#supervised) this.#deliver(branch, response, true, () => undefined);
    this.#advance();
    this.#maybeFinish();
  }

  /** Sequential proxying: the next branch starts when none is pending. */
  /** Parallel: branches created since (3xx recursion) start at once. Sequential: the next one, once none is pending. */
  #advance(): void {
    if (this.#success || this.#cancelled) return;
    if (this.#parallel) {
      for (const b of this.#branches.filter((x) => x.state === 'created')) this.startBranch(b);
      return;
    }
    if (this.#branches.some((b) => b.pending)) return;
    const next = this.#branches.find((b) => b.state === 'created');
    if (next !== undefined) this.startBranch(next);
  }

  #maybeFinish(): void {
    if (this.#finalSent || this.#success) return;
    if (this.#branches.some((b) => b.pending || (b.state === 'created' && !this.#cancelled))) return;
    const best = chooseBestResponse(this.#finals) ?? createResponse(this.original.message, 408);
    const out = prepareBestResponse(best, this.#finals);
    const branch = this.#branches.find((b) => b.response === best) ?? this.#branches[0];
    if (branch === undefined || !this.#supervised) {
      this.#forwardFinal(out, branch);
      return;
    }
    const wrapper = this.#wrap(branch, out, false);
    this.#host.enqueue(this.#session, async () => {
      this.#choosing = true;
      this.#restarted = false;
      try {
        await this.#host.invokeResponse(wrapper);
      } finally {
        this.#choosing = false;
      }
      // JSR 289 §10.2.4.1: doResponse may start new branches instead of letting the response go.
      if (!this.#restarted) this.#forwardFinal(out, branch);
    });
  }

  /** Tells the app (supervised), then runs `then` in the same queue turn. */
  #deliver(branch: ProxyBranchImpl, response: SipResponse, branchResponse: boolean, then: () => void): void {
    if (!this.#supervised) {
      then();
      return;
    }
    const wrapper = this.#wrap(branch, response, branchResponse);
    branch.responseWrapper = wrapper;
    this.#host.enqueue(this.#session, async () => {
      await this.#host.invokeResponse(wrapper);
      then();
    });
  }

  #wrap(branch: ProxyBranchImpl, response: SipResponse, branchResponse: boolean): IncomingResponse {
    return new IncomingResponse({ response, request: branch.request, session: this.#session, runtime: this.#host.runtime, branchResponse, proxy: this });
  }

  /** Relays a response upstream through the server transaction, our Via removed (§16.7 step 9). */
  #forward(response: SipResponse): void {
    forward(this.original.transaction as ServerTransaction, response, this.#host.log);
  }

  #forwardFinal(response: SipResponse, branch: ProxyBranchImpl | undefined): void {
    if (this.#finalSent && response.status >= 300) return;
    const first = !this.#finalSent;
    this.#finalSent = true;
    this.#forward(response);
    if (!first) return;
    this.#notifyFinal(response, branch);
    this.original.commit();
    const session = this.#session;
    session.transactionEnded();
    if (response.status < 300 && this.#recordRoute && response.cseq.method === 'INVITE') session.setState('CONFIRMED');
    else session.setState('TERMINATED');
  }

  /** Answers the original request directly (483 and the like, before any branch). */
  #answer(response: SipResponse): void {
    this.#finalSent = true;
    (this.original.transaction as ServerTransaction).respond(response);
    this.original.commit();
    this.#session.transactionEnded();
    this.#session.setState('TERMINATED');
    this.#notifyFinal(response, undefined);
  }

  #notifyBranch(branch: ProxyBranchImpl, response: SipResponse): void {
    if (this.#branchListeners.length === 0) return;
    const wrapper = this.#wrap(branch, response, true);
    for (const listener of [...this.#branchListeners]) this.#call(() => listener(wrapper, branch));
  }

  #notifyFinal(response: SipResponse, branch: ProxyBranchImpl | undefined): void {
    const carrier = branch ?? this.#branches[0];
    if (this.#finalListeners.length === 0 || carrier === undefined) return;
    const wrapper = this.#wrap(carrier, response, false);
    for (const listener of [...this.#finalListeners]) this.#call(() => listener(wrapper, branch));
  }

  #call(listener: () => void): void {
    try {
      listener();
    } catch (error) {
      this.#host.log.error({ err: error }, 'a proxy response listener failed');
    }
  }

  #newBranch(target: Uri): ProxyBranchImpl {
    const copy = this.original.message.clone();
    copy.uri = target.clone();
    const request = new OutgoingRequest({ request: copy, session: this.#session, runtime: this.#host.runtime, kind: 'proxied' });
    return new ProxyBranchImpl(this, target.clone(), request);
  }

  #checkOpen(): void {
    if (this.#finalSent && !this.#choosing) throw new IllegalStateError('the proxy already sent its final response upstream');
    if (this.#cancelled && !this.#choosing) throw new IllegalStateError('the proxy was cancelled; it starts no more branches');
    if (this.original.isCommitted() && !this.#choosing) throw new IllegalStateError('the request was already answered; it cannot be proxied');
  }
}

function addListener<T>(listeners: T[], listener: T): () => void {
  listeners.push(listener);
  return () => {
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  };
}

/** Relays a response upstream through the server transaction, our Via removed (§16.7 step 9). */
function forward(upstream: ServerTransaction, response: SipResponse, log: Logger): void {
  const copy = response.clone();
  copy.removeFirst('via');
  if (!upstream.respond(copy)) log.debug({ status: copy.status, state: upstream.state }, 'the upstream transaction refused a relayed response');
}

/** What a branch in Accepted does with a further 2xx to its INVITE: relays it (the first 2xx went already). */
function relay2xx(upstream: ServerTransaction, log: Logger): (response: SipResponse) => void {
  return (response) => {
    if (response.status >= 200 && response.status < 300 && response.cseq.method === 'INVITE') forward(upstream, response, log);
  };
}
