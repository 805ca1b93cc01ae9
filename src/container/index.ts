/**
 * The SIP servlet container: deploys applications, routes initial requests to
 * them through the application router, keeps their sessions and dialogs, and
 * runs their servlets with fault isolation. It is the transaction user of the
 * transaction layer; the UAS and UAC cores implement what servlet messages
 * need to reach the wire. The `Deployer` keeps the deploy folder (`.sar`
 * archives, app folders) and the deployed versions in step.
 */
export { SipContainer, type SipContainerOptions, type ContainerCounters, type DeployOptions, type HttpMounts, type UndeployOptions } from './sip-container.js';
export {
  Deployer,
  extractionFolders,
  type DeployArchiveOptions,
  type DeployerOptions,
  type DeploymentInfo,
  type DeploymentSource,
  type UndeployAppOptions,
  type UndeployResult,
} from './deployer.js';
export { DEFAULT_ARCHIVE_LIMITS, inspectArchive, type ArchiveLimits } from './deploy/index.js';
export { checkDescriptor } from './model/index.js';
export { DeployedApp } from './deployed-app.js';
export type { SipNetwork } from './network.js';
export { StoreLocationService, type StoreLocationServiceOptions } from './location-service.js';
export type { SessionCounts } from './session/index.js';
export { digestHa1, type CredentialSource, type DigestCredentials, type DigestAuthSettings } from './auth/index.js';
