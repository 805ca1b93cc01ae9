/**
 * Header names: compact forms (RFC 3261 §7.3.3 and extensions), canonical
 * spelling, and which headers may carry comma-separated lists (§7.3.1).
 * Names are compared through a lower-case key; compact forms map to the long key.
 */

const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event', // RFC 6665
  u: 'allow-events', // RFC 6665
  r: 'refer-to', // RFC 3515
  b: 'referred-by', // RFC 3892
  x: 'session-expires', // RFC 4028
  a: 'accept-contact', // RFC 3841
  j: 'reject-contact',
  d: 'request-disposition',
  y: 'identity', // RFC 8224
};

const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  rack: 'RAck',
  rseq: 'RSeq',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
};

/** Headers whose values may be combined as a comma-separated list. */
const LIST_HEADERS = new Set([
  'via', 'contact', 'route', 'record-route', 'path', 'service-route', 'allow', 'supported', 'require',
  'proxy-require', 'unsupported', 'accept', 'accept-encoding', 'accept-language', 'content-encoding',
  'content-language', 'alert-info', 'call-info', 'error-info', 'in-reply-to', 'warning', 'allow-events',
  'reason', 'p-asserted-identity', 'p-preferred-identity', 'security-client', 'security-server',
  'security-verify', 'accept-contact', 'reject-contact', 'request-disposition', 'history-info',
  'p-associated-uri', 'privacy',
]);

/** Headers that may appear at most once (RFC 3261 §7.3.1 and Table 2/3). */
export const SINGLE_HEADERS = new Set(['call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-length', 'content-type', 'expires', 'min-expires']);

// Authentication headers carry commas inside a single challenge or credential: never split them.
const NEVER_SPLIT = new Set(['www-authenticate', 'proxy-authenticate', 'authorization', 'proxy-authorization', 'authentication-info']);

const keyCache = new Map<string, string>();
const KEY_CACHE_MAX = 512;

/** The lower-case long-form key for a header name as written (`v`, `VIA` → `via`). */
export function headerKey(name: string): string {
  const cached = keyCache.get(name);
  if (cached !== undefined) return cached;
  const lower = name.toLowerCase();
  const key = lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
  // Bounded so that a stream of made-up header names cannot grow it without limit.
  if (keyCache.size < KEY_CACHE_MAX) keyCache.set(name, key);
  return key;
}

/** The conventional spelling for a key (`call-id` → `Call-ID`, `x-foo` → `X-Foo`). */
export function canonicalName(key: string): string {
  const special = CANONICAL[key];
  if (special !== undefined) return special;
  return key.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key) && !NEVER_SPLIT.has(key);
}

/** The compact letter for a long key, if one exists. */
export function compactName(key: string): string | undefined {
  for (const [letter, long] of Object.entries(COMPACT)) if (long === key) return letter;
  return undefined;
}
