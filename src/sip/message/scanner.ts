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

/** Skips SP / HTAB (folded lines were already unfolded by the parser). */
export function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) break;
    i++;
  }
  return i;
}

/** Index just past the token starting at `i` (equal to `i` when there is none). */
export function scanToken(s: string, i: number): number {
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Scans a quoted-string starting at the opening quote (RFC 3261 §25.1).
 * Returns the index just past the closing quote, or -1 when it is unterminated.
 */
export function scanQuoted(s: string, i: number): number {
  if (s.charCodeAt(i) !== 34) return -1;
  i++;
  while (i < s.length) {
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
  #names: string[] = [];
  #values: (string | null)[] = [];

  get size(): number {
    return this.#names.length;
  }

  has(name: string): boolean {
    return this.#find(name) >= 0;
  }

  /** The value, `null` for a parameter without value, `undefined` when absent. */
  get(name: string): string | null | undefined {
    const i = this.#find(name);
    return i < 0 ? undefined : this.#values[i];
  }

  set(name: string, value: string | null): this {
    const i = this.#find(name);
    if (i >= 0) this.#values[i] = value;
    else {
      this.#names.push(name);
      this.#values.push(value);
    }
    return this;
  }

  delete(name: string): boolean {
    const i = this.#find(name);
    if (i < 0) return false;
    this.#names.splice(i, 1);
    this.#values.splice(i, 1);
    return true;
  }

  names(): string[] {
    return this.#names.slice();
  }

  entries(): [string, string | null][] {
    return this.#names.map((n, i) => [n, this.#values[i] as string | null]);
  }

  clone(): Parameters {
    const p = new Parameters();
    p.#names = this.#names.slice();
    p.#values = this.#values.slice();
    return p;
  }

  /** Serialises as `;a=b;c` (with the separator given, `;` by default). */
  toString(separator = ';', first = ';'): string {
    let out = '';
    for (let i = 0; i < this.#names.length; i++) {
      out += (i === 0 ? first : separator) + this.#names[i];
      const v = this.#values[i];
      if (v !== null && v !== undefined) out += '=' + v;
    }
    return out;
  }

  #find(name: string): number {
    const names = this.#names;
    for (let i = 0; i < names.length; i++) {
      const n = names[i] as string;
      if (n === name || (n.length === name.length && n.toLowerCase() === name.toLowerCase())) return i;
    }
    return -1;
  }
}

/**
 * Parses `;name[=value]` generic parameters (RFC 3261 §25.1 generic-param)
 * starting at `i` until `end` or a top-level `,`. LWS is allowed around `;` and `=`.
 * Returns the index where parsing stopped, or -1 on a malformed parameter.
 */
export function parseParams(s: string, i: number, into: Parameters, end = s.length): number {
  for (;;) {
    i = skipWs(s, i);
    if (i >= end || s.charCodeAt(i) !== 59) return i;
    i = skipWs(s, i + 1);
    const nameEnd = scanToken(s, i);
    if (nameEnd === i) return -1;
    const name = s.slice(i, nameEnd);
    i = skipWs(s, nameEnd);
    let value: string | null = null;
    if (i < end && s.charCodeAt(i) === 61) {
      i = skipWs(s, i + 1);
      if (s.charCodeAt(i) === 34) {
        const q = scanQuoted(s, i);
        if (q < 0) return -1;
        value = s.slice(i, q);
        i = q;
      } else if (s.charCodeAt(i) === 91) {
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
    if (isTokenChar(c) || c === 58) i++;
    else break;
  }
  return i;
}
