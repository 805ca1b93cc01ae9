import type { Logger } from '../util/index.js';
import { MemoryAdminStore } from './admin/memory-admin-store.js';
import { SqliteAdminStore } from './admin/sqlite-admin-store.js';
import type { AdminStore } from './admin-store.js';
import { MemoryAppDataStore } from './app-data/memory-app-data-store.js';
import { SqliteAppDataStore } from './app-data/sqlite-app-data-store.js';
import type { AppDataStore } from './app-data-store.js';
import { MemoryLocationStore } from './location/memory-location-store.js';
import { SqliteLocationStore } from './location/sqlite-location-store.js';
import type { LocationStore } from './location-store.js';
import { openDatabase } from './sqlite/database.js';
import { MemoryUserStore } from './user/memory-user-store.js';
import { SqliteUserStore } from './user/sqlite-user-store.js';
import type { UserStore } from './user-store.js';

/** Siplet's persistent state: registrations, the realms and users of digest authentication, admin accounts, apps' data. */
export interface DataStore {
  readonly location: LocationStore;
  readonly users: UserStore;
  /** The accounts of the admin console and API. */
  readonly admins: AdminStore;
  /** Applications' own data (`APP_DATA`), a key-value table per application. */
  readonly appData: AppDataStore;
  /** Closes the underlying storage; the stores must not be used after. Idempotent. */
  close(): Promise<void>;
}

export interface DataStoreOptions {
  /** The clock deciding what has expired. Default: `Date.now`. */
  now?: () => number;
}

/**
 * Opens the SQLite data store at `<dataDir>/siplet.db`, creating the directory, the file and the
 * schema when missing and migrating an older schema. Several processes may open it at once (a
 * running server and the `siplet users` command): WAL mode, and writers wait for each other.
 *
 * Throws `SIPLET_STORE_OPEN_FAILED` when it cannot.
 *
 * @example
 * const store = openDataStore(config.dataDir, logger);
 * await store.users.addRealm('example.com');
 * await store.close();
 */
export function openDataStore(dataDir: string, logger: Logger, options: DataStoreOptions = {}): DataStore {
  const db = openDatabase(dataDir, logger);
  let open = true;
  return {
    location: new SqliteLocationStore(db, options),
    users: new SqliteUserStore(db, options),
    admins: new SqliteAdminStore(db, options),
    appData: new SqliteAppDataStore(db, options),
    async close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}

/** A data store in memory, for tests and embedding: nothing survives the process. */
export function createMemoryDataStore(options: DataStoreOptions = {}): DataStore {
  return { location: new MemoryLocationStore(options), users: new MemoryUserStore(), admins: new MemoryAdminStore(options), appData: new MemoryAppDataStore(options), close: async () => {} };
}

/** Default period of `startPurging`. */
export const PURGE_INTERVAL_MS = 60_000;

/**
 * Deletes expired bindings every `intervalMs` on an unref'd timer (it never keeps the process
 * alive), for whoever opened the store; `stop()` ends it. Reads never return expired bindings
 * anyway: the purge only keeps the store small.
 */
export function startPurging(location: LocationStore, options: { logger: Logger; intervalMs?: number }): { stop(): void } {
  const timer = setInterval(() => {
    location.purgeExpired().then(
      (n) => {
        if (n > 0) options.logger.debug({ purged: n }, 'expired bindings purged');
      },
      (err: unknown) => options.logger.warn({ err }, 'purging expired bindings failed; will try again'),
    );
  }, options.intervalMs ?? PURGE_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
