/**
 * Character classes and small scanning helpers for the RFC 3261 §25 grammar.
 * Every function works on a string and an index and never throws: a failed
 * scan returns -1 (or undefined), so the callers can turn it into a 400.
 */

/** RFC 3261 §25.1 token characters. */
const TOKEN = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~') {
  TOKEN[c.charCodeAt(0)] = 1;
}

export function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN[code] === 1;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

export function isWhitespace(code: number): boolean {
  return code === 32 || code === 9;
}

/*
 * The scanners below take an optional `end`: the parser runs them over a range
 * of the message text rather than over a sliced copy of each value. Scanning
 * s[a, b) behaves exactly as scanning s.slice(a, b) would.
 */

/** Skips SP / HTAB (folded lines were already unfolded by the parser). */
export function skipWs(s: string, i: number, end = s.length): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) break;
    i++;
  }
  return i;
}

/** Index just past the token starting at `i` (equal to `i` when there is none). */
export function scanToken(s: string, i: number, end = s.length): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] !== 1) break;
    i++;
  }
  return i;
}

/**
 * Scans a quoted-string starting at the opening quote (RFC 3261 §25.1).
 * Returns the index just past the closing quote, or -1 when it is unterminated.
 */
export function scanQuoted(s: string, i: number, end = s.length): number {
  if (i >= end || s.charCodeAt(i) !== 34) return -1;
  i++;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 92) {
      // quoted-pair: "\" followed by any char except CR/LF
      i += 2;
      continue;
    }
    if (c === 34) return i + 1;
    i++;
  }
  return -1;
}

/** Removes the quotes and quoted-pair escapes of a quoted-string. */
export function unquote(q: string): string {
  if (q.indexOf('\\') < 0) return q.slice(1, q.length - 1);
  let out = '';
  for (let i = 1; i < q.length - 1; i++) {
    const c = q.charCodeAt(i);
    if (c === 92 && i + 1 < q.length - 1) {
      i++;
      out += q[i];
    } else {
      out += q[i];
    }
  }
  return out;
}

/** Quotes a string as a quoted-string, escaping `"` and `\`. */
export function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, (m) => '\\' + m) + '"';
}

/**
 * Splits a header value at top-level commas (outside quoted strings and <...>),
 * per RFC 3261 §7.3.1. Returns trimmed parts; an empty part means a stray comma.
 */
export function splitCommas(value: string): string[] {
  if (value.indexOf(',') < 0) return [value.trim()];
  const parts: string[] = [];
  let start = 0;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34) {
      const end = scanQuoted(value, i);
      if (end < 0) break;
      i = end - 1;
    } else if (c === 60) {
      angle = true;
    } else if (c === 62) {
      angle = false;
    } else if (c === 44 && !angle) {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts;
}

/** Case-insensitive ordered parameters (`;name=value`), as URIs and headers carry them. */
export class Parameters {
  /** name, value, name, value … — created on the first `set`, as most URIs carry none. */
  #list: (string | null)[] | undefined;

  /**
   * Parameters holding `list` (name, value, name, value …) as their own array, for
   * parsers that built it: the names must already be distinct as `set` compares
   * them (case-insensitively), or lookups find only the first.
   */
  static fromList(list: (string | null)[]): Parameters {
    const p = new Parameters();
    if (list.length > 0) p.#list = list;
    return p;
  }

  get size(): number {
    return this.#list === undefined ? 0 : this.#list.length >> 1;
  }

  has(name: string): boolean {
    return this.#find(name) >= 0;
  }

  /** The value, `null` for a parameter without value, `undefined` when absent. */
  get(name: string): string | null | undefined {
    const i = this.#find(name);
    return i < 0 ? undefined : (this.#list as (string | null)[])[i + 1];
  }

  set(name: string, value: string | null): this {
    const i = this.#find(name);
    if (i >= 0) (this.#list as (string | null)[])[i + 1] = value;
    else if (this.#list === undefined) this.#list = [name, value];
    else this.#list.push(name, value);
    return this;
  }

  delete(name: string): boolean {
    const i = this.#find(name);
    if (i < 0) return false;
    (this.#list as (string | null)[]).splice(i, 2);
    return true;
  }

  names(): string[] {
    const out: string[] = [];
    const list = this.#list;
    if (list !== undefined) for (let i = 0; i < list.length; i += 2) out.push(list[i] as string);
    return out;
  }

  entries(): [string, string | null][] {
    const out: [string, string | null][] = [];
    const list = this.#list;
    if (list !== undefined) for (let i = 0; i < list.length; i += 2) out.push([list[i] as string, list[i + 1] as string | null]);
    return out;
  }

  clone(): Parameters {
    const p = new Parameters();
    if (this.#list !== undefined && this.#list.length > 0) p.#list = this.#list.slice();
    return p;
  }

  /** Serialises as `;a=b;c` (with the separator given, `;` by default). */
  toString(separator = ';', first = ';'): string {
    const list = this.#list;
    if (list === undefined) return '';
    let out = '';
    for (let i = 0; i < list.length; i += 2) {
      out += (i === 0 ? first : separator) + list[i];
      const v = list[i + 1];
      if (v !== null && v !== undefined) out += '=' + v;
    }
    return out;
  }

  #find(name: string): number {
    const list = this.#list;
    if (list === undefined) return -1;
    for (let i = 0; i < list.length; i += 2) {
      if (sameName(list[i] as string, name)) return i;
    }
    return -1;
  }
}

/**
 * The "no parameters" of a SipUri, NameAddress or Via that was given none: they
 * share this one and create their own on the first read of `params` (or
 * `headers`), which a caller may change. Hazard: never hand it to a caller nor
 * change it; the owners read it only through its non-mutating methods.
 */
export const NO_PARAMS = new Parameters();

/** A copy of parameters for a clone's owner: none stay NO_PARAMS. */
export function copyParams(p: Parameters): Parameters {
  return p.size === 0 ? NO_PARAMS : p.clone();
}

/** `a === b`, or equal once lower-cased (what `toLowerCase` decides), without allocating for ASCII names. */
export function sameName(a: string, b: string): boolean {
  if (a === b) return true;
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 128 || y >= 128) return a.toLowerCase() === b.toLowerCase();
    const lx = x | 32;
    if (lx !== (y | 32) || lx < 97 || lx > 122) return hasNonAscii(a) || hasNonAscii(b) ? a.toLowerCase() === b.toLowerCase() : false;
  }
  return true;
}

function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 128) return true;
  return false;
}

/**
 * Whether `s` holds `literal` at `i` (case-sensitive). What `s.startsWith(literal, i)`
 * answers, without the cost of the builtin call on short literals.
 */
export function matchAt(s: string, i: number, literal: string): boolean {
  const n = literal.length;
  for (let k = 0; k < n; k++) if (s.charCodeAt(i + k) !== literal.charCodeAt(k)) return false;
  return true;
}

/** The RFC 3261 methods and the common extensions, as constants (all tokens). */
export const KNOWN_METHODS: readonly string[] = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'UPDATE', 'INFO', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH'];
const KNOWN_METHODS_BY_LENGTH: string[][] = [];
for (const name of KNOWN_METHODS) (KNOWN_METHODS_BY_LENGTH[name.length] ??= []).push(name);

/**
 * The method written at `s[start, end)` (request line, CSeq): the constant for a
 * known method, so that later comparisons are identity checks; a slice otherwise.
 */
export function methodName(s: string, start: number, end: number): string {
  const candidates = KNOWN_METHODS_BY_LENGTH[end - start];
  if (candidates !== undefined) {
    for (let k = 0; k < candidates.length; k++) {
      const name = candidates[k] as string;
      if (matchAt(s, start, name)) return name;
    }
  }
  return s.slice(start, end);
}

/** Whether `method` is one of the constants `methodName` returns. */
export function isKnownMethod(method: string): boolean {
  for (let i = 0; i < KNOWN_METHODS.length; i++) if (KNOWN_METHODS[i] === method) return true;
  return false;
}

/**
 * Parses `;name[=value]` generic parameters (RFC 3261 §25.1 generic-param)
 * starting at `i` until `end` or a top-level `,`. LWS is allowed around `;` and `=`.
 * Returns the index where parsing stopped, or -1 on a malformed parameter.
 */
export function parseParams(s: string, i: number, into: Parameters, end = s.length): number {
  for (;;) {
    i = skipWs(s, i, end);
    if (i >= end || s.charCodeAt(i) !== 59) return i;
    i = skipWs(s, i + 1, end);
    const nameEnd = scanToken(s, i, end);
    if (nameEnd === i) return -1;
    const name = s.slice(i, nameEnd);
    i = skipWs(s, nameEnd, end);
    let value: string | null = null;
    if (i < end && s.charCodeAt(i) === 61) {
      i = skipWs(s, i + 1, end);
      const c = i < end ? s.charCodeAt(i) : -1;
      if (c === 34) {
        const q = scanQuoted(s, i, end);
        if (q < 0) return -1;
        value = s.slice(i, q);
        i = q;
      } else if (c === 91) {
        // IPv6 reference as a gen-value (RFC 5118 §4.5: received=[2001:db8::9:255])
        const close = s.indexOf(']', i);
        if (close < 0 || close >= end) return -1;
        value = s.slice(i, close + 1);
        i = close + 1;
      } else {
        const vEnd = scanParamValue(s, i, end);
        if (vEnd === i) return -1;
        value = s.slice(i, vEnd);
        i = vEnd;
      }
    }
    into.set(name, value);
  }
}

/** token chars plus ':' so an unbracketed IPv6 received= value still parses (RFC 5118 §4.6). */
function scanParamValue(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 58 || (c < 128 && TOKEN[c] === 1)) i++;
    else break;
  }
  return i;
}
