/**
 * Proxying inside the container (JSR 289 §10, RFC 3261 §16): the Proxy and
 * its branches, best-response selection, our Record-Route URIs, forwarding of
 * subsequent requests of record-routed dialogs, and the router state that
 * composition puts on the wire.
 */
export { ProxyImpl, type ProxyHost } from './proxy-impl.js';
export { ProxyBranchImpl } from './proxy-branch.js';
export { chooseBestResponse, prepareBestResponse } from './best-response.js';
export { ourUri, parseSessionRef, popOurRoute, ROUTER_PARAM, SESSION_PARAM, sessionRef } from './record-route.js';
export { SubsequentForwarder } from './subsequent-forwarder.js';
export { RouterStateCodec, type RoutedState } from './router-state.js';
