import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SipletError, type Logger } from '../util/index.js';
import type { DeployedApp } from './deployed-app.js';
import {
  DEFAULT_ARCHIVE_LIMITS,
  DeployFolderWatcher,
  entrySignature,
  extractArchive,
  extractionFolder,
  inspectArchive,
  listEntries,
  type ArchiveLimits,
  type DeployFolderEntry,
  type EntryOutcome,
  type InspectedArchive,
} from './deploy/index.js';
import type { SipContainer } from './sip-container.js';

export interface DeployerOptions {
  container: SipContainer;
  /** The deploy folder (`--apps`): its archives and app folders are deployed at start and watched. */
  deployDir: string;
  /** Archives are extracted under `<dataDir>/deployments/<name>-<version>-<n>/`. */
  dataDir: string;
  logger: Logger;
  /** Default `DEFAULT_ARCHIVE_LIMITS`. */
  limits?: Partial<ArchiveLimits>;
  /** How long an entry of the deploy folder must stay unchanged before it is deployed. Default 1000 ms. */
  settleMs?: number;
  /** Polling interval of the deploy folder. Default 2000 ms. */
  pollMs?: number;
  /** Watch the deploy folder after start. Default true. */
  watch?: boolean;
}

/** Where a deployed version's code came from. */
export interface DeploymentSource {
  /** `archive`: a .sar file (in the deploy folder, or given by path); `upload`: bytes not kept; `folder`: an exploded app folder; `module`: code in memory. */
  readonly kind: 'archive' | 'upload' | 'folder' | 'module';
  readonly path: string | undefined;
}

/** One deployed version as the admin API shows it. */
export interface DeploymentInfo {
  readonly name: string;
  readonly version: string | undefined;
  /** `active` takes new calls; `draining` serves only the calls it had (undeployed or replaced). */
  readonly state: 'active' | 'draining';
  readonly source: DeploymentSource;
  /** The folder its code is loaded from (an archive's extraction folder). */
  readonly folder: string | undefined;
  /** sha256 of the archive it came from. */
  readonly hash: string | undefined;
  /** ISO 8601. */
  readonly deployedAt: string;
  /** Live application sessions (calls and other service instances). */
  readonly sessions: number;
  readonly servlets: readonly string[];
  readonly mainServlet: string;
  readonly description: string | undefined;
}

export interface DeployArchiveOptions {
  /**
   * Also place the archive in the deploy folder, so the app is deployed again after a restart:
   * it replaces the archive the running version came from, else becomes `<name>.sar`. Default false.
   */
  persist?: boolean;
  /** Names a buffer in messages (the uploaded file name). Default 'uploaded archive'. */
  label?: string;
}

export interface UndeployAppOptions {
  /** End live dialogs now (BYE, CANCEL, 503) instead of letting them finish. Default false. */
  force?: boolean;
  /** Leave the app's archive in the deploy folder (it comes back at the next restart). Default false: removed. */
  keepSource?: boolean;
}

export interface UndeployResult {
  readonly name: string;
  /** The versions now draining (empty once a forced undeploy is over). */
  readonly draining: readonly DeploymentInfo[];
  /** Resolves once every version of the app is destroyed. */
  readonly finished: Promise<void>;
}

interface Record {
  source: DeploymentSource;
  folder: string | undefined;
  hash: string | undefined;
}

/**
 * Deploys applications from `.sar` archives and app folders and keeps the deploy folder and the
 * running applications in step (the API the admin console and `siplet deploy` use):
 *
 * - `start()` deploys every archive and folder of the deploy folder, then watches it: adding,
 *   replacing or removing one deploys, redeploys or undeploys it without a restart;
 * - `deployArchive(bytes | path)` checks and extracts an archive, loads it, and only then lets it
 *   replace the running version (which drains); anything wrong is refused with a
 *   `SIPLET_DEPLOY_FAILED` naming the archive and what to fix, and the running version stays;
 * - `undeploy(name)` drains the app gracefully (or at once with `force`).
 *
 * Operations run one at a time. The same archive deployed again reuses its extraction folder and
 * module instances (key: its content hash): ESM never unloads a module, so this is what keeps
 * repeated redeploys from growing the heap. Hazard: module-level state of the app's code is then
 * shared by the deployments of identical archives; keep state in instances (DI singletons are per
 * deployment).
 */
export class Deployer {
  readonly #container: SipContainer;
  readonly #deployDir: string;
  readonly #deployments: string;
  readonly #log: Logger;
  readonly #limits: ArchiveLimits;
  readonly #options: DeployerOptions;
  readonly #records = new WeakMap<DeployedApp, Record>();
  /** Deploy-folder entry → the app it deployed. */
  readonly #sources = new Map<string, string>();
  /** Archive hash → its extraction folder (kept, so that the same archive reuses its modules). */
  readonly #extracted = new Map<string, string>();
  readonly #counters = new Map<string, number>();
  #queue: Promise<unknown> = Promise.resolve();
  #watcher: DeployFolderWatcher | undefined;
  #closed = false;

  constructor(options: DeployerOptions) {
    this.#options = options;
    this.#container = options.container;
    this.#deployDir = resolve(options.deployDir);
    this.#deployments = join(resolve(options.dataDir), 'deployments');
    this.#log = options.logger;
    this.#limits = { ...DEFAULT_ARCHIVE_LIMITS, ...options.limits };
  }

  /**
   * Clears extraction folders left by an earlier run, deploys every archive and app folder of the
   * deploy folder (one that fails is logged and skipped), then starts watching it.
   */
  async start(): Promise<void> {
    await rm(this.#deployments, { recursive: true, force: true });
    await mkdir(this.#deployments, { recursive: true });
    const watcher = new DeployFolderWatcher({
      folder: this.#deployDir,
      settleMs: this.#options.settleMs ?? 1000,
      pollMs: this.#options.pollMs ?? 2000,
      logger: this.#log,
      onEntry: (entry, lastTry) => this.#onEntry(entry, lastTry),
      onRemoved: (path) => this.#onRemoved(path),
    });
    const entries = await listEntries(this.#deployDir);
    if (entries.length === 0) this.#log.info({ deployDir: this.#deployDir }, 'no applications in the deploy folder');
    for (const entry of entries) {
      try {
        await this.#deployEntry(entry);
      } catch (error) {
        this.#log.error({ err: error, path: entry.path }, error instanceof Error ? error.message : 'application failed to deploy');
      }
      watcher.acknowledge(entry.path, entry.signature);
    }
    const apps = this.#container.applications().map((a) => a.name);
    this.#log.info({ apps }, apps.length === 0 ? 'no applications deployed' : `${apps.length} application(s) deployed`);
    if (this.#options.watch ?? true) {
      this.#watcher = watcher;
      watcher.start();
    }
  }

  /**
   * Deploys an archive, given as its bytes or its path. Replaces a running version of the same
   * name (which drains). Resolves with the new version; an archive identical to the running
   * version's leaves it as it is. Rejects with `SIPLET_DEPLOY_FAILED` when the archive is refused;
   * nothing changes then.
   *
   * @example
   * const info = await deployer.deployArchive(uploadedBytes, { persist: true, label: 'call-screening.sar' });
   */
  deployArchive(source: Buffer | string, options: DeployArchiveOptions = {}): Promise<DeploymentInfo> {
    return this.#serial(async () => {
      const label = typeof source === 'string' ? resolve(source) : (options.label ?? 'uploaded archive');
      const inspected = await inspectArchive(typeof source === 'string' ? resolve(source) : source, { label, limits: this.#limits });
      if (!inspected.ok) throw refused(label, inspected.problem.message);
      const app = await this.#deployInspected(inspected.archive, typeof source === 'string' ? { kind: 'archive', path: resolve(source) } : { kind: 'upload', path: undefined });
      if (options.persist) await this.#persist(app, inspected.archive);
      return this.#info(app);
    });
  }

  /** Deploys an exploded app folder (compiled JavaScript), replacing a running version of the same name. */
  deployFolder(folder: string): Promise<DeploymentInfo> {
    return this.#serial(async () => this.#info(await this.#deployFolder(resolve(folder))));
  }

  /**
   * Undeploys an application: it takes no new initial request from now on; its live dialogs
   * finish (or are ended at once with `force`, or when the drain timeout passes). Its archive
   * leaves the deploy folder unless `keepSource`. Rejects with `SIPLET_DEPLOY_FAILED` when no
   * version of that name is deployed.
   */
  undeploy(name: string, options: UndeployAppOptions = {}): Promise<UndeployResult> {
    return this.#serial(async () => {
      const versions = this.#container.versions().filter((app) => app.name === name);
      if (versions.length === 0) {
        throw new SipletError('SIPLET_DEPLOY_FAILED', `No application named ${name} is deployed: list them with "siplet apps".`, { details: { name, notFound: true } });
      }
      if (!options.keepSource) await this.#removeSources(name);
      const finished = this.#container.undeploy(name, { force: options.force ?? false });
      const cleaned = finished.finally(() => this.#cleanUp(versions));
      cleaned.catch(() => undefined);
      return { name, draining: versions.filter((v) => v.state === 'draining').map((v) => this.#info(v)), finished: cleaned };
    });
  }

  /** Every version loaded: active ones first, then those draining. */
  list(): DeploymentInfo[] {
    return this.#container.versions().map((app) => this.#info(app));
  }

  /** The active version of an app, else its newest draining one. */
  get(name: string): DeploymentInfo | undefined {
    const versions = this.list().filter((info) => info.name === name);
    return versions.find((v) => v.state === 'active') ?? versions[versions.length - 1];
  }

  /** Stops watching and waits for the operation in progress. Deployed apps stay (the container closes them). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#watcher?.close();
    await this.#queue.catch(() => undefined);
  }

  // ---- the deploy folder ------------------------------------------------------------

  #onEntry(entry: DeployFolderEntry, lastTry: boolean): Promise<EntryOutcome> {
    return this.#serial(async () => {
      if (this.#closed) return 'done';
      try {
        if (entry.kind === 'folder') {
          await this.#deployFolder(entry.path);
          return 'done';
        }
        const inspected = await inspectArchive(entry.path, { limits: this.#limits });
        if (!inspected.ok) {
          if (inspected.problem.kind === 'unreadable' && !lastTry) return 'retry';
          throw refused(entry.path, inspected.problem.message);
        }
        const active = this.#active(inspected.archive.name);
        if (active !== undefined && this.#records.get(active)?.hash === inspected.archive.hash) {
          // Written by `persist` (or copied back unchanged): already running.
          this.#sources.set(entry.path, inspected.archive.name);
          return 'done';
        }
        await this.#deployInspected(inspected.archive, { kind: 'archive', path: entry.path });
      } catch (error) {
        this.#log.error({ err: error, path: entry.path }, error instanceof Error ? error.message : 'application failed to deploy');
      }
      return 'done';
    });
  }

  #onRemoved(path: string): Promise<void> {
    return this.#serial(async () => {
      const name = this.#sources.get(path);
      this.#sources.delete(path);
      if (name === undefined || this.#closed) return;
      const active = this.#active(name);
      if (active === undefined || this.#records.get(active)?.source.path !== path) return;
      this.#log.info({ app: name, path }, 'removed from the deploy folder: undeploying');
      const versions = this.#container.versions().filter((app) => app.name === name);
      void this.#container
        .undeploy(name)
        .catch((error: unknown) => this.#log.error({ err: error, app: name }, 'undeploy failed'))
        .finally(() => this.#cleanUp(versions));
    });
  }

  async #deployEntry(entry: DeployFolderEntry): Promise<void> {
    if (entry.kind === 'folder') {
      await this.#deployFolder(entry.path);
      return;
    }
    const inspected = await inspectArchive(entry.path, { limits: this.#limits });
    if (!inspected.ok) throw refused(entry.path, inspected.problem.message);
    await this.#deployInspected(inspected.archive, { kind: 'archive', path: entry.path });
  }

  // ---- deploying ------------------------------------------------------------------------

  async #deployFolder(folder: string): Promise<DeployedApp> {
    const previous = this.#sources.get(folder);
    const app = await this.#container.deployFolder(folder, { replace: true });
    this.#records.set(app, { source: { kind: 'folder', path: folder }, folder, hash: undefined });
    this.#took(folder, app.name, previous);
    return app;
  }

  async #deployInspected(archive: InspectedArchive, source: DeploymentSource): Promise<DeployedApp> {
    const active = this.#active(archive.name);
    if (active !== undefined && this.#records.get(active)?.hash === archive.hash) {
      this.#log.info({ app: archive.name, hash: archive.hash.slice(0, 12) }, 'archive unchanged: the running version stays');
      if (source.path !== undefined) this.#sources.set(source.path, archive.name);
      return active;
    }
    const folder = await this.#extract(archive);
    let app: DeployedApp;
    try {
      app = await this.#container.deployFolder(folder, { replace: true, moduleKey: archive.hash.slice(0, 16), label: `archive ${archive.label}` });
    } catch (error) {
      if (!this.#inUse(folder)) {
        this.#extracted.delete(archive.hash);
        await rm(folder, { recursive: true, force: true });
      }
      throw error;
    }
    if (app.name !== archive.name) {
      this.#log.warn({ descriptor: archive.name, model: app.name }, 'the archive\'s siplet.json name and the deployed name differ');
    }
    this.#records.set(app, { source, folder, hash: archive.hash });
    if (source.path !== undefined) this.#took(source.path, app.name, this.#sources.get(source.path));
    return app;
  }

  /** The extraction folder of an archive: the one it had before if the same archive was deployed already. */
  async #extract(archive: InspectedArchive): Promise<string> {
    const known = this.#extracted.get(archive.hash);
    if (known !== undefined && (await stat(known).catch(() => undefined))?.isDirectory()) return known;
    let folder = known;
    if (folder === undefined) {
      const key = `${archive.name}\u0000${archive.version}`;
      const n = (this.#counters.get(key) ?? 0) + 1;
      this.#counters.set(key, n);
      folder = extractionFolder(this.#deployments, archive, n);
    }
    await mkdir(this.#deployments, { recursive: true });
    await rm(folder, { recursive: true, force: true });
    try {
      await extractArchive(archive, folder, this.#limits);
    } catch (error) {
      await rm(folder, { recursive: true, force: true });
      throw refused(archive.label, error instanceof Error ? error.message : String(error));
    }
    this.#extracted.set(archive.hash, folder);
    return folder;
  }

  /** Writes the archive into the deploy folder (atomically: a hidden temp file, then rename). */
  async #persist(app: DeployedApp, archive: InspectedArchive): Promise<void> {
    const current = this.#records.get(app);
    const previous = [...this.#sources].find(([path, name]) => name === app.name && path.endsWith('.sar') && dirname(path) === this.#deployDir)?.[0];
    const target = previous ?? join(this.#deployDir, `${app.name}.sar`);
    const temp = join(this.#deployDir, `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await mkdir(this.#deployDir, { recursive: true });
      await writeFile(temp, archive.bytes);
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw new SipletError(
        'SIPLET_DEPLOY_FAILED',
        `Application ${app.name} is deployed, but its archive could not be saved to ${target} (${error instanceof Error ? error.message : String(error)}): it will not come back after a restart. Check that the deploy folder is writable.`,
        { cause: error },
      );
    }
    const signature = await entrySignature(target);
    if (signature !== undefined) this.#watcher?.acknowledge(target, signature);
    this.#sources.set(target, app.name);
    if (current !== undefined) current.source = { kind: 'archive', path: target };
  }

  /** Removes the archives in the deploy folder that deploy this app (so it stays undeployed after a restart). */
  async #removeSources(name: string): Promise<void> {
    for (const [path, app] of [...this.#sources]) {
      if (app !== name) continue;
      this.#sources.delete(path);
      this.#watcher?.forget(path);
      if (path.endsWith('.sar') && dirname(path) === this.#deployDir) await rm(path, { force: true });
      else this.#log.warn({ app: name, path }, 'the undeployed app\'s folder stays in the deploy folder: it is deployed again at the next start unless you remove it');
    }
  }

  /** A deploy-folder entry now deploys `name`; the app it deployed before (if another) is undeployed. */
  #took(path: string, name: string, previous: string | undefined): void {
    this.#sources.set(path, name);
    if (previous === undefined || previous === name || this.#active(previous) === undefined) return;
    if (this.#records.get(this.#active(previous)!)?.source.path !== path) return;
    this.#log.info({ path, app: previous, replacedBy: name }, 'the entry now holds another app: undeploying the one it held');
    const versions = this.#container.versions().filter((app) => app.name === previous);
    void this.#container
      .undeploy(previous)
      .catch((error: unknown) => this.#log.error({ err: error, app: previous }, 'undeploy failed'))
      .finally(() => this.#cleanUp(versions));
  }

  /** Removes the extraction folders of versions that are gone (their code stays in memory, not on disk). */
  async #cleanUp(versions: readonly DeployedApp[]): Promise<void> {
    for (const version of versions) {
      const folder = this.#records.get(version)?.folder;
      if (folder === undefined || version.state !== 'undeployed' || !folder.startsWith(this.#deployments) || this.#inUse(folder)) continue;
      await rm(folder, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  #inUse(folder: string): boolean {
    return this.#container.versions().some((app) => this.#records.get(app)?.folder === folder);
  }

  #active(name: string): DeployedApp | undefined {
    return this.#container.applications().find((app) => app.name === name);
  }

  #info(app: DeployedApp): DeploymentInfo {
    const record = this.#records.get(app);
    const model = app.loaded.model;
    return {
      name: model.name,
      version: model.version,
      state: app.state === 'active' ? 'active' : 'draining',
      source: record?.source ?? { kind: 'module', path: undefined },
      folder: record?.folder,
      hash: record?.hash,
      deployedAt: new Date(app.deployedAt).toISOString(),
      sessions: app.liveSessions.length,
      servlets: model.servlets.map((s) => s.name),
      mainServlet: model.mainServlet,
      description: model.description,
    };
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** An archive refused; `details.archive` and `details.problem` for an API to show. */
function refused(label: string, problem: string): SipletError {
  return new SipletError('SIPLET_DEPLOY_FAILED', `Cannot deploy archive ${label}: ${problem}. The running version (if any) is unchanged.`, {
    details: { archive: label, problem },
  });
}

/** Lists the extraction folders under a data dir (for tests and diagnostics). */
export async function extractionFolders(dataDir: string): Promise<string[]> {
  return (await readdir(join(resolve(dataDir), 'deployments')).catch(() => [] as string[])).sort();
}
