import { quote } from '../../sip/message/index.js';

/** A parsed challenge or credentials header value: `Digest realm="x", nonce="y", …` (RFC 3261 §25.1). */
export interface AuthParams {
  /** As written (`Digest`); compare case-insensitively. */
  readonly scheme: string;
  /** Parameter names in lower case, values unquoted. */
  readonly params: ReadonlyMap<string, string>;
}

/** More parameters than any digest challenge or credentials carry: a header with more is refused. */
const MAX_PARAMS = 32;

function isTokenCode(c: number): boolean {
  // RFC 3261 §25.1 token: alphanum and -.!%*_+`'~
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 33 || c === 37 || c === 42 || c === 95 || c === 43 || c === 96 || c === 39 || c === 126;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9 || text.charCodeAt(i) === 13 || text.charCodeAt(i) === 10)) i++;
  return i;
}

function readToken(text: string, i: number): number {
  while (i < text.length && isTokenCode(text.charCodeAt(i))) i++;
  return i;
}

/**
 * Parses one challenge (WWW-Authenticate, Proxy-Authenticate) or credentials (Authorization,
 * Proxy-Authorization) value: a scheme, then comma-separated `name=token` or `name="quoted"`
 * parameters. Returns `undefined` for anything malformed, a repeated parameter included, so a
 * caller treats it as absent credentials; never throws.
 */
export function parseAuthParams(value: string): AuthParams | undefined {
  let i = skipSpace(value, 0);
  const schemeEnd = readToken(value, i);
  if (schemeEnd === i) return undefined;
  const scheme = value.slice(i, schemeEnd);
  const params = new Map<string, string>();
  i = schemeEnd;
  for (;;) {
    i = skipSpace(value, i);
    while (i < value.length && value[i] === ',') i = skipSpace(value, i + 1);
    if (i >= value.length) break;
    const nameEnd = readToken(value, i);
    if (nameEnd === i) return undefined;
    const name = value.slice(i, nameEnd).toLowerCase();
    i = skipSpace(value, nameEnd);
    if (value[i] !== '=') return undefined;
    i = skipSpace(value, i + 1);
    let param: string;
    if (value[i] === '"') {
      param = '';
      i++;
      for (;;) {
        if (i >= value.length) return undefined;
        const c = value[i]!;
        if (c === '"') break;
        if (c === '\\') {
          if (i + 1 >= value.length) return undefined;
          param += value[i + 1];
          i += 2;
          continue;
        }
        param += c;
        i++;
      }
      i++;
    } else {
      const end = readToken(value, i);
      if (end === i) return undefined;
      param = value.slice(i, end);
      i = end;
    }
    if (params.has(name) || params.size >= MAX_PARAMS) return undefined;
    params.set(name, param);
    i = skipSpace(value, i);
    if (i < value.length && value[i] !== ',') return undefined;
  }
  return { scheme, params };
}

/**
 * Writes `Digest a="x", b=y`: the values of `quoted` names as quoted strings, the others as
 * tokens (algorithm, stale, nc, and qop in credentials: RFC 3261 §25.1).
 */
export function formatAuthParams(scheme: string, entries: readonly (readonly [string, string, 'quoted' | 'token'])[]): string {
  return `${scheme} ${entries.map(([name, value, how]) => `${name}=${how === 'quoted' ? quote(value) : value}`).join(', ')}`;
}
