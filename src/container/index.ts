/**
 * The SIP servlet container: deploys applications, routes initial requests to
 * them through the application router, keeps their sessions and dialogs, and
 * runs their servlets with fault isolation. It is the transaction user of the
 * transaction layer; the UAS and UAC cores implement what servlet messages
 * need to reach the wire.
 */
export { SipContainer, type SipContainerOptions, type ContainerCounters } from './sip-container.js';
export { DeployedApp } from './deployed-app.js';
export type { SipNetwork } from './network.js';
export { StoreLocationService, type StoreLocationServiceOptions } from './location-service.js';
export type { SessionCounts } from './session/index.js';
