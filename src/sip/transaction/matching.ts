import type { SipRequest, SipResponse, Via } from '../message/index.js';

/**
 * Transaction keys: one string per transaction, so that matching a message is one Map lookup.
 * Separators are characters no branch, host, method, tag or Call-ID may contain.
 */

/**
 * RFC 3261 §17.1.3: a response matches the client transaction whose request had the same top Via
 * branch and the same CSeq method (so CANCEL and INVITE, which share a branch, stay apart).
 */
export function clientKey(branch: string, method: string): string {
  return branch + ' ' + method;
}

/** The client key of a response, or `undefined` when its top Via carries no branch. */
export function responseKey(response: SipResponse): string | undefined {
  const branch = response.topVia?.branch;
  return branch ? clientKey(branch, response.cseq.method) : undefined;
}

/**
 * RFC 3261 §17.2.3: the server key of a request whose top Via branch has the magic cookie. The
 * branch, the sent-by and the method (INVITE for an ACK) identify the transaction.
 */
export function serverKey(via: Via, method: string): string {
  return (via.branch as string) + ' ' + via.host.toLowerCase() + ':' + (via.port ?? '') + ' ' + method;
}

/**
 * RFC 3261 §17.2.3, requests from RFC 2543 elements (no magic cookie): Request-URI, To tag, From tag,
 * Call-ID, CSeq number, method and the whole top Via identify the transaction. `method` is INVITE
 * when looking for the INVITE an ACK or a CANCEL refers to; `toTag` lets an ACK be looked up with
 * the tag-less To of the INVITE that created the transaction.
 */
export function rfc2543Key(request: SipRequest, via: Via, method: string, toTag: string): string {
  return (
    '2543 ' + request.uriText + ' ' + toTag + ' ' + (request.from.tag ?? '') + ' ' + request.callId + ' ' +
    request.cseq.seq + ' ' + method + '\n' + via.toString()
  );
}

/** The key under which the server transaction for `request` is stored, with `method` standing for the transaction's. */
export function requestKey(request: SipRequest, via: Via, method: string): string {
  return via.rfc3261 ? serverKey(via, method) : rfc2543Key(request, via, method, request.to.tag ?? '');
}
