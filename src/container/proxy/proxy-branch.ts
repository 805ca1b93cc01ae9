import { IllegalStateError, type ProxyBranch, type SipServletRequest, type SipServletResponse } from '../../api/index.js';
import type { SipRequest, SipResponse, Uri } from '../../sip/message/index.js';
import type { ClientTransaction } from '../../sip/transaction/index.js';
import type { OutgoingRequest } from '../message/index.js';

export type BranchState = 'created' | 'started' | 'provisional' | 'done';

/** What a branch reports to its proxy. */
export interface BranchOwner {
  startBranch(branch: ProxyBranchImpl): void;
  cancelBranch(branch: ProxyBranchImpl): void;
}

/**
 * One target of a proxy operation (JSR 289 ProxyBranch): its copy of the
 * request, its client transaction once started, and its last response.
 */
export class ProxyBranchImpl implements ProxyBranch {
  readonly target: Uri;
  readonly request: OutgoingRequest;
  readonly #owner: BranchOwner;
  /** Branches created from this one's 3xx Contacts (recursion). */
  readonly recursed: ProxyBranchImpl[] = [];
  state: BranchState = 'created';
  transaction: ClientTransaction | undefined;
  response: SipResponse | undefined;
  responseWrapper: SipServletResponse | undefined;
  /** Seconds this branch may take before it is cancelled (0: the proxy's timeout). */
  timeoutSeconds = 0;
  timer: NodeJS.Timeout | undefined;
  cancelled = false;

  constructor(owner: BranchOwner, target: Uri, request: OutgoingRequest) {
    this.#owner = owner;
    this.target = target;
    this.request = request;
  }

  get message(): SipRequest {
    return this.request.message;
  }

  getTarget(): Uri {
    return this.target.clone();
  }

  getRequest(): SipServletRequest {
    return this.request;
  }

  getResponse(): SipServletResponse | undefined {
    return this.responseWrapper;
  }

  isStarted(): boolean {
    return this.state !== 'created';
  }

  /** True while the branch waits for a final response. */
  get pending(): boolean {
    return this.state === 'started' || this.state === 'provisional';
  }

  cancel(): void {
    if (this.state === 'done') throw new IllegalStateError('this branch already has its final response');
    this.#owner.cancelBranch(this);
  }

  setProxyBranchTimeout(seconds: number): void {
    if (!(seconds > 0)) throw new RangeError(`a branch timeout must be > 0 seconds, got ${seconds}`);
    this.timeoutSeconds = seconds;
  }

  getRecursedProxyBranches(): ProxyBranch[] {
    return [...this.recursed];
  }
}
