import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from '../sqlite/database.js';
import {
  checkAdminName,
  checkAdminPassword,
  hashAdminPassword,
  unknownAdmin,
  verifyAdminPassword,
  verifyNothing,
  type AdminAccount,
  type AdminStore,
} from '../admin-store.js';

interface AdminRow {
  username: string;
  password_hash: string;
  created_at: number;
  updated_at: number;
}

/**
 * Admin accounts in SQLite (the `admin_accounts` table of `<dataDir>/siplet.db`, schema version 2):
 * scrypt hashes only. Open it through `openDataStore`, which owns the database.
 */
export class SqliteAdminStore implements AdminStore {
  readonly #now: () => number;
  readonly #all: Statement<[], AdminRow>;
  readonly #one: Statement<[string], AdminRow>;
  readonly #upsert: Statement<[string, string, number, number]>;
  readonly #remove: Statement<[string]>;

  constructor(db: SqliteDatabase, options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#all = db.prepare('SELECT * FROM admin_accounts ORDER BY username');
    this.#one = db.prepare('SELECT * FROM admin_accounts WHERE username = ?');
    this.#upsert = db.prepare(
      'INSERT INTO admin_accounts (username, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at',
    );
    this.#remove = db.prepare('DELETE FROM admin_accounts WHERE username = ?');
  }

  async accounts(): Promise<AdminAccount[]> {
    return this.#all.all().map((row) => ({ username: row.username, createdAt: row.created_at, updatedAt: row.updated_at }));
  }

  async setPassword(username: string, password: string): Promise<void> {
    const name = checkAdminName(username);
    checkAdminPassword(password);
    const hash = await hashAdminPassword(password);
    const now = this.#now();
    this.#upsert.run(name, hash, now, now);
  }

  async verify(username: string, password: string): Promise<boolean> {
    const row = typeof username === 'string' ? this.#one.get(username) : undefined;
    if (row === undefined) return verifyNothing(password);
    return verifyAdminPassword(password, row.password_hash);
  }

  async remove(username: string): Promise<void> {
    const name = checkAdminName(username);
    if (this.#remove.run(name).changes === 0) throw unknownAdmin(name);
  }
}
