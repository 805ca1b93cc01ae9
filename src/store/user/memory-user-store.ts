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

interface StoredUser {
  ha1Md5: string;
  ha1Sha256: string;
  roles: string[];
}

/**
 * Realms and users in process memory (tests, a Siplet without a data directory). Like the SQLite
 * store it keeps only HA1 hashes.
 *
 * @example
 * const users = new MemoryUserStore();
 * await users.addRealm('example.com');
 * await users.addUser('alice', 'example.com', 'secret', ['admin']);
 */
export class MemoryUserStore implements UserStore {
  /** realm → user name → user */
  readonly #realms = new Map<string, Map<string, StoredUser>>();

  async addRealm(realm: string): Promise<void> {
    const name = normalizeRealm(realm);
    if (this.#realms.has(name)) throw duplicateRealm(name);
    this.#realms.set(name, new Map());
  }

  async removeRealm(realm: string): Promise<number> {
    const name = normalizeRealm(realm);
    const users = this.#realms.get(name);
    if (users === undefined) throw unknownRealm(name);
    this.#realms.delete(name);
    return users.size;
  }

  async realms(): Promise<string[]> {
    return [...this.#realms.keys()].sort();
  }

  async hasRealm(realm: string): Promise<boolean> {
    return this.#realms.has(normalizeRealm(realm));
  }

  async addUser(username: string, realm: string, password: string, roles?: readonly string[]): Promise<void> {
    const user = checkUsername(username);
    const name = normalizeRealm(realm);
    checkPassword(password);
    const list = checkRoles(roles);
    const users = this.#realms.get(name);
    if (users === undefined) throw unknownRealm(name);
    if (users.has(user)) throw duplicateUser(user, name);
    users.set(user, { ha1Md5: ha1('MD5', user, name, password), ha1Sha256: ha1('SHA-256', user, name, password), roles: list });
  }

  async removeUser(username: string, realm: string): Promise<void> {
    const user = checkUsername(username);
    const name = normalizeRealm(realm);
    const users = this.#realms.get(name);
    if (users === undefined) throw unknownRealm(name);
    if (!users.delete(user)) throw unknownUser(user, name);
  }

  async setPassword(username: string, realm: string, password: string): Promise<void> {
    const user = checkUsername(username);
    const name = normalizeRealm(realm);
    checkPassword(password);
    const users = this.#realms.get(name);
    if (users === undefined) throw unknownRealm(name);
    const stored = users.get(user);
    if (stored === undefined) throw unknownUser(user, name);
    stored.ha1Md5 = ha1('MD5', user, name, password);
    stored.ha1Sha256 = ha1('SHA-256', user, name, password);
  }

  async users(realm?: string): Promise<UserInfo[]> {
    const names = realm === undefined ? await this.realms() : [normalizeRealm(realm)];
    const out: UserInfo[] = [];
    for (const name of names) {
      const users = this.#realms.get(name);
      if (users === undefined) throw unknownRealm(name);
      for (const username of [...users.keys()].sort()) out.push({ username, realm: name, roles: [...(users.get(username)?.roles ?? [])] });
    }
    return out;
  }

  credentials(realm: string, username: string): Credentials | undefined {
    const stored = this.#realms.get(realm.toLowerCase())?.get(username);
    if (stored === undefined) return undefined;
    return { username, realm: realm.toLowerCase(), ha1Md5: stored.ha1Md5, ha1Sha256: stored.ha1Sha256, roles: [...stored.roles] };
  }
}
