import type { SipRequest, SipResponse, SipUri } from '../sip/message/index.js';
import type { Destination, Protocol } from '../sip/transport/index.js';

/**
 * What the container needs of the SIP stack below the transaction layer:
 * RFC 3263 resolution, our Via and Contact addresses, and sending a request
 * outside any transaction (the ACK for a 2xx). The composition root builds it
 * over the transport layer; tests build it over an in-memory network.
 */
export interface SipNetwork {
  /** RFC 3263: ordered destinations for a SIP URI (empty when it cannot be resolved). */
  resolve(uri: SipUri): Promise<Destination[]>;
  /** Puts our top Via (with `branch`) on the request and picks the transport (§18.1.1). */
  prepareRequest(request: SipRequest, destination: Destination, branch: string): Destination;
  sendRequest(request: SipRequest, destination: Destination): Promise<void>;
  /** Our address for Via sent-by and Contact, for a protocol. */
  sentBy(protocol: Protocol, family?: 4 | 6): { host: string; port: number };
  /** True when a URI's host and port name this server (RFC 3261 §16.4). */
  isOurs(uri: SipUri): boolean;
  /** True when a Request-URI is for a domain this server serves (its addresses or configured domains). */
  isLocalDomain(uri: SipUri): boolean;
  /** True when requests no application takes may be relayed to this URI's domain. */
  mayRelay(uri: SipUri): boolean;
  /** Forwards a response statelessly along its Via (RFC 3261 §16.11); our Via must be gone already. */
  forwardResponse(response: SipResponse): Promise<void>;
}
