/**
 * The SIP message layer: the RFC 3261 grammar (§7, §20, §25), RFC 5118 IPv6
 * references and RFC 3581 rport. It owns parsing and serialising requests and
 * responses, URIs, name-addresses, Via and CSeq, and the size limits. It knows
 * nothing of sockets or transactions.
 *
 * @example
 * import { parseMessage, createResponse } from 'siplet';
 * const result = parseMessage(datagram);
 * if (result.ok === true && result.message.isRequest) {
 *   const reply = createResponse(result.message, 200, { toTag: 'x1' });
 *   socket.send(reply.toBuffer());
 * } else if (result.ok === false && result.status && result.message?.isRequest) {
 *   socket.send(createResponse(result.message, result.status, { reason: result.reason }).toBuffer());
 * }
 */
export { parseMessage, validateHeaders, type ParseResult, type ParseOptions, type SipMessageValue } from './parser.js';
export { createResponse } from './create-response.js';
export { SipMessage, InvalidHeaderError, parseCSeq, type CSeq } from './sip-message.js';
export { SipRequest } from './sip-request.js';
export { SipResponse } from './sip-response.js';
export { SipUri, TelUri, AbsoluteUri, parseUri, uriEquals, percentDecode, type Uri } from './uri.js';
export { NameAddress, parseNameAddress } from './name-address.js';
export { Via, parseVia, MAGIC_COOKIE } from './via.js';
export { Parameters, parseParams, quote, unquote, splitCommas, isToken } from './scanner.js';
export { headerKey, canonicalName, compactName, isListHeader } from './header-names.js';
export { reasonPhrase } from './reason-phrases.js';
export { DEFAULT_LIMITS, type MessageLimits } from './limits.js';
