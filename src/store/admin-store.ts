import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { SipletError } from '../util/index.js';

/** An admin account as listings show it: never the password or its hash. */
export interface AdminAccount {
  readonly username: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** When the password was last set, epoch milliseconds. */
  readonly updatedAt: number;
}

/**
 * The accounts that may use the admin console and API (not SIP users: those are `UserStore`'s).
 * Passwords are kept only as salted scrypt hashes (`hashAdminPassword`); verifying costs a
 * deliberate ~50 ms, so callers rate-limit failed attempts and cache successful ones.
 *
 * Errors (`SipletError`): `SIPLET_STORE_INVALID_INPUT` for a malformed user name or an empty
 * password, `SIPLET_STORE_UNKNOWN_USER` when removing an account that does not exist.
 *
 * Implementations: `MemoryAdminStore`, `SqliteAdminStore`; both pass the contract suite in
 * test/unit/store/admin-store.contract.ts.
 */
export interface AdminStore {
  /** Every account, sorted by user name. */
  accounts(): Promise<AdminAccount[]>;
  /** Creates the account, or replaces its password when it exists. */
  setPassword(username: string, password: string): Promise<void>;
  /** True when the account exists and the password is its password. Never throws for a wrong password. */
  verify(username: string, password: string): Promise<boolean>;
  remove(username: string): Promise<void>;
}

/** What a store keeps for one account. */
export interface StoredAdmin extends AdminAccount {
  readonly passwordHash: string;
}

// scrypt with N = 2^15, r = 8, p = 1: about 32 MiB and 50-100 ms per hash (OWASP's minimum is 2^17 with
// r = 8 for interactive logins behind no rate limit; the admin API rate-limits failures per address).
const SCRYPT: Required<Pick<ScryptOptions, 'N' | 'r' | 'p'>> = { N: 1 << 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
const MAX_MEMORY = 64 * 1024 * 1024;
const ADMIN_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

function scryptAsync(password: string, salt: Buffer, params: { N: number; r: number; p: number }, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, { ...params, maxmem: MAX_MEMORY }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/**
 * Hashes an admin password: `scrypt$<N>$<r>$<p>$<salt>$<hash>` (base64url salt of 16 random bytes,
 * 32-byte key). The clear password is not kept anywhere.
 */
export async function hashAdminPassword(password: string): Promise<string> {
  checkAdminPassword(password);
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT, KEY_LENGTH);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Checks a password against a `hashAdminPassword` hash, in constant time. False for a malformed hash. */
export async function verifyAdminPassword(password: string, hash: string): Promise<boolean> {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt' || typeof password !== 'string') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0) || expected.length < 16 || salt.length < 8) return false;
  const key = await scryptAsync(password, salt, { N, r, p }, expected.length);
  return timingSafeEqual(key, expected);
}

/**
 * Spends the time of one verification without a stored hash, so that an unknown account name
 * answers as slowly as a wrong password (no user enumeration by timing).
 */
export async function verifyNothing(password: string): Promise<false> {
  await scryptAsync(typeof password === 'string' ? password : '', DUMMY_SALT, SCRYPT, KEY_LENGTH);
  return false;
}
const DUMMY_SALT = randomBytes(16);

export function checkAdminName(username: string): string {
  if (typeof username !== 'string' || !ADMIN_NAME.test(username)) {
    throw new SipletError('SIPLET_STORE_INVALID_INPUT', `"${String(username)}" is not an admin account name: use 1 to 64 letters, digits and . _ @ -.`, {
      details: { username },
    });
  }
  return username;
}

export function checkAdminPassword(password: string): string {
  if (typeof password !== 'string' || password.length === 0) {
    throw new SipletError('SIPLET_STORE_INVALID_INPUT', 'The admin password is empty: give a non-empty password (a long random one is best).', { details: {} });
  }
  if (password.length > 1024) {
    throw new SipletError('SIPLET_STORE_INVALID_INPUT', 'The admin password is longer than 1024 characters: give a shorter one.', { details: {} });
  }
  return password;
}

export function unknownAdmin(username: string): SipletError {
  return new SipletError('SIPLET_STORE_UNKNOWN_USER', `There is no admin account ${username}.`, { details: { username } });
}
