import {
  checkAdminName,
  checkAdminPassword,
  hashAdminPassword,
  unknownAdmin,
  verifyAdminPassword,
  verifyNothing,
  type AdminAccount,
  type AdminStore,
  type StoredAdmin,
} from '../admin-store.js';

/**
 * Admin accounts in process memory (tests, a Siplet without a data directory): scrypt hashes only,
 * like the SQLite store.
 *
 * @example
 * const admins = new MemoryAdminStore();
 * await admins.setPassword('admin', 'a long random password');
 * await admins.verify('admin', 'a long random password'); // true
 */
export class MemoryAdminStore implements AdminStore {
  readonly #accounts = new Map<string, StoredAdmin>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async accounts(): Promise<AdminAccount[]> {
    return [...this.#accounts.values()]
      .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0))
      .map(({ username, createdAt, updatedAt }) => ({ username, createdAt, updatedAt }));
  }

  async setPassword(username: string, password: string): Promise<void> {
    const name = checkAdminName(username);
    checkAdminPassword(password);
    const passwordHash = await hashAdminPassword(password);
    const now = this.#now();
    this.#accounts.set(name, { username: name, passwordHash, createdAt: this.#accounts.get(name)?.createdAt ?? now, updatedAt: now });
  }

  async verify(username: string, password: string): Promise<boolean> {
    const stored = typeof username === 'string' ? this.#accounts.get(username) : undefined;
    if (stored === undefined) return verifyNothing(password);
    return verifyAdminPassword(password, stored.passwordHash);
  }

  async remove(username: string): Promise<void> {
    const name = checkAdminName(username);
    if (!this.#accounts.delete(name)) throw unknownAdmin(name);
  }
}
