import { checkAppDataKey, checkAppName, serializeAppDataValue, type AppDataEntry, type AppDataStore } from '../app-data-store.js';

/**
 * Applications' data in process memory: for tests and for a Siplet without a data directory.
 * Values are kept as JSON text, so what is read back is a copy, as from SQLite.
 */
export class MemoryAppDataStore implements AppDataStore {
  readonly #now: () => number;
  /** app → key → { JSON text, updatedAt } */
  readonly #apps = new Map<string, Map<string, { text: string; updatedAt: number }>>();

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async get(app: string, key: string): Promise<AppDataEntry | undefined> {
    const stored = this.#apps.get(checkAppName(app))?.get(checkAppDataKey(key));
    return stored === undefined ? undefined : { key, value: JSON.parse(stored.text) as unknown, updatedAt: stored.updatedAt };
  }

  async set(app: string, key: string, value: unknown): Promise<void> {
    checkAppName(app);
    checkAppDataKey(key);
    const text = serializeAppDataValue(value);
    let of = this.#apps.get(app);
    if (of === undefined) this.#apps.set(app, (of = new Map()));
    of.set(key, { text, updatedAt: this.#now() });
  }

  async delete(app: string, key: string): Promise<boolean> {
    const of = this.#apps.get(checkAppName(app));
    const removed = of?.delete(checkAppDataKey(key)) ?? false;
    if (of?.size === 0) this.#apps.delete(app);
    return removed;
  }

  async list(app: string, prefix = ''): Promise<AppDataEntry[]> {
    const of = this.#apps.get(checkAppName(app));
    if (of === undefined) return [];
    return [...of]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, stored]) => ({ key, value: JSON.parse(stored.text) as unknown, updatedAt: stored.updatedAt }));
  }

  async apps(): Promise<string[]> {
    return [...this.#apps.keys()].sort();
  }
}
