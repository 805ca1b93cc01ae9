import { randomBytes } from 'node:crypto';
import { formatAuthParams, parseAuthParams } from './auth-params.js';
import { digestHa1, digestResponse, parseAlgorithm } from './digest.js';

export interface ChallengeAnswerInput {
  /** The WWW-Authenticate (401) or Proxy-Authenticate (407) values of the response, in order. */
  challenges: readonly string[];
  method: string;
  /** The Request-URI of the request that will carry the credentials. */
  uri: string;
  /** The user name and password for a realm, or `undefined` when the UAC has none for it. */
  credentialsFor(realm: string): { username: string; password: string } | undefined;
}

export interface ChallengeAnswer {
  /** One credentials value per realm answered: the value of an Authorization / Proxy-Authorization header. */
  readonly answers: readonly { readonly realm: string; readonly value: string }[];
  /** Realms challenged that no credentials were found for. */
  readonly missing: readonly string[];
}

/** Nonce-counts of the nonces this process answered, so a nonce reused for another request counts up (RFC 2617 §3.2.2). */
const sentCounts = new Map<string, number>();
const MAX_SENT_COUNTS = 1024;

function nextCount(nonce: string): number {
  const n = (sentCounts.get(nonce) ?? 0) + 1;
  sentCounts.delete(nonce);
  if (sentCounts.size >= MAX_SENT_COUNTS) {
    const oldest = sentCounts.keys().next().value;
    if (oldest !== undefined) sentCounts.delete(oldest);
  }
  sentCounts.set(nonce, n);
  return n;
}

/**
 * The UAC side of digest authentication (RFC 3261 §22.2, §22.3; RFC 8760 §2.4): for each realm
 * challenged, the first challenge (in header order, so the server's preference) whose algorithm
 * is SHA-256, MD5 or their -sess variants and whose qop allows `auth` (or that has no qop), is
 * answered with a fresh cnonce and the next nonce-count.
 */
export function answerChallenges(input: ChallengeAnswerInput): ChallengeAnswer {
  const answers: { realm: string; value: string }[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const text of input.challenges) {
    const challenge = parseAuthParams(text);
    if (challenge === undefined || challenge.scheme.toLowerCase() !== 'digest') continue;
    const p = challenge.params;
    const realm = p.get('realm');
    const nonce = p.get('nonce');
    const algorithm = parseAlgorithm(p.get('algorithm'));
    const qops = p.get('qop')?.split(',').map((q) => q.trim().toLowerCase());
    if (realm === undefined || nonce === undefined || algorithm === undefined || seen.has(realm)) continue;
    if (qops !== undefined && !qops.includes('auth')) continue;
    seen.add(realm);
    const credentials = input.credentialsFor(realm);
    if (credentials === undefined) {
      missing.push(realm);
      continue;
    }
    const qop = qops === undefined ? undefined : 'auth';
    const cnonce = qop !== undefined || algorithm.endsWith('-sess') ? randomBytes(12).toString('base64url') : undefined;
    const nc = qop === undefined ? undefined : nextCount(nonce).toString(16).padStart(8, '0');
    const response = digestResponse({
      algorithm,
      ha1: digestHa1(algorithm, credentials.username, realm, credentials.password),
      nonce,
      method: input.method,
      uri: input.uri,
      qop,
      nc,
      cnonce,
    });
    const params: [string, string, 'quoted' | 'token'][] = [
      ['username', credentials.username, 'quoted'],
      ['realm', realm, 'quoted'],
      ['nonce', nonce, 'quoted'],
      ['uri', input.uri, 'quoted'],
      ['response', response, 'quoted'],
      ['algorithm', algorithm, 'token'],
    ];
    if (cnonce !== undefined) params.push(['cnonce', cnonce, 'quoted']);
    if (qop !== undefined && nc !== undefined) params.push(['qop', qop, 'token'], ['nc', nc, 'token']);
    const opaque = p.get('opaque');
    if (opaque !== undefined) params.push(['opaque', opaque, 'quoted']);
    answers.push({ realm, value: formatAuthParams('Digest', params) });
  }
  return { answers, missing };
}
