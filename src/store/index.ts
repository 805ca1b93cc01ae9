/**
 * The data store: Siplet's persistent state behind interfaces, so that a networked store (Redis,
 * for cluster mode) can follow. It owns the location service's bindings (`LocationStore`), the
 * realms and users of digest authentication with their HA1 hashes (`UserStore`), the admin
 * console's accounts with salted scrypt hashes (`AdminStore`), applications' own data (`AppDataStore`), the SQLite
 * database at `<dataDir>/siplet.db` with its schema versions, the in-memory implementations, and
 * the management operations the CLI and the admin console use. It knows nothing of transactions,
 * the container or applications.
 */
export { normalizeAor } from './aor.js';
export {
  compareBindings,
  requireAor,
  type Binding,
  type BindingChanges,
  type BindingSource,
  type LocationStore,
  type LocationStoreOptions,
} from './location-store.js';
export { MemoryLocationStore } from './location/memory-location-store.js';
export { SqliteLocationStore } from './location/sqlite-location-store.js';
export { ha1, normalizeRealm, type Credentials, type UserInfo, type UserStore } from './user-store.js';
export { MemoryUserStore } from './user/memory-user-store.js';
export { SqliteUserStore } from './user/sqlite-user-store.js';
export { hashAdminPassword, verifyAdminPassword, type AdminAccount, type AdminStore } from './admin-store.js';
export { MemoryAdminStore } from './admin/memory-admin-store.js';
export { SqliteAdminStore } from './admin/sqlite-admin-store.js';
export {
  MAX_APP_DATA_KEY,
  MAX_APP_DATA_VALUE,
  type AppDataEntry,
  type AppDataStore,
} from './app-data-store.js';
export { MemoryAppDataStore } from './app-data/memory-app-data-store.js';
export { SqliteAppDataStore } from './app-data/sqlite-app-data-store.js';
export { DATABASE_FILE, openDatabase, SCHEMA_VERSION, type SqliteDatabase } from './sqlite/database.js';
export {
  createMemoryDataStore,
  openDataStore,
  PURGE_INTERVAL_MS,
  startPurging,
  type DataStore,
  type DataStoreOptions,
} from './data-store.js';
export { Management, parseUserAddress, type RealmSummary } from './management.js';
