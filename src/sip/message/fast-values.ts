import { NameAddress } from './name-address.js';
import { KNOWN_METHODS, NO_PARAMS, Parameters, sameName } from './scanner.js';
import type { CSeq } from './cseq.js';
import { SipUri } from './uri.js';
import { Via } from './via.js';

/**
 * Single-pass parsers for the forms of Via, From/To, CSeq and SIP URIs that
 * nearly every message uses, for the parser's common path (fast-path.ts).
 *
 * Each one either returns exactly what the full parser (`parseVia`,
 * `parseNameAddress`, `parseCSeq`, `parseUri`) returns for the same text, or
 * `null` when the text is not in the form it knows: white space inside the
 * value, quoted-pairs, IPv6 references, user:password, URI headers, any other
 * scheme than lower-case `sip`/`sips`, characters outside printable ASCII …
 * `null` never means "malformed": the caller then asks the full parser, which
 * alone decides. So these accept a subset of the grammar and refuse nothing.
 *
 * The header value parsers (`fastVia`, `fastNameAddress`, `fastCSeq`) run
 * before the end of their line is known: they read the value from `start` as
 * far as its form goes and leave in `parsedEnd` where they stopped. What they
 * return is the full parser's result for the value `s[start, parsedEnd)`; it
 * is that header's value only if a CRLF follows (the caller checks).
 *
 * Hazard: `b` and `s` are the same ASCII text as bytes and as a string (the
 * parser decodes only ASCII datagrams on this path); the scans read the bytes,
 * which V8 does about twice as fast as string characters, and slice the string.
 */

/** Where the last header value parser stopped. */
export let parsedEnd = 0;
/** Where the last `fastSipUri` stopped. */
export let parsedUriEnd = 0;

/*
 * One table, one bit per class:
 * 1  token (RFC 3261 §25.1)
 * 2  host and Via sent-by host characters [A-Za-z0-9_.-]
 * 4  generic-param value characters the full parser scans without quotes: token and ':'
 * 8  characters of a URI parameter name or value on this path: printable ASCII except
 *    the characters no URI may hold (<>"{}|\^` and white space) and ; = ? @
 * 16 characters of a URI user part on this path: as 8 but '=' allowed and ':' not
 */
const C = new Uint8Array(256);
function mark(bit: number, chars: string): void {
  for (let i = 0; i < chars.length; i++) C[chars.charCodeAt(i)] |= bit;
}
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
mark(1, ALNUM + "-.!%*_+`'~");
mark(2, ALNUM + '_.-');
mark(4, ALNUM + "-.!%*_+`'~:");
for (let c = 33; c < 127; c++) {
  if ('<>"{}|\\^`;=?@'.indexOf(String.fromCharCode(c)) < 0) C[c] |= 8;
  if ('<>"{}|\\^`;?@:'.indexOf(String.fromCharCode(c)) < 0) C[c] |= 16;
}

/**
 * The generic parameters `*(;name[=value])` starting at b[i] (RFC 3261 §25.1
 * generic-param, no LWS), up to the first byte that cannot continue them,
 * left in `parsedEnd`; NO_PARAMS when there are none (for an owner's
 * constructor only); or null.
 */
function genericParams(b: Uint8Array, s: string, i: number): Parameters | null {
  if (b[i] !== 59) {
    parsedEnd = i;
    return NO_PARAMS;
  }
  // name, value, name, value … as Parameters.set would leave them: a repeated name keeps its place, the last value.
  // The first three are held in variables, so that the list is allocated once, at its size.
  let n0 = '';
  let v0: string | null = null;
  let n1 = '';
  let v1: string | null = null;
  let n2 = '';
  let v2: string | null = null;
  let count = 0;
  let list: (string | null)[] | undefined;
  while (b[i] === 59) {
    const n = ++i;
    i = paramNameEnd(b, n, 1);
    if (i === n) return null;
    const name = knownName ?? s.slice(n, i);
    let value: string | null = null;
    if (b[i] === 61) {
      const v = ++i;
      if (b[v] === 34) {
        // a quoted-string without quoted-pairs, on this line: the full parser keeps the quotes
        i = s.indexOf('"', v + 1);
        if (i < 0) return null;
        for (let k = v + 1; k < i; k++) {
          const c = b[k];
          if (c === 92 || c === 13 || c === 10) return null;
        }
        i++;
      } else {
        while ((C[b[i]] & 4) !== 0) i++;
        if (i === v) return null;
      }
      value = s.slice(v, i);
    }
    if (list !== undefined) addParam(list, name, value);
    else if (count === 0) {
      n0 = name;
      v0 = value;
      count = 1;
    } else if (sameParam(n0, name)) v0 = value;
    else if (count === 1) {
      n1 = name;
      v1 = value;
      count = 2;
    } else if (sameParam(n1, name)) v1 = value;
    else if (count === 2) {
      n2 = name;
      v2 = value;
      count = 3;
    } else if (sameParam(n2, name)) v2 = value;
    else list = [n0, v0, n1, v1, n2, v2, name, value];
  }
  parsedEnd = i;
  if (list === undefined) list = count === 1 ? [n0, v0] : count === 2 ? [n0, v0, n1, v1] : [n0, v0, n1, v1, n2, v2];
  return Parameters.fromList(list);
}

/** Whether two parameter names are the same as `Parameters` compares them. */
function sameParam(a: string, b: string): boolean {
  return a === b || (a.length === b.length && sameName(a, b));
}

/** Appends name and value to `list`, or replaces the value of the same name already there (as `Parameters.set`). */
function addParam(list: (string | null)[], name: string, value: string | null): void {
  const n = name.length;
  for (let k = 0; k < list.length; k += 2) {
    const other = list[k] as string;
    if (other.length === n && sameName(other, name)) {
      list[k + 1] = value;
      return;
    }
  }
  list.push(name, value);
}

/** The four bytes at b[i] as a little-endian 32-bit word (bytes past the end read as 0). */
export function wordAt(b: Uint8Array, i: number): number {
  return (b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24);
}
/** The first four characters of `text` (ASCII) as `wordAt` reads them. */
export function wordOf(text: string): number {
  return text.charCodeAt(0) | (text.charCodeAt(1) << 8) | (text.charCodeAt(2) << 16) | (text.charCodeAt(3) << 24);
}
/** The mask that keeps the first `bytes` bytes of a word (all four from 4 on, none from 0 down). */
const maskOf = (bytes: number): number => (bytes >= 4 ? -1 : bytes <= 0 ? 0 : (1 << (bytes * 8)) - 1);
/** "SIP/" and "2.0/" as words: "SIP/2.0/" is two comparisons. */
export const SIP_ = wordOf('SIP/');
export const V2_0_ = wordOf('2.0/');

/** Parameter names found on nearly every message, and their lengths; knownParamAt gives their index. */
const KNOWN_PARAMS = ['branch', 'tag', 'received', 'rport', 'transport', 'lr', 'user', 'maddr', 'expires'];
const KNOWN_LENGTHS = KNOWN_PARAMS.map((name) => name.length);

/*
 * KNOWN_AT[(b0 & 31) * 32 + (b1 & 31)] is 1 + the index of the known name whose first two
 * bytes are b0 b1 (no two share them); KNOWN_WORDS holds each name's bytes as three words
 * (padded with zeros), KNOWN_MASKS the masks that keep the bytes past its length out of the
 * comparison.
 */
const KNOWN_AT = new Uint8Array(1024);
const KNOWN_WORDS = new Int32Array(3 * KNOWN_PARAMS.length);
const KNOWN_MASKS = new Int32Array(3 * KNOWN_PARAMS.length);
KNOWN_PARAMS.forEach((name, k) => {
  const key = (name.charCodeAt(0) & 31) * 32 + (name.charCodeAt(1) & 31);
  if (KNOWN_AT[key] !== 0 || name.length > 12) throw new Error(`fast-values: ${name} shares its first two letters or is too long`);
  KNOWN_AT[key] = k + 1;
  for (let w = 0; w < 3; w++) {
    KNOWN_MASKS[3 * k + w] = maskOf(name.length - 4 * w);
    KNOWN_WORDS[3 * k + w] = wordOf(name.slice(4 * w, 4 * w + 4) + '\0\0\0\0') & maskOf(name.length - 4 * w);
  }
});

/**
 * The index in KNOWN_PARAMS of the name spelt (case included) at b[i], whatever
 * follows it, or -1: one table lookup and three word comparisons, so that the
 * usual names are neither scanned twice nor sliced.
 */
function knownParamAt(b: Uint8Array, i: number): number {
  // the first word gives the two bytes the table is keyed by; the words past a name's length are not read
  const first = wordAt(b, i);
  const k = (KNOWN_AT[(first & 31) * 32 + ((first >> 8) & 31)] as number) - 1;
  if (k < 0) return -1;
  const w = 3 * k;
  if ((first & (KNOWN_MASKS[w] as number)) !== KNOWN_WORDS[w]) return -1;
  const n = KNOWN_LENGTHS[k] as number;
  if (n <= 4) return k;
  if ((wordAt(b, i + 4) & (KNOWN_MASKS[w + 1] as number)) !== KNOWN_WORDS[w + 1]) return -1;
  if (n <= 8) return k;
  return (wordAt(b, i + 8) & (KNOWN_MASKS[w + 2] as number)) === KNOWN_WORDS[w + 2] ? k : -1;
}

/**
 * Where the parameter name starting at b[n] ends: the characters of class `bit`
 * (1 generic, 8 URI), not past `end`. Sets `knownName` to the constant when the
 * name is one of KNOWN_PARAMS, to undefined otherwise.
 */
function paramNameEnd(b: Uint8Array, n: number, bit: number, end = b.length): number {
  const k = knownParamAt(b, n);
  if (k >= 0) {
    const e = n + (KNOWN_LENGTHS[k] as number);
    if (e <= end && (e === end || (C[b[e]] & bit) === 0)) {
      knownName = KNOWN_PARAMS[k];
      return e;
    }
  }
  knownName = undefined;
  return runEnd(b, n, end, bit);
}
let knownName: string | undefined;

/** The transport token at b[i, e): the constant for the usual ones (as via.ts's transportName). */
function transportAt(b: Uint8Array, s: string, i: number, e: number): string {
  const n = e - i;
  const c = b[i];
  if (n === 3) {
    const c1 = b[i + 1];
    const c2 = b[i + 2];
    if (c === 85 && c1 === 68 && c2 === 80) return 'UDP';
    if (c === 84 && c1 === 67 && c2 === 80) return 'TCP';
    if (c === 84 && c1 === 76 && c2 === 83) return 'TLS';
  } else if (n === 2 && c === 87 && b[i + 1] === 83) return 'WS';
  return s.slice(i, e);
}

/*
 * The known methods (scanner.ts KNOWN_METHODS): METHOD_AT[(length & 15) * 32 + (first byte & 31)] is
 * 1 + the index of the one of that length and first letter (no two share them); METHOD_WORDS holds
 * each one's first eight bytes as two words (padded with zeros), METHOD_MASKS the masks that keep
 * a text's bytes past the method's length out of the comparison.
 */
const METHOD_AT = new Uint8Array(512);
const METHOD_LENGTHS = new Uint8Array(KNOWN_METHODS.length);
const METHOD_WORDS = new Int32Array(2 * KNOWN_METHODS.length);
const METHOD_MASKS = new Int32Array(2 * KNOWN_METHODS.length);
KNOWN_METHODS.forEach((name, k) => {
  const key = (name.length & 15) * 32 + (name.charCodeAt(0) & 31);
  if (METHOD_AT[key] !== 0) throw new Error(`fast-values: ${name} shares its length and first letter`);
  METHOD_AT[key] = k + 1;
  METHOD_LENGTHS[k] = name.length;
  METHOD_WORDS[2 * k] = wordOf(name.slice(0, 4) + '\0\0\0\0') & maskOf(name.length);
  METHOD_WORDS[2 * k + 1] = wordOf(name.slice(4, 8) + '\0\0\0\0') & maskOf(name.length - 4);
  METHOD_MASKS[2 * k] = maskOf(name.length);
  METHOD_MASKS[2 * k + 1] = maskOf(name.length - 4);
});

/** The method at b[start, end): the constant for a known method (as scanner.ts's methodName), a slice otherwise. */
export function methodAt(b: Uint8Array, s: string, start: number, end: number): string {
  const n = end - start;
  const k = (METHOD_AT[(n & 15) * 32 + ((b[start] as number) & 31)] as number) - 1;
  if (k >= 0 && METHOD_LENGTHS[k] === n) {
    const name = KNOWN_METHODS[k] as string;
    if (
      (wordAt(b, start) & (METHOD_MASKS[2 * k] as number)) === METHOD_WORDS[2 * k] &&
      (wordAt(b, start + 4) & (METHOD_MASKS[2 * k + 1] as number)) === METHOD_WORDS[2 * k + 1] &&
      // SUBSCRIBE: the ninth byte
      (n <= 8 || b[start + 8] === name.charCodeAt(8))
    ) {
      return name;
    }
  }
  return s.slice(start, end);
}

/**
 * CSeq written `1*10DIGIT 1*SP Method` (RFC 3261 §8.1.1.5, §20.16) at b[start],
 * as `parseCSeq` gives it; see `parsedEnd`. In a request, `method` is the
 * request's method, written at b[methodStart]: a CSeq naming another method is
 * left to the full parser (which refuses it), so this one needs no lookup.
 */
export function fastCSeq(b: Uint8Array, s: string, start: number, method?: string, methodStart = 0): CSeq | null {
  let i = start;
  let seq = 0;
  for (;;) {
    const c = b[i] as number;
    // written so that reading past the buffer (undefined) stops too
    if (!(c >= 48 && c <= 57)) break;
    seq = seq * 10 + (c - 48);
    i++;
  }
  if (i === start || i - start > 10 || seq > 0xffffffff || b[i] !== 32) return null;
  while (b[++i] === 32);
  const m = i;
  while ((C[b[i]] & 1) !== 0) i++;
  if (i === m) return null;
  parsedEnd = i;
  if (method === undefined) return { seq, method: methodAt(b, s, m, i) };
  if (i - m !== method.length) return null;
  for (let k = 0; k < i - m; k++) if (b[m + k] !== b[methodStart + k]) return null;
  return { seq, method };
}

/**
 * A Via value (one, no comma) at b[start] written `SIP/2.0/transport SP host
 * [:port] *(;param)` (RFC 3261 §20.42 without LWS), as `parseVia` gives it; see `parsedEnd`.
 */
export function fastVia(b: Uint8Array, s: string, start: number): Via | null {
  if (wordAt(b, start) !== SIP_ || wordAt(b, start + 4) !== V2_0_) return null;
  let i = start + 8;
  const t = i;
  while ((C[b[i]] & 1) !== 0) i++;
  if (i === t || b[i] !== 32) return null;
  const transport = transportAt(b, s, t, i);
  const h = ++i;
  while ((C[b[i]] & 2) !== 0) i++;
  if (i === h) return null;
  const host = s.slice(h, i);
  let port: number | undefined;
  if (b[i] === 58) {
    const p = ++i;
    let n = 0;
    for (;;) {
      const c = b[i] as number;
      if (!(c >= 48 && c <= 57)) break;
      n = n * 10 + (c - 48);
      i++;
    }
    if (i === p || i - p > 5 || n > 65535) return null;
    port = n;
  }
  const params = genericParams(b, s, i);
  if (params === null) return null;
  return new Via({ protocol: 'SIP', version: '2.0', transport, host, port, params });
}

/**
 * A name-addr or addr-spec at b[start] as `parseNameAddress` gives it for From
 * and To (no wildcard); see `parsedEnd`.
 */
export function fastNameAddress(b: Uint8Array, s: string, start: number): NameAddress | null {
  let i = start;
  let displayName: string | undefined;
  let c = b[i] as number;
  if (c === 34) {
    // a quoted display name without quoted-pairs, on this line
    let close = i + 1;
    for (;;) {
      if (close >= b.length) return null;
      c = b[close] as number;
      if (c === 34) break;
      if (c === 92 || c === 13 || c === 10) return null;
      close++;
    }
    displayName = s.slice(i + 1, close);
    i = close + 1;
    while (b[i] === 32 || b[i] === 9) i++;
    if (b[i] !== 60) return null;
  } else if (c !== 60) {
    // token words separated by SP/HTAB before '<'; a URI right away is an addr-spec
    let last = i;
    for (;;) {
      c = b[i] as number;
      if ((C[c] & 1) !== 0) last = ++i;
      else if (c === 32 || c === 9) i++;
      else break;
    }
    if (c === 60) displayName = s.slice(start, last);
    else if (c === 58 && i > start && last === i) return addrSpec(b, s, start);
    else return null;
  }
  // the URI runs to the first '>', which no URI character is
  const uri = fastSipUri(b, s, i + 1, b.length);
  if (uri === null || b[parsedUriEnd] !== 62) return null;
  const params = genericParams(b, s, parsedUriEnd + 1);
  if (params === null) return null;
  return new NameAddress(uri, { displayName, params });
}

/**
 * addr-spec with parameters: the URI runs to the first ';', SP or HTAB and holds
 * no ',' (RFC 3261 §20.10). A '<' in the parameters (in a quoted value) would
 * make the full parser read a display name: left to it.
 */
function addrSpec(b: Uint8Array, s: string, start: number): NameAddress | null {
  let j = start;
  for (;;) {
    // stopping early at any control character is safe: the caller then finds no CRLF where the value ends
    const c = b[j] as number;
    if (!(c > 32) || c === 59) break;
    if (c === 44) return null;
    j++;
  }
  const uri = fastSipUri(b, s, start, j);
  if (uri === null || parsedUriEnd !== j) return null;
  const params = genericParams(b, s, j);
  if (params === null) return null;
  for (let k = j; k < parsedEnd; k++) if (b[k] === 60) return null;
  return new NameAddress(uri, { params });
}

/**
 * The `sip:`/`sips:` URI starting at b[start], not past `end`, as `parseUri`
 * gives the text s[start, parsedUriEnd) (callers check where it stopped); or
 * null. With `build` false it only decides, allocating nothing, and returns `VALID`.
 */
export function fastSipUri(b: Uint8Array, s: string, start: number, end: number): SipUri | null;
export function fastSipUri(b: Uint8Array, s: string, start: number, end: number, build: false): typeof VALID | null;
export function fastSipUri(b: Uint8Array, s: string, start: number, end: number, build = true): SipUri | typeof VALID | null {
  let i: number;
  if (b[start] !== 115 || b[start + 1] !== 105 || b[start + 2] !== 112) return null;
  if (b[start + 3] === 58) i = start + 4;
  else if (b[start + 3] === 115 && b[start + 4] === 58) i = start + 5;
  else return null;
  const rest = i;
  // host characters first: they are also user characters, so '@' after them ends a user part
  i = runEnd(b, i, end, 2);
  let user = -1;
  if (i < end && (C[b[i]] & 16) !== 0) {
    i = runEnd(b, i, end, 16);
    if (i >= end || b[i] !== 64) return null;
  }
  if (i < end && b[i] === 64) {
    if (i === rest) return null;
    user = i;
    i = runEnd(b, i + 1, end, 2);
  }
  const h = user < 0 ? rest : user + 1;
  const first = b[h];
  if (i === h || first === 46 || first === 45) return null;
  const hostEnd = i;
  let port: number | undefined;
  if (i < end && b[i] === 58) {
    const p = ++i;
    let n = 0;
    for (; i < end; i++) {
      const c = b[i];
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
    }
    if (i === p || i - p > 5 || n > 65535) return null;
    port = n;
  }
  // uri-parameters: ";" name ["=" value], any URI characters but ; = ? @ (RFC 3261 §19.1.1)
  const list: (string | null)[] | undefined = build && i < end && b[i] === 59 ? [] : undefined;
  while (i < end && b[i] === 59) {
    const n = ++i;
    i = paramNameEnd(b, n, 8, end);
    if (i === n) return null;
    const name = knownName;
    const nameEnd = i;
    let value: string | null = null;
    if (i < end && b[i] === 61) {
      const v = ++i;
      i = runEnd(b, i, end, 8);
      if (list !== undefined) value = s.slice(v, i);
    }
    if (list !== undefined) addParam(list, name ?? s.slice(n, nameEnd), value);
  }
  parsedUriEnd = i;
  if (!build) return VALID;
  return new SipUri({
    scheme: rest - start === 4 ? 'sip' : 'sips',
    rawUser: user < 0 ? undefined : s.slice(rest, user),
    password: undefined,
    host: s.slice(h, hostEnd),
    port,
    params: list === undefined ? undefined : Parameters.fromList(list),
    headers: undefined,
  });
}

/**
 * Where the run of bytes of class `bit` starting at b[i] ends, not past `end`:
 * the scan runs to the run's end (a byte past the buffer's is of no class) and
 * is cut at `end` after, which spares a bound check per byte.
 */
function runEnd(b: Uint8Array, i: number, end: number, bit: number): number {
  while ((C[b[i]] & bit) !== 0) i++;
  return i < end ? i : end;
}

/** What `fastSipUri(…, false)` returns for a URI `parseUri` accepts. */
export const VALID = true;
