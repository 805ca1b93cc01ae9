/**
 * Header names: compact forms (RFC 3261 §7.3.3 and extensions), canonical
 * spelling, and which headers may carry comma-separated lists (§7.3.1).
 * Names are compared through a lower-case key; compact forms map to the long key.
 */

import { matchAt } from './scanner.js';

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
  // An already lower-case name is returned as given: usually a literal, so comparisons stay identity checks.
  const key = lower.length === 1 ? (COMPACT[lower] ?? lower) : lower === name ? name : lower;
  // Bounded so that a stream of made-up header names cannot grow it without limit.
  if (keyCache.size < KEY_CACHE_MAX) keyCache.set(name, key);
  return key;
}

/**
 * Headers the parser keeps track of while it reads the lines: those every
 * message must carry (RFC 3261 §8.1.1) and those that may appear only once.
 * Slot 0 is every other header.
 */
export const SLOT_VIA = 1;
export const SLOT_FROM = 2;
export const SLOT_TO = 3;
export const SLOT_CALL_ID = 4;
export const SLOT_CSEQ = 5;
export const SLOT_MAX_FORWARDS = 6;
export const SLOT_CONTENT_LENGTH = 7;
export const SLOT_CONTENT_TYPE = 8;
export const SLOT_EXPIRES = 9;
export const SLOT_MIN_EXPIRES = 10;
/** The key of each slot; `SLOT_KEYS[SLOT_CSEQ]` is `'cseq'`. */
export const SLOT_KEYS: readonly string[] = ['', 'via', 'from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type', 'expires', 'min-expires'];
const SLOT_BY_KEY = new Map(SLOT_KEYS.map((key, slot) => [key, slot]));
SLOT_BY_KEY.delete('');

/** The slot of a header key, 0 for the headers the parser does not track. */
export function headerSlot(key: string): number {
  return SLOT_BY_KEY.get(key) ?? 0;
}

/**
 * Spellings found on nearly every message — canonical, compact, and the common
 * `Call-Id`/`Cseq` variants — with their keys as literals. The parser matches
 * them in place, so for these it slices no name, computes no key and needs no
 * token check.
 */
const COMMON: readonly (readonly [string, string])[] = [
  ['Via', 'via'], ['v', 'via'], ['From', 'from'], ['f', 'from'], ['To', 'to'], ['t', 'to'],
  ['Call-ID', 'call-id'], ['Call-Id', 'call-id'], ['i', 'call-id'], ['CSeq', 'cseq'], ['Cseq', 'cseq'],
  ['Max-Forwards', 'max-forwards'], ['Contact', 'contact'], ['m', 'contact'], ['Allow', 'allow'],
  ['Supported', 'supported'], ['k', 'supported'], ['Require', 'require'], ['Proxy-Require', 'proxy-require'],
  ['Unsupported', 'unsupported'], ['User-Agent', 'user-agent'], ['Server', 'server'],
  ['Content-Type', 'content-type'], ['c', 'content-type'], ['Content-Length', 'content-length'], ['l', 'content-length'],
  ['Content-Disposition', 'content-disposition'], ['Content-Encoding', 'content-encoding'], ['e', 'content-encoding'],
  ['Route', 'route'], ['Record-Route', 'record-route'], ['Path', 'path'], ['Service-Route', 'service-route'],
  ['Expires', 'expires'], ['Min-Expires', 'min-expires'], ['Session-Expires', 'session-expires'], ['x', 'session-expires'],
  ['Min-SE', 'min-se'], ['Accept', 'accept'], ['Accept-Encoding', 'accept-encoding'], ['Accept-Language', 'accept-language'],
  ['Allow-Events', 'allow-events'], ['u', 'allow-events'], ['Event', 'event'], ['o', 'event'],
  ['Subscription-State', 'subscription-state'], ['Date', 'date'], ['Timestamp', 'timestamp'],
  ['Authorization', 'authorization'], ['Proxy-Authorization', 'proxy-authorization'],
  ['WWW-Authenticate', 'www-authenticate'], ['Proxy-Authenticate', 'proxy-authenticate'],
  ['Authentication-Info', 'authentication-info'], ['P-Asserted-Identity', 'p-asserted-identity'],
  ['P-Preferred-Identity', 'p-preferred-identity'], ['Privacy', 'privacy'], ['Reason', 'reason'],
  ['Refer-To', 'refer-to'], ['r', 'refer-to'], ['Referred-By', 'referred-by'], ['b', 'referred-by'],
  ['RSeq', 'rseq'], ['RAck', 'rack'], ['Warning', 'warning'], ['Organization', 'organization'],
  ['Subject', 'subject'], ['s', 'subject'], ['Call-Info', 'call-info'], ['Alert-Info', 'alert-info'],
  ['MIME-Version', 'mime-version'], ['Identity', 'identity'], ['y', 'identity'],
];

/** Names as written, their keys and slots, for the common spellings. */
export const COMMON_NAMES: readonly string[] = COMMON.map(([name]) => name);
export const COMMON_KEYS: readonly string[] = COMMON.map(([, key]) => key);
export const COMMON_SLOTS: readonly number[] = COMMON_KEYS.map(headerSlot);
/** `COMMON_BY_LENGTH[n]`: the indexes of the common spellings n characters long. */
const COMMON_BY_LENGTH: number[][] = [];
COMMON_NAMES.forEach((name, i) => (COMMON_BY_LENGTH[name.length] ??= []).push(i));
for (const [name, key] of COMMON) {
  if (headerKey(name) !== key) throw new Error(`header-names: ${name} should have the key ${headerKey(name)}`);
}

/**
 * The index in `COMMON_NAMES` of the name written exactly (case included) at
 * `s[start, end)`, or -1. Allocates nothing.
 */
export function commonHeader(s: string, start: number, end: number): number {
  const candidates = COMMON_BY_LENGTH[end - start];
  if (candidates === undefined) return -1;
  for (let k = 0; k < candidates.length; k++) {
    const i = candidates[k] as number;
    if (matchAt(s, start, COMMON_NAMES[i] as string)) return i;
  }
  return -1;
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
