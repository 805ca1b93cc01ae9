import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from '../sqlite/database.js';
import {
  checkPassword,
  checkRoles,
  checkUsername,
  duplicateRealm,
  duplicateUser,
  ha1,
  normalizeRealm,
  unknownRealm,
  unknownUser,
  type Credentials,
  type UserInfo,
  type UserStore,
} from '../user-store.js';

interface UserRow {
  realm: string;
  username: string;
  ha1_md5: string;
  ha1_sha256: string;
  roles: string;
}

/**
 * Realms and users in SQLite (the `realms` and `users` tables of `<dataDir>/siplet.db`), HA1
 * hashes only. Open it through `openDataStore`, which owns the database.
 */
export class SqliteUserStore implements UserStore {
  readonly #db: SqliteDatabase;
  readonly #now: () => number;
  readonly #hasRealm: Statement<[string], { name: string }>;
  readonly #addRealm: Statement<[string, number]>;
  readonly #removeRealm: Statement<[string]>;
  readonly #countUsers: Statement<[string], { n: number }>;
  readonly #realms: Statement<[], { name: string }>;
  readonly #user: Statement<[string, string], UserRow>;
  readonly #addUser: Statement<[string, string, string, string, string, number, number]>;
  readonly #removeUser: Statement<[string, string]>;
  readonly #setPassword: Statement<[string, string, number, string, string]>;
  readonly #usersOf: Statement<[string], UserRow>;
  readonly #allUsers: Statement<[], UserRow>;

  constructor(db: SqliteDatabase, options: { now?: () => number } = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#hasRealm = db.prepare('SELECT name FROM realms WHERE name = ?');
    this.#addRealm = db.prepare('INSERT INTO realms (name, created_at) VALUES (?, ?)');
    this.#removeRealm = db.prepare('DELETE FROM realms WHERE name = ?');
    this.#countUsers = db.prepare('SELECT count(*) AS n FROM users WHERE realm = ?');
    this.#realms = db.prepare('SELECT name FROM realms ORDER BY name');
    this.#user = db.prepare('SELECT * FROM users WHERE realm = ? AND username = ?');
    this.#addUser = db.prepare('INSERT INTO users (realm, username, ha1_md5, ha1_sha256, roles, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.#removeUser = db.prepare('DELETE FROM users WHERE realm = ? AND username = ?');
    this.#setPassword = db.prepare('UPDATE users SET ha1_md5 = ?, ha1_sha256 = ?, updated_at = ? WHERE realm = ? AND username = ?');
    this.#usersOf = db.prepare('SELECT * FROM users WHERE realm = ? ORDER BY username');
    this.#allUsers = db.prepare('SELECT * FROM users ORDER BY realm, username');
  }

  async addRealm(realm: string): Promise<void> {
    const name = normalizeRealm(realm);
    this.#db.transaction(() => {
      if (this.#hasRealm.get(name) !== undefined) throw duplicateRealm(name);
      this.#addRealm.run(name, this.#now());
    })();
  }

  async removeRealm(realm: string): Promise<number> {
    const name = normalizeRealm(realm);
    return this.#db.transaction(() => {
      if (this.#hasRealm.get(name) === undefined) throw unknownRealm(name);
      const n = this.#countUsers.get(name)?.n ?? 0;
      // The users go with it (ON DELETE CASCADE).
      this.#removeRealm.run(name);
      return n;
    })();
  }

  async realms(): Promise<string[]> {
    return this.#realms.all().map((r) => r.name);
  }

  async hasRealm(realm: string): Promise<boolean> {
    return this.#hasRealm.get(normalizeRealm(realm)) !== undefined;
  }

  async addUser(username: string, realm: string, password: string, roles?: readonly string[]): Promise<void> {
    const user = checkUsername(username);
    const name = normalizeRealm(realm);
    checkPassword(password);
    const list = checkRoles(roles);
    this.#db.transaction(() => {
      if (this.#hasRealm.get(name) === undefined) throw unknownRealm(name);
      if (this.#user.get(name, user) !== undefined) throw duplicateUser(user, name);
      const now = this.#now();
      this.#addUser.run(name, user, ha1('MD5', user, name, password), ha1('SHA-256', user, name, password), JSON.stringify(list), now, now);
    })();
  }

  async removeUser(username: string, realm: string): Promise<void> {
    const user = checkUsername(username);
    const name = normalizeRealm(realm);
    this.#db.transaction(() => {
      if (this.#hasRealm.get(name) === undefined) throw unknownRealm(name);
      if (this.#removeUser.run(name, user).changes === 0) throw unknownUser(user, name);
    })();
  }

  async setPassword(username: string, realm: string, password: string): Promise<void> {
    const user = checkUsername(username);
    const name = normalizeRealm(realm);
    checkPassword(password);
    this.#db.transaction(() => {
      if (this.#hasRealm.get(name) === undefined) throw unknownRealm(name);
      const changed = this.#setPassword.run(ha1('MD5', user, name, password), ha1('SHA-256', user, name, password), this.#now(), name, user).changes;
      if (changed === 0) throw unknownUser(user, name);
    })();
  }

  async users(realm?: string): Promise<UserInfo[]> {
    if (realm === undefined) return this.#allUsers.all().map(info);
    const name = normalizeRealm(realm);
    if (this.#hasRealm.get(name) === undefined) throw unknownRealm(name);
    return this.#usersOf.all(name).map(info);
  }

  credentials(realm: string, username: string): Credentials | undefined {
    const row = this.#user.get(realm.toLowerCase(), username);
    if (row === undefined) return undefined;
    return { username: row.username, realm: row.realm, ha1Md5: row.ha1_md5, ha1Sha256: row.ha1_sha256, roles: JSON.parse(row.roles) as string[] };
  }
}

function info(row: UserRow): UserInfo {
  return { username: row.username, realm: row.realm, roles: JSON.parse(row.roles) as string[] };
}
