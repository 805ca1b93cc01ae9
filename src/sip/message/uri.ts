import { NO_PARAMS, Parameters, copyParams, parseParams } from './scanner.js';

/**
 * SIP and SIPS URIs (RFC 3261 §19.1), tel URIs (RFC 3966) and any other
 * absolute URI, kept opaque. `parseUri` never throws: it returns `undefined`
 * for text that is not a URI.
 */
export type Uri = SipUri | TelUri | AbsoluteUri;

/** user = 1*( unreserved / escaped / user-unreserved ) — RFC 3261 §25.1 */
const USER_SAFE = /[A-Za-z0-9\-_.!~*'()&=+$,;?/]/;
/** characters never allowed anywhere in a URI as carried in a header (§25.1) */
const FORBIDDEN_RE = /[\s<>"{}|\\^`]/;
const TEL_NUMBER_RE = /^\+?[0-9A-Fa-f*#.()\-pPwW]+$/;

/*
 * Character tables for the per-message scans, so that no regex runs on the
 * common path: bit 1 scheme characters after the first ([A-Za-z0-9+.-]),
 * bit 2 host characters ([A-Za-z0-9_.-]), bit 4 the ASCII characters
 * FORBIDDEN_RE matches, bit 8 IPv6 reference body characters ([0-9A-Fa-f:.]).
 */
const CHARS = new Uint8Array(128);
function mark(bit: number, chars: string): void {
  for (let i = 0; i < chars.length; i++) CHARS[chars.charCodeAt(i)] |= bit;
}
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
mark(1, ALNUM + '+.-');
mark(2, ALNUM + '_.-');
mark(4, '\t\n\v\f\r <>"{}|\\^`');
mark(8, '0123456789abcdefABCDEF:.');

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Whether s[start, end) is a non-empty run of characters all carrying `bit`. */
function allOf(bit: number, s: string, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CHARS[c] & bit) === 0) return false;
  }
  return true;
}

/** Whether `s` holds a '%': a short text (a user part) is read in a loop, which answers sooner than a native search. */
function hasPercent(s: string): boolean {
  const n = s.length;
  if (n > 32) return s.indexOf('%') >= 0;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) === 37) return true;
  return false;
}

export function percentDecode(s: string): string {
  if (!hasPercent(s)) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    // Not valid UTF-8 once decoded, or a stray '%': decode byte-wise and keep bad escapes literal.
    return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

function escapeUser(s: string): string {
  let out = '';
  for (const ch of s) {
    if (USER_SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** A sip: or sips: URI. Fields are mutable; `toString()` regenerates from them. */
export class SipUri {
  scheme: 'sip' | 'sips';
  /** The user part, escaped as on the wire (`%40` stays `%40`). */
  rawUser: string | undefined;
  password: string | undefined;
  /** Host as written; IPv6 references keep their brackets (`[2001:db8::1]`). */
  host: string;
  port: number | undefined;
  // NO_PARAMS until `params` / `headers` is first read: most URIs carry none
  #params: Parameters;
  #headers: Parameters;

  constructor(init: {
    scheme?: 'sip' | 'sips';
    user?: string;
    rawUser?: string;
    password?: string;
    host: string;
    port?: number;
    params?: Parameters;
    headers?: Parameters;
  }) {
    this.scheme = init.scheme ?? 'sip';
    this.rawUser = init.rawUser ?? (init.user !== undefined ? escapeUser(init.user) : undefined);
    this.password = init.password;
    this.host = init.host;
    this.port = init.port;
    this.#params = init.params ?? NO_PARAMS;
    this.#headers = init.headers ?? NO_PARAMS;
  }

  /** The URI parameters (`;transport=tcp;lr`), to read or change in place. */
  get params(): Parameters {
    let p = this.#params;
    if (p === NO_PARAMS) p = this.#params = new Parameters();
    return p;
  }

  /** The URI headers (`?Subject=x&Priority=urgent`), to read or change in place. */
  get headers(): Parameters {
    let h = this.#headers;
    if (h === NO_PARAMS) h = this.#headers = new Parameters();
    return h;
  }

  get isSip(): true {
    return true;
  }

  /** The user part with %HH escapes decoded once (never recursively). */
  get user(): string | undefined {
    return this.rawUser === undefined ? undefined : percentDecode(this.rawUser);
  }

  set user(value: string | undefined) {
    this.rawUser = value === undefined ? undefined : escapeUser(value);
  }

  /** The host without IPv6 brackets, as a socket API wants it. */
  get hostname(): string {
    return this.host.charCodeAt(0) === 91 ? this.host.slice(1, -1) : this.host;
  }

  get secure(): boolean {
    return this.scheme === 'sips';
  }

  /** `transport` URI parameter, lower-cased, if any. */
  get transport(): string | undefined {
    const t = this.#params.get('transport');
    return t ? t.toLowerCase() : undefined;
  }

  get lr(): boolean {
    return this.#params.has('lr');
  }

  clone(): SipUri {
    return new SipUri({
      scheme: this.scheme,
      rawUser: this.rawUser,
      password: this.password,
      host: this.host,
      port: this.port,
      params: copyParams(this.#params),
      headers: copyParams(this.#headers),
    });
  }

  toString(): string {
    let s = this.scheme + ':';
    if (this.rawUser !== undefined) {
      s += this.rawUser;
      if (this.password !== undefined) s += ':' + this.password;
      s += '@';
    }
    s += this.host;
    if (this.port !== undefined) s += ':' + this.port;
    if (this.#params.size > 0) s += this.#params.toString();
    if (this.#headers.size > 0) s += this.#headers.toString('&', '?');
    return s;
  }
}

/** A tel: URI (RFC 3966): the number and its parameters. */
export class TelUri {
  readonly scheme = 'tel' as const;
  number: string;
  readonly params: Parameters;

  constructor(number: string, params = new Parameters()) {
    this.number = number;
    this.params = params;
  }

  get isSip(): false {
    return false;
  }

  get global(): boolean {
    return this.number.startsWith('+');
  }

  clone(): TelUri {
    return new TelUri(this.number, this.params.clone());
  }

  toString(): string {
    return 'tel:' + this.number + this.params.toString();
  }
}

/** Any other absolute URI (`http:`, `urn:`, `soap.beep:` …), kept opaque. */
export class AbsoluteUri {
  readonly scheme: string;
  readonly value: string;

  constructor(scheme: string, value: string) {
    this.scheme = scheme;
    this.value = value;
  }

  get isSip(): false {
    return false;
  }

  clone(): AbsoluteUri {
    return new AbsoluteUri(this.scheme, this.value);
  }

  toString(): string {
    return this.scheme + ':' + this.value;
  }
}

/**
 * Parses a URI, or the range `text[start, end)` of a longer text as if it had
 * been sliced out. Returns `undefined` when the text is not a well-formed URI.
 */
export function parseUri(text: string, start = 0, end = text.length): Uri | undefined {
  let colon = -1;
  for (let i = start; i < end; i++) {
    if (text.charCodeAt(i) === 58) {
      colon = i;
      break;
    }
  }
  if (colon <= start) return undefined;
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  if (!isAlpha(text.charCodeAt(start)) || (colon - start > 1 && !allOf(1, text, start + 1, colon))) return undefined;
  const rest = colon + 1;
  if (rest === end) return undefined;
  // One pass over the rest: the characters no URI may hold (FORBIDDEN_RE, which alone knows the
  // non-ASCII white space, judges any non-ASCII text), and where '@' and '?' first appear.
  let at = -1;
  let q = -1;
  let judged = false;
  for (let i = rest; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128) {
      if (!judged && FORBIDDEN_RE.test(text.slice(rest, end))) return undefined;
      judged = true;
    } else if ((CHARS[c] & 4) !== 0) return undefined;
    else if (c === 64) {
      if (at < 0) at = i;
    } else if (c === 63 && q < 0) q = i;
  }
  const n = colon - start;
  if ((n === 3 || n === 4) && (text.charCodeAt(start) | 32) === 115 && (text.charCodeAt(start + 1) | 32) === 105 && (text.charCodeAt(start + 2) | 32) === 112) {
    if (n === 3) return parseSipUri('sip', text, rest, end, at, q);
    if ((text.charCodeAt(start + 3) | 32) === 115) return parseSipUri('sips', text, rest, end, at, q);
  }
  const scheme = text.slice(start, colon);
  if (n === 3 && scheme.toLowerCase() === 'tel') return parseTelUri(text.slice(rest, end));
  return new AbsoluteUri(scheme, text.slice(rest, end));
}

/**
 * The part after `sip:` / `sips:`, at s[start, end), with the first '@' and the
 * first '?' in it (-1 when absent).
 */
function parseSipUri(scheme: 'sip' | 'sips', s: string, start: number, end: number, at: number, firstQuery: number): SipUri | undefined {
  let i = start;
  let rawUser: string | undefined;
  let password: string | undefined;
  if (at >= 0) {
    let pc = -1;
    for (let k = start; k < at; k++) {
      if (s.charCodeAt(k) === 58) {
        pc = k;
        break;
      }
    }
    rawUser = s.slice(start, pc >= 0 ? pc : at);
    if (pc >= 0) password = s.slice(pc + 1, at);
    if (rawUser.length === 0) return undefined;
    i = at + 1;
  }
  // host
  let host: string;
  if (i < end && s.charCodeAt(i) === 91) {
    const close = s.indexOf(']', i);
    if (close < 0 || close >= end) return undefined;
    // RFC 5118 §4.8: tolerate the 3-colon form, but it must look like an IPv6 address
    const firstColon = s.indexOf(':', i + 1);
    if (!allOf(8, s, i + 1, close) || firstColon < 0 || firstColon >= close) return undefined;
    host = s.slice(i, close + 1);
    i = close + 1;
  } else {
    // host = [A-Za-z0-9_] *[A-Za-z0-9_.-], up to the first ':', ';' or '?'
    let j = i;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (c >= 128 || (CHARS[c] & 2) === 0) break;
      j++;
    }
    const first = s.charCodeAt(i);
    if (j === i || first === 46 || first === 45) return undefined;
    if (j < end) {
      const stop = s.charCodeAt(j);
      if (stop !== 58 && stop !== 59 && stop !== 63) return undefined;
    }
    host = s.slice(i, j);
    i = j;
  }
  let port: number | undefined;
  if (i < end && s.charCodeAt(i) === 58) {
    let j = i + 1;
    let n = 0;
    for (; j < end; j++) {
      const c = s.charCodeAt(j);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
    }
    if (j === i + 1 || j - i > 6 || n > 65535) return undefined;
    port = n;
    i = j;
  }
  const params = new Parameters();
  let q = firstQuery;
  if (q >= 0 && q < i) {
    // that '?' sat in the user part: look again after the host
    q = -1;
    for (let k = i; k < end; k++) {
      if (s.charCodeAt(k) === 63) {
        q = k;
        break;
      }
    }
  }
  const paramEnd = q < 0 ? end : q;
  if (i < paramEnd) {
    if (s.charCodeAt(i) !== 59) return undefined;
    const stop = parseUriParams(s, i, paramEnd, params);
    if (stop !== paramEnd) return undefined;
  }
  let headers: Parameters | undefined;
  if (q >= 0) {
    headers = new Parameters();
    for (const pair of s.slice(q + 1, end).split('&')) {
      if (pair.length === 0) continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) return undefined;
      headers.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  return new SipUri({ scheme, rawUser, password, host, port, params: params.size > 0 ? params : undefined, headers });
}

/** uri-parameters allow more characters than generic params (`[`, `]`, `/`, `:`, `&`, `+`, `$`, escapes). */
function parseUriParams(s: string, i: number, end: number, into: Parameters): number {
  while (i < end) {
    if (s.charCodeAt(i) !== 59) return i;
    let j = i + 1;
    while (j < end && s.charCodeAt(j) !== 59 && s.charCodeAt(j) !== 61) j++;
    const name = s.slice(i + 1, j);
    if (name.length === 0) return -1;
    let value: string | null = null;
    if (j < end && s.charCodeAt(j) === 61) {
      let k = j + 1;
      while (k < end && s.charCodeAt(k) !== 59) k++;
      value = s.slice(j + 1, k);
      j = k;
    }
    into.set(name, value);
    i = j;
  }
  return i;
}

function parseTelUri(s: string): TelUri | undefined {
  const semi = s.indexOf(';');
  const number = semi < 0 ? s : s.slice(0, semi);
  if (!TEL_NUMBER_RE.test(number)) return undefined;
  const params = new Parameters();
  if (semi >= 0 && parseParams(s, semi, params) !== s.length) return undefined;
  return new TelUri(number, params);
}

/**
 * URI equality per RFC 3261 §19.1.4 for sip/sips (user and password case-sensitive
 * after unescaping, host case-insensitive, parameters in both compared, user/ttl/
 * method/maddr/transport must match when present in either); exact text for others.
 */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a instanceof SipUri && b instanceof SipUri) {
    if (a.scheme !== b.scheme) return false;
    if (a.user !== b.user || a.password !== b.password) return false;
    if (a.host.toLowerCase() !== b.host.toLowerCase() || a.port !== b.port) return false;
    for (const name of ['user', 'ttl', 'method', 'maddr', 'transport']) {
      if (a.params.has(name) !== b.params.has(name)) return false;
    }
    for (const [name, value] of a.params.entries()) {
      const other = b.params.get(name);
      if (other === undefined) continue;
      if ((value ?? '').toLowerCase() !== (other ?? '').toLowerCase()) return false;
    }
    if (a.headers.size !== b.headers.size) return false;
    for (const [name, value] of a.headers.entries()) {
      if (percentDecode(b.headers.get(name) ?? '') !== percentDecode(value ?? '')) return false;
    }
    return true;
  }
  if (a instanceof TelUri && b instanceof TelUri) {
    return a.number.replace(/[-.()]/g, '') === b.number.replace(/[-.()]/g, '') && a.params.toString() === b.params.toString();
  }
  return a.toString() === b.toString();
}
