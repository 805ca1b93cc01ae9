import { randomText } from '../../util/index.js';
import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';
import { KNOWN_METHODS, SUPPORTED_OPTION_TAGS, isKnownMethod } from './methods.js';
import { checkRequest } from './request-checks.js';

/** Media types a UAS without applications understands in a body it must read (SDP). */
const ACCEPTED_BODIES = new Set(['application/sdp']);
/** Methods whose body a UAS must understand itself (a session description); others are the app's business. */
const SESSION_METHODS = new Set(['INVITE', 'UPDATE', 'PRACK']);
const ALLOW = KNOWN_METHODS.join(', ');
const ALLOW_WITHOUT_REGISTER = KNOWN_METHODS.filter((m) => m !== 'REGISTER').join(', ');

export function newTag(): string {
  return randomText(6, 'hex');
}

/**
 * How Siplet answers a request that no application takes, acting as a UAS
 * (documented in README, "Requests without an application"):
 *
 * | request | answer |
 * | --- | --- |
 * | fails a stateless check | 400 / 416 / 420 (see `checkRequest`) |
 * | ACK | nothing (absorbed) |
 * | OPTIONS | 200 with Allow, Accept, Supported (RFC 3261 §11.2) |
 * | INVITE/UPDATE/PRACK body of a type other than SDP | 415 with Accept (§8.2.3) |
 * | INVITE whose Accept excludes SDP | 406 (§8.2.3) |
 * | REGISTER | 405 with Allow: no registrar is deployed |
 * | CANCEL matching no transaction; BYE, UPDATE, INFO … in a dialog (To tag) | 481 |
 * | unknown method | 501 with Allow (§8.2.1) |
 * | any other request | 404: no application serves the Request-URI |
 *
 * Returns the response to send, or `undefined` for ACK.
 */
export function answerWithoutApplication(request: SipRequest): SipResponse | undefined {
  const method = request.method;
  if (method === 'ACK') return undefined;
  const refusal = checkRequest(request, { supported: SUPPORTED_OPTION_TAGS, forwarding: false });
  if (refusal !== undefined) {
    const res = reply(request, refusal.status, refusal.reason);
    for (const [name, value] of refusal.headers ?? []) res.add(name, value);
    return res;
  }
  if (!isKnownMethod(method)) {
    return reply(request, 501).set('Allow', ALLOW);
  }
  if (request.body.length > 0 && SESSION_METHODS.has(method)) {
    const type = request.contentType;
    if (type === undefined || !ACCEPTED_BODIES.has(type)) {
      return reply(request, 415).set('Accept', [...ACCEPTED_BODIES].join(', '));
    }
  }
  if (method === 'OPTIONS') {
    return reply(request, 200)
      .set('Allow', ALLOW)
      .set('Accept', [...ACCEPTED_BODIES].join(', '))
      .set('Supported', [...SUPPORTED_OPTION_TAGS].join(', '));
  }
  if (method === 'INVITE' && !acceptsSdp(request)) {
    return reply(request, 406);
  }
  if (method === 'REGISTER') {
    return reply(request, 405).set('Allow', ALLOW_WITHOUT_REGISTER);
  }
  // A CANCEL that reaches here matched no transaction (RFC 3261 §9.2).
  if (method === 'CANCEL' || (request.to.tag !== undefined && method !== 'INVITE')) {
    return reply(request, 481);
  }
  return reply(request, 404, 'Not Found (no application serves this address)');
}

function reply(request: SipRequest, status: number, reason?: string): SipResponse {
  return createResponse(request, status, { toTag: request.to.tag === undefined ? newTag() : undefined, reason });
}

/** RFC 3261 §8.2.3: no Accept means application/sdp is acceptable. */
function acceptsSdp(request: SipRequest): boolean {
  const accept = request.getAll('accept');
  if (accept.length === 0) return true;
  return accept.some((a) => {
    const type = a.split(';')[0]?.trim().toLowerCase() ?? '';
    return type === 'application/sdp' || type === 'application/*' || type === '*/*' || type === '';
  });
}
