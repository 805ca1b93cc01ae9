import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../util/index.js';

/** An application in the deploy folder: a `.sar` archive or an exploded app folder. */
export interface DeployFolderEntry {
  readonly path: string;
  readonly kind: 'archive' | 'folder';
  /** What changes when the entry is replaced or rewritten (see `entrySignature`). */
  readonly signature: string;
}

/** What the watcher's owner did with an entry: `retry` asks to try again later (an archive that does not open yet). */
export type EntryOutcome = 'done' | 'retry';

export interface DeployFolderWatcherOptions {
  folder: string;
  /** How long an entry must stay unchanged (size, times) before it is handed over. */
  settleMs: number;
  /** Polling interval, the fallback for file systems where fs.watch misses events. */
  pollMs: number;
  /** How many settle periods an archive that does not open yet is retried while unchanged. Default 3. */
  maxRetries?: number;
  logger: Logger;
  /** A new or changed entry, stable for `settleMs`. `lastTry`: a `retry` answer is not honoured any more. */
  onEntry(entry: DeployFolderEntry, lastTry: boolean): Promise<EntryOutcome>;
  /** An entry handed over before has gone. */
  onRemoved(path: string): Promise<void>;
}

interface Pending {
  signature: string;
  since: number;
  retries: number;
}

/**
 * Watches the deploy folder for `.sar` archives and app folders being added, replaced or removed,
 * without a restart. Partial writes are waited out: an entry is handed over only once its
 * signature (size and modification time of the archive; of the folder's top-level files) has
 * stayed the same for `settleMs`, and an archive that still does not open is retried for a few
 * more settle periods. Names starting with '.' are ignored (temporary files of atomic writes).
 *
 * `fs.watch` on the folder triggers a scan; a poll every `pollMs` catches what it misses. One scan
 * at a time; entries are handed over one at a time, in name order.
 */
export class DeployFolderWatcher {
  readonly #options: DeployFolderWatcherOptions;
  /** The signature each entry had when last handed over (or seeded as deployed at start). */
  readonly #known = new Map<string, string>();
  readonly #pending = new Map<string, Pending>();
  /** Known entries found missing, and since when: undeployed only once they stay gone for settleMs. */
  readonly #removing = new Map<string, number>();
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  #scan: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(options: DeployFolderWatcherOptions) {
    this.#options = options;
  }

  /** Records an entry as handled with this signature (deployed at start, or written by the deployer itself). */
  acknowledge(path: string, signature: string): void {
    this.#known.set(path, signature);
    this.#pending.delete(path);
  }

  /** Forgets an entry (the deployer removed it itself): its removal is not reported. */
  forget(path: string): void {
    this.#known.delete(path);
    this.#pending.delete(path);
  }

  start(): void {
    try {
      this.#watcher = watch(this.#options.folder, () => this.#schedule(50));
      this.#watcher.unref?.();
      this.#watcher.on('error', () => undefined);
    } catch (err) {
      this.#options.logger.warn({ err, folder: this.#options.folder }, 'cannot watch the deploy folder; polling it instead');
    }
    this.#poll = setInterval(() => this.#schedule(0), this.#options.pollMs);
    this.#poll.unref?.();
    this.#schedule(0);
  }

  /** Stops watching; resolves once a scan in progress (and what it hands over) is done. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    clearInterval(this.#poll);
    clearTimeout(this.#soon);
    await this.#scan;
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    if (this.#scan !== undefined) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#soon);
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      this.#scan = this.#run().finally(() => {
        this.#scan = undefined;
        if (this.#again) {
          this.#again = false;
          this.#schedule(0);
        }
      });
    }, delayMs);
    this.#soon.unref?.();
  }

  async #run(): Promise<void> {
    try {
      await this.#scanOnce();
    } catch (err) {
      this.#options.logger.warn({ err, folder: this.#options.folder }, 'scanning the deploy folder failed; trying again at the next poll');
    }
  }

  async #scanOnce(): Promise<void> {
    const { folder, settleMs } = this.#options;
    const entries = await listEntries(folder);
    const present = new Set(entries.map((e) => e.path));
    let wait = Infinity;
    for (const path of [...this.#removing.keys()]) if (present.has(path)) this.#removing.delete(path);
    for (const path of [...this.#known.keys()]) {
      if (present.has(path) || this.#closed) continue;
      // A file being replaced can be missing for a moment (copied over, or renamed in two steps):
      // only an entry that stays gone for settleMs is undeployed.
      const since = this.#removing.get(path);
      if (since === undefined) {
        this.#removing.set(path, Date.now());
        wait = Math.min(wait, settleMs);
        continue;
      }
      if (Date.now() - since < settleMs) {
        wait = Math.min(wait, settleMs - (Date.now() - since));
        continue;
      }
      this.#removing.delete(path);
      this.#known.delete(path);
      this.#pending.delete(path);
      await this.#options.onRemoved(path).catch((err: unknown) => this.#options.logger.error({ err, path }, 'undeploying a removed entry failed'));
    }
    for (const path of [...this.#pending.keys()]) if (!present.has(path)) this.#pending.delete(path);
    for (const entry of entries) {
      if (this.#closed) return;
      if (this.#known.get(entry.path) === entry.signature) {
        this.#pending.delete(entry.path);
        continue;
      }
      const now = Date.now();
      const pending = this.#pending.get(entry.path);
      if (pending === undefined || pending.signature !== entry.signature) {
        // New or still changing: wait until it has stayed the same for settleMs.
        this.#pending.set(entry.path, { signature: entry.signature, since: now, retries: 0 });
        wait = Math.min(wait, settleMs);
        continue;
      }
      if (now - pending.since < settleMs) {
        wait = Math.min(wait, settleMs - (now - pending.since));
        continue;
      }
      const lastTry = pending.retries >= (this.#options.maxRetries ?? 3);
      let outcome: EntryOutcome;
      try {
        outcome = await this.#options.onEntry(entry, lastTry);
      } catch (err) {
        this.#options.logger.error({ err, path: entry.path }, 'deploying an entry of the deploy folder failed');
        outcome = 'done';
      }
      if (outcome === 'retry' && !lastTry) {
        pending.retries += 1;
        pending.since = Date.now();
        wait = Math.min(wait, settleMs);
      } else {
        this.acknowledge(entry.path, entry.signature);
      }
    }
    if (wait !== Infinity && !this.#closed) {
      clearTimeout(this.#soon);
      this.#soon = setTimeout(() => {
        this.#soon = undefined;
        this.#schedule(0);
      }, wait + 10);
      this.#soon.unref?.();
    }
  }
}

/** The archives (`*.sar`) and folders of the deploy folder, in name order; names starting with '.' left out. */
export async function listEntries(folder: string): Promise<DeployFolderEntry[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const entries: DeployFolderEntry[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const path = join(folder, name);
    const signature = await entrySignature(path);
    if (signature === undefined) continue;
    entries.push({ path, kind: signature.startsWith('dir:') ? 'folder' : 'archive', signature });
  }
  return entries;
}

/**
 * What changes when an entry is written or replaced: an archive's inode, size and modification
 * time; for a folder, its inode and the names, sizes and times of its top-level files and folders
 * (config.json left out: it reloads without a redeploy). `undefined` for anything else.
 */
export async function entrySignature(path: string): Promise<string | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return undefined;
  if (info.isFile()) return path.endsWith('.sar') ? `sar:${info.ino}:${info.size}:${info.mtimeMs}` : undefined;
  if (!info.isDirectory()) return undefined;
  const parts = [`dir:${info.ino}`];
  const names = await readdir(path).catch(() => [] as string[]);
  for (const name of names.sort()) {
    if (name === 'config.json' || name.startsWith('.')) continue;
    const child = await stat(join(path, name)).catch(() => undefined);
    if (child !== undefined) parts.push(`${name}:${child.isDirectory() ? 'd' : child.size}:${child.mtimeMs}`);
  }
  return parts.join('|');
}
