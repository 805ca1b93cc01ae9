import type { TransactionLayer } from '../sip/transaction/index.js';
import type { Logger } from '../util/index.js';
import type { DeployedApp } from './deployed-app.js';
import type { IncomingRequest, IncomingResponse, MessageRuntime } from './message/index.js';
import type { SipNetwork } from './network.js';
import type { ApplicationSessionImpl, SessionManager, SipSessionImpl } from './session/index.js';
import type { Address } from '../api/index.js';

/** What the UAS and UAC cores share with the container that owns them. */
export interface CoreHost {
  readonly transactions: TransactionLayer;
  readonly network: SipNetwork;
  readonly sessions: SessionManager;
  readonly runtime: MessageRuntime;
  readonly log: Logger;
  /** T1 and T2 in ms (RFC 3261 §17), for the retransmissions the cores run themselves. */
  readonly t1: number;
  readonly t2: number;
  /** The deployed application (version) a session belongs to. */
  appOf(session: SipSessionImpl): DeployedApp | undefined;
  createSession(app: DeployedApp, appSession: ApplicationSessionImpl, init: { callId: string; local: Address; remote: Address; role: 'UAC' | 'UAS'; derivedFrom?: SipSessionImpl }): SipSessionImpl;
  /** Runs the session's servlet for a request, in the application session's queue, with fault isolation. */
  dispatchRequest(request: IncomingRequest): void;
  /** Runs the session's servlet for a response, in the application session's queue. */
  dispatchResponse(response: IncomingResponse): void;
}
