import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from '../sqlite/database.js';
import { checkAppDataKey, checkAppName, serializeAppDataValue, type AppDataEntry, type AppDataStore } from '../app-data-store.js';

interface AppDataRow {
  key: string;
  value: string;
  updated_at: number;
}

/**
 * Applications' data in SQLite (the `app_data` table of `<dataDir>/siplet.db`). Open it through
 * `openDataStore`, which owns the database.
 */
export class SqliteAppDataStore implements AppDataStore {
  readonly #now: () => number;
  readonly #get: Statement<[string, string], AppDataRow>;
  readonly #set: Statement<[string, string, string, number]>;
  readonly #delete: Statement<[string, string]>;
  readonly #all: Statement<[string], AppDataRow>;
  readonly #prefixed: Statement<[string, string, string], AppDataRow>;
  readonly #apps: Statement<[], { app: string }>;

  constructor(db: SqliteDatabase, options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#get = db.prepare('SELECT key, value, updated_at FROM app_data WHERE app = ? AND key = ?');
    this.#set = db.prepare(
      'INSERT INTO app_data (app, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (app, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
    this.#delete = db.prepare('DELETE FROM app_data WHERE app = ? AND key = ?');
    this.#all = db.prepare('SELECT key, value, updated_at FROM app_data WHERE app = ? ORDER BY key');
    // substr() rather than LIKE: a prefix may hold % and _, and the comparison must be exact (binary).
    this.#prefixed = db.prepare('SELECT key, value, updated_at FROM app_data WHERE app = ? AND substr(key, 1, length(?)) = ? ORDER BY key');
    this.#apps = db.prepare('SELECT DISTINCT app FROM app_data ORDER BY app');
  }

  async get(app: string, key: string): Promise<AppDataEntry | undefined> {
    const row = this.#get.get(checkAppName(app), checkAppDataKey(key));
    return row === undefined ? undefined : entry(row);
  }

  async set(app: string, key: string, value: unknown): Promise<void> {
    this.#set.run(checkAppName(app), checkAppDataKey(key), serializeAppDataValue(value), this.#now());
  }

  async delete(app: string, key: string): Promise<boolean> {
    return this.#delete.run(checkAppName(app), checkAppDataKey(key)).changes > 0;
  }

  async list(app: string, prefix = ''): Promise<AppDataEntry[]> {
    checkAppName(app);
    const rows = prefix === '' ? this.#all.all(app) : this.#prefixed.all(app, prefix, prefix);
    return rows.map(entry);
  }

  async apps(): Promise<string[]> {
    return this.#apps.all().map((r) => r.app);
  }
}

function entry(row: AppDataRow): AppDataEntry {
  return { key: row.key, value: JSON.parse(row.value) as unknown, updatedAt: row.updated_at };
}
