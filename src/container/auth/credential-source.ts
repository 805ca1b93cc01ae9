/**
 * One user's digest credentials in one realm: what the authenticator needs, and nothing that
 * reveals the password. HA1 is `H(username ":" realm ":" password)` in lower-case hex (RFC 2617
 * §3.2.2.2, RFC 8760 §2), once with MD5 and once with SHA-256, so either algorithm can be verified.
 */
export interface DigestCredentials {
  /** The canonical user name: what `getUserPrincipal()` returns. */
  username: string;
  realm: string;
  /** MD5(username:realm:password), 32 lower-case hex digits. */
  ha1Md5: string;
  /** SHA-256(username:realm:password), 64 lower-case hex digits. */
  ha1Sha256: string;
  /** What `isUserInRole` answers and security constraints check. */
  roles: string[];
}

/**
 * Where digest authentication finds users: the server's user store implements it, tests use an
 * in-memory one. Called on the request path, so it answers synchronously (keep users in memory).
 *
 * Hazard: `username` is what the client sent, unverified; compare it exactly (no wildcard
 * matching), and answer `undefined` for an unknown user or realm.
 *
 * @example
 * const users: CredentialSource = {
 *   credentials: (realm, username) => (realm === 'example.com' && username === 'alice'
 *     ? { username, realm, ha1Md5: digestHa1('MD5', username, realm, 'secret'), ha1Sha256: digestHa1('SHA-256', username, realm, 'secret'), roles: [] }
 *     : undefined),
 * };
 */
export interface CredentialSource {
  credentials(realm: string, username: string): DigestCredentials | undefined;
}
