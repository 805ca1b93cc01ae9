import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SipletError, type Logger } from '../../util/index.js';

/** The SQLite database handle the SQLite stores share. */
export type SqliteDatabase = Database.Database;

/** The file under the data directory. */
export const DATABASE_FILE = 'siplet.db';

/**
 * The schema, one migration per version: `MIGRATIONS[n]` takes a database at version n to n + 1.
 * Append only: a released migration never changes, a new version adds an entry.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE realms (
    name TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE users (
    realm TEXT NOT NULL REFERENCES realms(name) ON DELETE CASCADE,
    username TEXT NOT NULL,
    ha1_md5 TEXT NOT NULL,
    ha1_sha256 TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (realm, username)
  );
  CREATE TABLE bindings (
    aor TEXT NOT NULL,
    uri TEXT NOT NULL,
    contact TEXT NOT NULL,
    expires INTEGER NOT NULL,
    q REAL NOT NULL,
    call_id TEXT NOT NULL,
    cseq INTEGER NOT NULL,
    path TEXT NOT NULL DEFAULT '[]',
    instance TEXT,
    reg_id INTEGER,
    source TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (aor, uri)
  );
  CREATE INDEX bindings_by_expiry ON bindings (expires);
  `,
  // 2: admin accounts of the console and API (scrypt hashes, never passwords).
  `
  CREATE TABLE admin_accounts (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 3: applications' own data (AppData, APP_DATA): a key-value table per application, values JSON.
  `
  CREATE TABLE app_data (
    app TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (app, key)
  );
  `,
];

/** The schema version this Siplet writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (creating the directory and the file when missing) `<dataDir>/siplet.db` in WAL mode and
 * brings its schema to `SCHEMA_VERSION`, each migration in its own transaction, recorded in the
 * `schema_version` table. `dataDir` ':memory:' opens a private in-memory database (tests).
 *
 * Throws `SIPLET_STORE_OPEN_FAILED` when the directory or file cannot be created or opened, or
 * when the database was written by a newer Siplet (a schema version this one does not know).
 */
export function openDatabase(dataDir: string, logger: Logger): SqliteDatabase {
  const file = dataDir === ':memory:' ? ':memory:' : join(dataDir, DATABASE_FILE);
  let db: SqliteDatabase;
  try {
    if (file !== ':memory:') mkdirSync(dataDir, { recursive: true });
    db = new Database(file);
  } catch (error) {
    throw new SipletError('SIPLET_STORE_OPEN_FAILED', `Cannot open the data store ${file}: ${(error as Error).message}. Point --data / SIPLET_DATA at a writable directory.`, {
      cause: error,
      details: { file },
    });
  }
  try {
    db.pragma('journal_mode = WAL');
    // Several processes (a running server and `siplet users add`) may write: wait for the lock.
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db, file, logger);
  } catch (error) {
    db.close();
    if (SipletError.is(error)) throw error;
    throw new SipletError('SIPLET_STORE_OPEN_FAILED', `Cannot open the data store ${file}: ${(error as Error).message}. Is it a Siplet database?`, { cause: error, details: { file } });
  }
  return db;
}

function migrate(db: SqliteDatabase, file: string, logger: Logger): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  if (row === undefined) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
  const from = row?.version ?? 0;
  if (from > SCHEMA_VERSION) {
    throw new SipletError(
      'SIPLET_STORE_OPEN_FAILED',
      `The data store ${file} has schema version ${from}, newer than this Siplet's ${SCHEMA_VERSION}: it was written by a newer Siplet. Upgrade Siplet, or point --data at another directory.`,
      { details: { file, version: from, supported: SCHEMA_VERSION } },
    );
  }
  for (let version = from; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] as string);
      db.prepare('UPDATE schema_version SET version = ?').run(version + 1);
    })();
    logger.info({ file, version: version + 1 }, 'data store schema migrated');
  }
}
