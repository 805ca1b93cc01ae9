import { Parameters, parseParams } from './scanner.js';

/**
 * SIP and SIPS URIs (RFC 3261 §19.1), tel URIs (RFC 3966) and any other
 * absolute URI, kept opaque. `parseUri` never throws: it returns `undefined`
 * for text that is not a URI.
 */
export type Uri = SipUri | TelUri | AbsoluteUri;

const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*$/;
/** user = 1*( unreserved / escaped / user-unreserved ) — RFC 3261 §25.1 */
const USER_SAFE = /[A-Za-z0-9\-_.!~*'()&=+$,;?/]/;
const HOST_RE = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*)$/;
const IPV6_BODY_RE = /^[0-9A-Fa-f:.]+$/;
/** characters never allowed anywhere in a URI as carried in a header (§25.1) */
const FORBIDDEN_RE = /[\s<>"{}|\\^`]/;

export function percentDecode(s: string): string {
  if (s.indexOf('%') < 0) return s;
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
  readonly params: Parameters;
  readonly headers: Parameters;

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
    this.params = init.params ?? new Parameters();
    this.headers = init.headers ?? new Parameters();
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
    const t = this.params.get('transport');
    return t ? t.toLowerCase() : undefined;
  }

  get lr(): boolean {
    return this.params.has('lr');
  }

  clone(): SipUri {
    return new SipUri({
      scheme: this.scheme,
      rawUser: this.rawUser,
      password: this.password,
      host: this.host,
      port: this.port,
      params: this.params.clone(),
      headers: this.headers.clone(),
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
    if (this.params.size > 0) s += this.params.toString();
    if (this.headers.size > 0) s += this.headers.toString('&', '?');
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

/** Parses a URI. Returns `undefined` when the text is not a well-formed URI. */
export function parseUri(text: string): Uri | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  const scheme = text.slice(0, colon);
  if (!SCHEME_RE.test(scheme)) return undefined;
  const rest = text.slice(colon + 1);
  if (rest.length === 0 || FORBIDDEN_RE.test(rest)) return undefined;
  const lower = scheme.toLowerCase();
  if (lower === 'sip' || lower === 'sips') return parseSipUri(lower, rest);
  if (lower === 'tel') return parseTelUri(rest);
  return new AbsoluteUri(scheme, rest);
}

function parseSipUri(scheme: 'sip' | 'sips', s: string): SipUri | undefined {
  let i = 0;
  let rawUser: string | undefined;
  let password: string | undefined;
  const at = s.indexOf('@');
  if (at >= 0) {
    const userinfo = s.slice(0, at);
    const pc = userinfo.indexOf(':');
    rawUser = pc >= 0 ? userinfo.slice(0, pc) : userinfo;
    if (pc >= 0) password = userinfo.slice(pc + 1);
    if (rawUser.length === 0) return undefined;
    i = at + 1;
  }
  // host
  let host: string;
  if (s.charCodeAt(i) === 91) {
    const close = s.indexOf(']', i);
    if (close < 0) return undefined;
    const body = s.slice(i + 1, close);
    // RFC 5118 §4.8: tolerate the 3-colon form, but it must look like an IPv6 address
    if (!IPV6_BODY_RE.test(body) || body.indexOf(':') < 0) return undefined;
    host = s.slice(i, close + 1);
    i = close + 1;
  } else {
    let j = i;
    while (j < s.length) {
      const c = s.charCodeAt(j);
      if (c === 58 || c === 59 || c === 63) break;
      j++;
    }
    host = s.slice(i, j);
    if (!HOST_RE.test(host)) return undefined;
    i = j;
  }
  let port: number | undefined;
  if (s.charCodeAt(i) === 58) {
    let j = i + 1;
    while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    if (j === i + 1 || j - i > 6) return undefined;
    port = Number(s.slice(i + 1, j));
    if (port > 65535) return undefined;
    i = j;
  }
  const params = new Parameters();
  const q = s.indexOf('?', i);
  const paramEnd = q < 0 ? s.length : q;
  if (i < paramEnd) {
    if (s.charCodeAt(i) !== 59) return undefined;
    const stop = parseUriParams(s, i, paramEnd, params);
    if (stop !== paramEnd) return undefined;
  }
  const headers = new Parameters();
  if (q >= 0) {
    for (const pair of s.slice(q + 1).split('&')) {
      if (pair.length === 0) continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) return undefined;
      headers.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  return new SipUri({ scheme, rawUser, password, host, port, params, headers });
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
  if (!/^\+?[0-9A-Fa-f*#.()\-pPwW]+$/.test(number)) return undefined;
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
