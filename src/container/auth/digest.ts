import { createHash } from 'node:crypto';

/** The digest algorithms Siplet computes and verifies (RFC 8760 §2: SHA-256 and MD5, and their session variants). */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

/** Every algorithm a server can offer a challenge for (RFC 8760 §2); which and in what order is a setting. */
export const CHALLENGE_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

const BY_NAME: ReadonlyMap<string, DigestAlgorithm> = new Map([
  ['md5', 'MD5'],
  ['md5-sess', 'MD5-sess'],
  ['sha-256', 'SHA-256'],
  ['sha-256-sess', 'SHA-256-sess'],
]);

/** The algorithm an `algorithm` parameter names (case-insensitive); absent means MD5 (RFC 2617 §3.2.1). */
export function parseAlgorithm(text: string | undefined): DigestAlgorithm | undefined {
  return text === undefined ? 'MD5' : BY_NAME.get(text.toLowerCase());
}

/** True for MD5 and MD5-sess: the HA1 they start from is the MD5 one. */
export function usesMd5(algorithm: DigestAlgorithm): boolean {
  return algorithm === 'MD5' || algorithm === 'MD5-sess';
}

/** H(text) in lower-case hex, with the algorithm's hash function. */
export function digestHash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(usesMd5(algorithm) ? 'md5' : 'sha256').update(text, 'utf8').digest('hex');
}

/**
 * HA1 = H(username ":" realm ":" password) (RFC 2617 §3.2.2.2), what a user store keeps instead of
 * the password. For a -sess algorithm this is the base HA1; `digestResponse` derives the session one.
 *
 * @example
 * digestHa1('SHA-256', 'alice', 'example.com', 'secret');
 */
export function digestHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

export interface DigestResponseInput {
  algorithm: DigestAlgorithm;
  /** The base HA1 (H(username:realm:password)) of the algorithm's hash function. */
  ha1: string;
  nonce: string;
  method: string;
  /** The digest-uri as the client wrote it. */
  uri: string;
  /** `auth`, or undefined for an RFC 2069 client that sent no qop. */
  qop?: 'auth';
  /** 8 hex digits; required with qop. */
  nc?: string;
  /** Required with qop and with a -sess algorithm. */
  cnonce?: string;
}

/**
 * The request-digest (RFC 2617 §3.2.2.1, RFC 3261 §22.4): with qop,
 * H(HA1:nonce:nc:cnonce:qop:HA2), without it H(HA1:nonce:HA2), where HA2 = H(method:uri) and, for
 * a -sess algorithm, HA1 = H(base HA1:nonce:cnonce).
 */
export function digestResponse(input: DigestResponseInput): string {
  const { algorithm, nonce, cnonce = '' } = input;
  const ha1 = algorithm.endsWith('-sess') ? digestHash(algorithm, `${input.ha1}:${nonce}:${cnonce}`) : input.ha1;
  const ha2 = digestHash(algorithm, `${input.method}:${input.uri}`);
  return input.qop === undefined
    ? digestHash(algorithm, `${ha1}:${nonce}:${ha2}`)
    : digestHash(algorithm, `${ha1}:${nonce}:${input.nc ?? ''}:${cnonce}:${input.qop}:${ha2}`);
}
