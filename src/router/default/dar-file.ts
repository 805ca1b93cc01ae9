import { watch } from 'node:fs';
import type { FSWatcher, Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { RouterLogger } from '../application-router.js';
import type { DarReloadResult } from './default-application-router.js';
import type { DarParseError, DarParseOptions, DarRules } from './dar-parser.js';

/** What a `DarFile` feeds: `DefaultApplicationRouter` is one. */
export interface DarReloadTarget {
  reload(text: string, options?: DarParseOptions): DarReloadResult;
}

export interface DarFileOptions {
  /** The DAR file. Relative paths resolve against the working directory. */
  path: string;
  router: DarReloadTarget;
  /** Default: silent. */
  logger?: RouterLogger;
  /** How long the file must stay quiet after a change event before it is read. Default: 200 ms. */
  debounceMs?: number;
  /**
   * How often `watch()` also compares the file's stat, for file systems where change events are
   * unreliable (network mounts, some containers). Default: 2000 ms; 0 turns the poll off.
   */
  pollIntervalMs?: number;
  /** Larger files are refused. Default: 1 MiB. */
  maxBytes?: number;
}

export type DarLoadResult =
  | { ok: true; found: boolean; rules: DarRules }
  /** `errors` lists the parse errors; it is empty when the file could not be read (`reason` says why). */
  | { ok: false; reason: string; errors: DarParseError[] };

const SILENT: RouterLogger = { debug() {}, info() {}, warn() {}, error() {} };

type Snapshot = { mtimeMs: number; ctimeMs: number; size: number; ino: number } | 'missing';

/**
 * A DAR file on disk, kept in step with a router: `load()` reads it once, `watch()` reloads it
 * whenever it changes (change events, debounced, plus a stat poll), `close()` stops watching.
 *
 * A changed file that does not parse is refused with a warning naming each bad line, and the
 * router keeps its previous rules. A file that disappears while watched also leaves the rules in
 * place (editors delete and recreate files when saving); write an empty file to clear them.
 *
 * Hazard: the watcher and poll timer do not keep the process alive; call `close()` on shutdown
 * anyway so no read is in flight.
 */
export class DarFile {
  readonly path: string;
  readonly #displayPath: string;
  readonly #router: DarReloadTarget;
  readonly #log: RouterLogger;
  readonly #debounceMs: number;
  readonly #pollIntervalMs: number;
  readonly #maxBytes: number;
  #snapshot: Snapshot | undefined;
  #lastText: string | undefined;
  #watcher: FSWatcher | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #debounceTimer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #pendingForce: boolean | undefined;
  #closed = false;

  constructor(options: DarFileOptions) {
    if (typeof options.path !== 'string' || options.path.length === 0) {
      throw new TypeError('DarFile needs the path of the DAR file (options.path).');
    }
    this.#displayPath = options.path;
    this.path = resolve(options.path);
    this.#router = options.router;
    this.#log = options.logger ?? SILENT;
    this.#debounceMs = options.debounceMs ?? 200;
    this.#pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.#maxBytes = options.maxBytes ?? 1024 * 1024;
  }

  /**
   * Reads the file and hands it to the router. A missing file gives the router no rules (logged
   * with the path looked at); a file that does not parse leaves the router's rules unchanged and
   * returns every error.
   */
  async load(): Promise<DarLoadResult> {
    let snapshot: Snapshot;
    try {
      snapshot = await this.#stat();
    } catch (error) {
      return this.#unreadable(`cannot read ${this.path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.#snapshot = snapshot;
    if (snapshot === 'missing') {
      const result = this.#router.reload('', { source: this.#displayPath });
      this.#lastText = '';
      this.#log.info({ path: this.path }, `No DAR file at ${this.path}; no application will be invoked until one is written there`);
      return result.ok ? { ok: true, found: false, rules: result.rules } : { ok: false, reason: 'the router refused an empty rule set', errors: result.errors };
    }
    const text = await this.#read(snapshot);
    if (typeof text !== 'string') return this.#unreadable(text.reason);
    this.#lastText = text;
    const result = this.#apply(text, 'load');
    return result.ok
      ? { ok: true, found: true, rules: result.rules }
      : { ok: false, reason: `${this.#displayPath} has ${result.errors.length} error(s)`, errors: result.errors };
  }

  /** Starts watching. Idempotent; a no-op after `close()`. */
  watch(): void {
    if (this.#closed || this.#pollTimer !== undefined || this.#watcher !== undefined) return;
    const name = basename(this.path);
    try {
      // The directory, not the file: saving by rename replaces the file's inode.
      const watcher = watch(dirname(this.path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === name) this.#schedule(true);
      });
      watcher.on('error', (error) => {
        this.#log.debug({ path: this.path, err: error }, 'DAR directory watch failed; relying on the stat poll');
        watcher.close();
        if (this.#watcher === watcher) this.#watcher = undefined;
      });
      this.#watcher = watcher;
    } catch (error) {
      this.#log.debug({ path: this.path, err: error }, 'Cannot watch the DAR directory; relying on the stat poll');
    }
    if (this.#pollIntervalMs > 0) {
      this.#pollTimer = setInterval(() => this.#check(false), this.#pollIntervalMs);
      this.#pollTimer.unref();
    }
  }

  /** Stops watching and waits for a read in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
    clearTimeout(this.#debounceTimer);
    this.#debounceTimer = undefined;
    await this.#running;
  }

  #schedule(force: boolean): void {
    if (this.#closed) return;
    clearTimeout(this.#debounceTimer);
    this.#debounceTimer = setTimeout(() => {
      this.#debounceTimer = undefined;
      this.#check(force);
    }, this.#debounceMs);
    this.#debounceTimer.unref();
  }

  // One refresh at a time; changes during one are folded into a single follow-up.
  #check(force: boolean): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#pendingForce = (this.#pendingForce ?? false) || force;
      return;
    }
    this.#running = this.#refresh(force)
      .catch((error: unknown) => this.#log.error({ path: this.path, err: error }, 'Unexpected failure re-reading the DAR file'))
      .finally(() => {
        this.#running = undefined;
        const pending = this.#pendingForce;
        this.#pendingForce = undefined;
        if (pending !== undefined) this.#check(pending);
      });
  }

  async #refresh(force: boolean): Promise<void> {
    const snapshot = await this.#stat();
    const previous = this.#snapshot;
    this.#snapshot = snapshot;
    if (snapshot === 'missing') {
      if (previous !== 'missing' && previous !== undefined) {
        this.#log.warn(
          { path: this.path },
          `The DAR file ${this.path} disappeared; keeping the rules loaded from it. Restore it, or write an empty file to clear the rules`,
        );
      }
      return;
    }
    if (!force && previous !== undefined && sameSnapshot(previous, snapshot)) return;
    const text = await this.#read(snapshot);
    if (this.#closed) return;
    if (typeof text !== 'string') {
      this.#log.warn({ path: this.path, reason: text.reason }, `Cannot re-read the DAR file; keeping the previous rules: ${text.reason}`);
      return;
    }
    if (text === this.#lastText) return;
    this.#lastText = text;
    this.#apply(text, 'change');
  }

  #unreadable(reason: string): DarLoadResult {
    this.#log.warn({ path: this.path, reason }, `Cannot load the DAR file; no rules were loaded: ${reason}`);
    return { ok: false, reason, errors: [] };
  }

  #apply(text: string, cause: 'load' | 'change'): DarReloadResult {
    const result = this.#router.reload(text, { source: this.#displayPath });
    if (result.ok) {
      this.#log.info({ path: this.path, methods: [...result.rules.keys()] }, cause === 'load' ? 'Loaded the DAR file' : 'Reloaded the changed DAR file');
    } else {
      const messages = result.errors.map((error) => error.message);
      this.#log.warn(
        { path: this.path, errors: messages },
        `Refused the DAR file ${this.path}; ${cause === 'load' ? 'no rules were loaded' : 'keeping the previous rules'}. Fix: ${messages.join('; ')}`,
      );
    }
    return result;
  }

  async #stat(): Promise<Snapshot> {
    let stats: Stats;
    try {
      stats = await stat(this.path);
    } catch (error) {
      if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return 'missing';
      throw error;
    }
    return { mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, size: stats.size, ino: stats.ino };
  }

  // Reads at most maxBytes + 1 bytes, whatever the file grows to meanwhile.
  async #read(snapshot: Exclude<Snapshot, 'missing'>): Promise<string | { reason: string }> {
    const tooLarge = { reason: `${this.path} is larger than ${this.#maxBytes} bytes; a DAR file this big is refused` };
    if (snapshot.size > this.#maxBytes) return tooLarge;
    let handle;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      return { reason: `cannot open ${this.path}: ${error instanceof Error ? error.message : String(error)}` };
    }
    try {
      const buffer = Buffer.alloc(this.#maxBytes + 1);
      let length = 0;
      while (length < buffer.length) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      if (length > this.#maxBytes) return tooLarge;
      return buffer.subarray(0, length).toString('utf8');
    } catch (error) {
      return { reason: `cannot read ${this.path}: ${error instanceof Error ? error.message : String(error)}` };
    } finally {
      await handle.close();
    }
  }
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  if (a === 'missing' || b === 'missing') return a === b;
  return a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.size === b.size && a.ino === b.ino;
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
