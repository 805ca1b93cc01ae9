/**
 * Deployment: turns an app folder of compiled JavaScript (entry module, optional `siplet.json`
 * descriptor and `config.json`) into a `LoadedApplication`. Also reads and extracts `.sar`
 * archives without trusting them (`archive.ts`) and watches the deploy folder for archives and
 * folders coming and going (`deploy-folder-watcher.ts`). Owns importing the app's code afresh
 * on each deploy, the app's inversify container and the Siplet tokens bound in it, its live
 * `AppConfig` and `SipServletContext`, constructing listeners and servlets (eagerly for
 * `loadOnStartup`, lazily otherwise), and tearing all of it down again. The container reads
 * the result; it never sees decorators, descriptors or the DI container.
 */
export {
  loadAppFolder,
  loadAppModule,
  type AppLoadFailure,
  type AppServices,
  type LoadAppFolderOptions,
  type LoadAppFolderResult,
  type LoadedApplication,
} from './app-folder.js';
export type { DeployedServlet } from './managed-servlet.js';
export { LiveAppConfig } from './app-config.js';
export { ApplicationContext } from './servlet-context.js';
export { DEPLOY_QUERY_PARAM, FRESH_IMPORT_HOOK_SOURCE, installFreshImportHook } from './fresh-imports.js';
export { watchAppConfig, type ConfigWatcher } from './config-watcher.js';
export {
  DEFAULT_ARCHIVE_LIMITS,
  extractArchive,
  extractionFolder,
  inspectArchive,
  type ArchiveLimits,
  type ArchiveProblem,
  type InspectArchiveResult,
  type InspectedArchive,
} from './archive.js';
export {
  DeployFolderWatcher,
  entrySignature,
  listEntries,
  type DeployFolderEntry,
  type DeployFolderWatcherOptions,
  type EntryOutcome,
} from './deploy-folder-watcher.js';
