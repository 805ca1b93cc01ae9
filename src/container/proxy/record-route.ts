import { NameAddress, SipUri, type SipRequest } from '../../sip/message/index.js';
import type { Protocol } from '../../sip/transport/index.js';

/**
 * The parameter of our Record-Route (and Path) URIs that names the proxy's
 * SIP session: `<sip:host:port;lr;siplet-s=<application session id>.<session id>>`.
 * Subsequent requests carry it back in their Route header, so finding the
 * session needs no lookup that outlives the call.
 */
export const SESSION_PARAM = 'siplet-s';
/** Route parameter carrying application-router state for composition (JSR 289 §15.6). */
export const ROUTER_PARAM = 'siplet-ar';

export function ourUri(sentBy: { host: string; port: number }, protocol: Protocol): SipUri {
  const uri = new SipUri({ host: sentBy.host, port: sentBy.port });
  if (protocol !== 'udp') uri.params.set('transport', protocol);
  uri.params.set('lr', null);
  return uri;
}

/** The session reference our Record-Route URIs carry. */
export function sessionRef(appSessionId: string, sessionId: string): string {
  return `${appSessionId}.${sessionId}`;
}

export function parseSessionRef(value: string | null | undefined): { appSessionId: string; sessionId: string } | undefined {
  if (!value) return undefined;
  const dot = value.lastIndexOf('.');
  if (dot <= 0) return undefined;
  return { appSessionId: value.slice(0, dot), sessionId: value.slice(dot + 1) };
}

/**
 * RFC 3261 §16.4: when the top Route names this server, it is removed (the
 * request was routed here loosely) and returned. `isOurs` tells our own URIs.
 */
export function popOurRoute(request: SipRequest, isOurs: (uri: SipUri) => boolean): NameAddress | undefined {
  const top = request.route[0];
  if (top === undefined || !(top.uri instanceof SipUri) || !isOurs(top.uri)) return undefined;
  request.removeFirst('route');
  return top;
}
