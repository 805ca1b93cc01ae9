import { SipletError } from '../util/index.js';
import type { DataStore } from './data-store.js';
import { requireAor, type Binding } from './location-store.js';
import { checkUsername, duplicateUser, normalizeRealm, unknownRealm, unknownUser, type UserInfo } from './user-store.js';

export interface RealmSummary {
  readonly realm: string;
  /** How many users it has. */
  readonly users: number;
}

/**
 * The management operations on Siplet's data: realms, users and registrations. The `siplet realms`
 * and `siplet users` commands use it, and so will the admin console; neither touches a store
 * directly. Every operation takes one options object and returns a promise; errors are the
 * stores' `SipletError`s (`SIPLET_STORE_*`), whose messages say what to do.
 *
 * @example
 * const manage = new Management(openDataStore(config.dataDir, logger));
 * await manage.addRealm({ realm: 'example.com' });
 * await manage.addUser({ user: 'alice', realm: 'example.com', password: 's3cret' });
 */
export class Management {
  readonly #store: Pick<DataStore, 'location' | 'users'>;

  constructor(store: Pick<DataStore, 'location' | 'users'>) {
    this.#store = store;
  }

  /** Adds a realm; resolves with its stored (lower-cased) name. */
  async addRealm(options: { realm: string }): Promise<string> {
    const realm = normalizeRealm(options.realm);
    await this.#store.users.addRealm(realm);
    return realm;
  }

  async listRealms(): Promise<RealmSummary[]> {
    const users = await this.#store.users.users();
    return (await this.#store.users.realms()).map((realm) => ({ realm, users: users.filter((u) => u.realm === realm).length }));
  }

  /** Removes a realm and its users. */
  async removeRealm(options: { realm: string }): Promise<{ realm: string; usersRemoved: number }> {
    const realm = normalizeRealm(options.realm);
    return { realm, usersRemoved: await this.#store.users.removeRealm(realm) };
  }

  /** Adds a user; the password is kept only as HA1 hashes. `roles` default: none. */
  async addUser(options: { user: string; realm: string; password: string; roles?: readonly string[] }): Promise<UserInfo> {
    const realm = normalizeRealm(options.realm);
    await this.#store.users.addUser(options.user, realm, options.password, options.roles);
    const roles = this.#store.users.credentials(realm, options.user)?.roles ?? [];
    return { username: options.user, realm, roles };
  }

  /**
   * Checks, without changing anything, that `addUser` could add this user (`exists: false`) or that
   * `setPassword` could change its password (`exists: true`): what a prompt checks before asking for
   * a password. Throws the error the operation would.
   */
  async checkUser(options: { user: string; realm: string; exists: boolean }): Promise<void> {
    const user = checkUsername(options.user);
    const realm = normalizeRealm(options.realm);
    if (!(await this.#store.users.hasRealm(realm))) throw unknownRealm(realm);
    const found = this.#store.users.credentials(realm, user) !== undefined;
    if (found && !options.exists) throw duplicateUser(user, realm);
    if (!found && options.exists) throw unknownUser(user, realm);
  }

  /** The users of a realm, or of every realm when `realm` is not given. */
  listUsers(options: { realm?: string } = {}): Promise<UserInfo[]> {
    return this.#store.users.users(options.realm);
  }

  removeUser(options: { user: string; realm: string }): Promise<void> {
    return this.#store.users.removeUser(options.user, options.realm);
  }

  setPassword(options: { user: string; realm: string; password: string }): Promise<void> {
    return this.#store.users.setPassword(options.user, options.realm, options.password);
  }

  /** Current registrations: of one address of record, or all of them. */
  listRegistrations(options: { aor?: string } = {}): Promise<Binding[]> {
    return options.aor === undefined ? this.#store.location.all() : this.#store.location.lookup(options.aor);
  }

  /** Removes one binding (`uri`, the contact URI as listed) or every binding of an address of record; resolves with how many. */
  async removeRegistrations(options: { aor: string; uri?: string }): Promise<number> {
    const aor = requireAor(options.aor);
    if (options.uri === undefined) return this.#store.location.removeAll(aor);
    return (await this.#store.location.remove(aor, options.uri)) ? 1 : 0;
  }
}

/** `alice@example.com` → `{ user: 'alice', realm: 'example.com' }`; `SIPLET_STORE_INVALID_INPUT` otherwise. */
export function parseUserAddress(text: string): { user: string; realm: string } {
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) {
    throw new SipletError('SIPLET_STORE_INVALID_INPUT', `"${text}" is not user@realm: give the user and the realm, such as alice@example.com.`, { details: { text } });
  }
  return { user: checkUsername(text.slice(0, at)), realm: normalizeRealm(text.slice(at + 1)) };
}
