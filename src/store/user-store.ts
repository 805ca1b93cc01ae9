import { createHash } from 'node:crypto';
import { SipletError } from '../util/index.js';

/**
 * What digest authentication (RFC 3261 §22.4, RFC 8760) needs of a user: the HA1 hashes, never
 * the password, and the roles a security constraint checks.
 */
export interface Credentials {
  readonly username: string;
  readonly realm: string;
  /** MD5(username ":" realm ":" password), lower-case hex (RFC 2617 §3.2.2.2). */
  readonly ha1Md5: string;
  /** SHA-256(username ":" realm ":" password), lower-case hex (RFC 8760 §2). */
  readonly ha1Sha256: string;
  readonly roles: string[];
}

/** A user as listings show it: no hashes. */
export interface UserInfo {
  readonly username: string;
  readonly realm: string;
  readonly roles: string[];
}

/**
 * Realms (the domains Siplet serves and challenges for) and their users. Passwords are stored
 * only as HA1 hashes, MD5 and SHA-256; the clear password is never kept, so changing a realm's
 * name would need every password again.
 *
 * Realm names are domain names or IPv4 addresses, stored lower-cased; user names are the user
 * part of a SIP URI (no `@`, `:` or white space), case-sensitive.
 *
 * Errors (`SipletError`): `SIPLET_STORE_INVALID_INPUT` for a malformed realm, user name or role, or
 * an empty password; `SIPLET_STORE_UNKNOWN_REALM`, `SIPLET_STORE_DUPLICATE_REALM`,
 * `SIPLET_STORE_UNKNOWN_USER`, `SIPLET_STORE_DUPLICATE_USER` as their names say.
 *
 * Implementations: `MemoryUserStore`, `SqliteUserStore`; both pass the contract suite in
 * test/unit/store/user-store.contract.ts. Every method but `credentials` is asynchronous so that
 * a networked store can implement it.
 */
export interface UserStore {
  addRealm(realm: string): Promise<void>;
  /** Removes the realm and every user of it; returns how many users went with it. */
  removeRealm(realm: string): Promise<number>;
  /** Every realm, sorted. */
  realms(): Promise<string[]>;
  hasRealm(realm: string): Promise<boolean>;
  addUser(username: string, realm: string, password: string, roles?: readonly string[]): Promise<void>;
  removeUser(username: string, realm: string): Promise<void>;
  setPassword(username: string, realm: string, password: string): Promise<void>;
  /** The users of one realm, or of every realm; sorted by realm, then user name. */
  users(realm?: string): Promise<UserInfo[]>;
  /**
   * What digest authentication checks a response against; `undefined` for an unknown user or realm.
   * The realm is compared without regard to case, the user name exactly.
   *
   * Hazard: synchronous, unlike the rest, because digest authentication verifies a request on the
   * message path without awaiting (it is the `CredentialSource` of src/container/auth). A networked
   * store must answer it from a local copy it keeps current.
   */
  credentials(realm: string, username: string): Credentials | undefined;
}

/** HA1 of RFC 2617 §3.2.2.2 (MD5) and RFC 8760 §2 (SHA-256): hex of hash(username:realm:password). */
export function ha1(algorithm: 'MD5' | 'SHA-256', username: string, realm: string, password: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(`${username}:${realm}:${password}`, 'utf8')
    .digest('hex');
}

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** RFC 3261 §25.1 user: unreserved / escaped / user-unreserved, without ':' (it would make HA1 ambiguous). */
const USER = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+$/;
const ROLE = /^[A-Za-z0-9_.:-]+$/;

function invalid(message: string, details: Record<string, unknown>): SipletError {
  return new SipletError('SIPLET_STORE_INVALID_INPUT', message, { details });
}

/** The realm lower-cased, or `SIPLET_STORE_INVALID_INPUT` unless it is a domain name or an IPv4 address. */
export function normalizeRealm(realm: string): string {
  const name = typeof realm === 'string' ? realm.trim().toLowerCase() : '';
  if (name.length === 0 || name.length > 253 || !name.split('.').every((label) => label.length <= 63 && LABEL.test(label))) {
    throw invalid(`"${String(realm)}" is not a realm: give a domain name such as example.com (letters, digits, '-' and '.').`, { realm });
  }
  return name;
}

export function checkUsername(username: string): string {
  if (typeof username !== 'string' || username.length === 0 || username.length > 128 || !USER.test(username)) {
    throw invalid(
      `"${String(username)}" is not a user name: give the user part of a SIP address (letters, digits and - _ . ! ~ * ' ( ) & = + $ , ; ? /), without '@', ':' or spaces.`,
      { username },
    );
  }
  return username;
}

export function checkPassword(password: string): string {
  if (typeof password !== 'string' || password.length === 0) throw invalid('The password is empty: give a non-empty password.', {});
  return password;
}

export function checkRoles(roles: readonly string[] | undefined): string[] {
  const list = [...new Set(roles ?? [])];
  for (const role of list) {
    if (typeof role !== 'string' || !ROLE.test(role)) {
      throw invalid(`"${String(role)}" is not a role name: use letters, digits and _ . : -.`, { role });
    }
  }
  return list.sort();
}

export function unknownRealm(realm: string): SipletError {
  return new SipletError('SIPLET_STORE_UNKNOWN_REALM', `There is no realm ${realm}. Add it first: siplet realms add ${realm}.`, { details: { realm } });
}

export function duplicateRealm(realm: string): SipletError {
  return new SipletError('SIPLET_STORE_DUPLICATE_REALM', `The realm ${realm} exists already.`, { details: { realm } });
}

export function unknownUser(username: string, realm: string): SipletError {
  return new SipletError('SIPLET_STORE_UNKNOWN_USER', `There is no user ${username} in the realm ${realm}. List them: siplet users list ${realm}.`, {
    details: { username, realm },
  });
}

export function duplicateUser(username: string, realm: string): SipletError {
  return new SipletError(
    'SIPLET_STORE_DUPLICATE_USER',
    `The user ${username} exists already in the realm ${realm}. Change the password with: siplet users passwd ${username}@${realm}.`,
    { details: { username, realm } },
  );
}
