import type { B2buaHelper, Proxy } from '../../api/index.js';
import type { IncomingRequest } from './incoming-request.js';
import type { IncomingResponse } from './incoming-response.js';
import type { OutgoingRequest } from './outgoing-request.js';
import type { OutgoingResponse } from './outgoing-response.js';

/**
 * What the container's message objects need from the user-agent core that
 * sends them: the messages hold state, the runtime owns transactions, dialogs
 * and the wire. Implemented by the container; faked in unit tests.
 */
export interface MessageRuntime {
  /** Sends a response to a received request through its server transaction (UAS). */
  sendResponse(response: OutgoingResponse): Promise<void>;
  /** RFC 3262: sends a 1xx reliably; resolves when the PRACK arrives, rejects on timeout. */
  sendReliably(response: OutgoingResponse): Promise<void>;
  /** Sends a request the app created or built in a dialog (UAC), ACK included. */
  sendRequest(request: OutgoingRequest): Promise<void>;
  /** Cancels a sent INVITE (RFC 3261 §9.1). */
  cancel(invite: OutgoingRequest): Promise<void>;
  /** ACK for a 2xx response (RFC 3261 §13.2.2.4), to be sent by the app. */
  createAck(response: IncomingResponse): OutgoingRequest;
  /** PRACK for a reliable provisional response (RFC 3262 §7.2). */
  createPrack(response: IncomingResponse): OutgoingRequest;
  getProxy(request: IncomingRequest, create: boolean): Proxy;
  getB2buaHelper(request: IncomingRequest | OutgoingRequest): B2buaHelper;
}
