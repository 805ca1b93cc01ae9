/**
 * Siplet's main entry (`import … from 'siplet'`): the application API (also
 * re-exported by `siplet/sdk`), the SIP message parser and serialiser, and the
 * functions that start a server or build its SIP stack for embedding.
 *
 * @example
 * import { parseMessage } from 'siplet';
 * const r = parseMessage(Buffer.from('OPTIONS sip:a@example.com SIP/2.0\r\n…'));
 * if (r.ok === true) console.log(r.message.from.uri.toString());
 */
export * from './api/index.js';
export {
  parseMessage,
  validateHeaders,
  createResponse,
  SipMessage,
  SipRequest,
  SipResponse,
  SipUri,
  TelUri,
  AbsoluteUri,
  NameAddress,
  Via,
  Parameters,
  parseUri,
  parseNameAddress,
  parseVia,
  uriEquals,
  reasonPhrase,
  DEFAULT_LIMITS,
  type ParseResult,
  type ParseOptions,
  type MessageLimits,
  type Uri,
  type CSeq,
} from './sip/message/index.js';
export { startServer, createSipStack, type RunningServer, type SipStack, type SipStackOptions } from './server.js';
export { createConfig, loadConfig, type SipletConfig } from './config/index.js';
export type { ApplicationRouter, ApplicationRouterInfo, RouterRequest, RoutingDirective, RoutingRegion, RouteModifier } from './router/index.js';
