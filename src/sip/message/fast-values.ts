import { NameAddress } from './name-address.js';
import { KNOWN_METHODS, Parameters, sameName } from './scanner.js';
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
 * left in `parsedEnd`; or null.
 */
function genericParams(b: Uint8Array, s: string, i: number): Parameters | null {
  if (b[i] !== 59) {
    parsedEnd = i;
    return new Parameters();
  }
  // name, value, name, value … as Parameters.set would leave them: a repeated name keeps its place, the last value
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
    if (list === undefined) list = [name, value];
    else addParam(list, name, value);
  }
  parsedEnd = i;
  return Parameters.fromList(list as (string | null)[]);
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

/** Whether the bytes at b[i] spell `literal` (ASCII). */
function spells(b: Uint8Array, i: number, literal: Uint8Array): boolean {
  const n = literal.length;
  for (let k = 0; k < n; k++) if (b[i + k] !== literal[k]) return false;
  return true;
}
const ascii = (text: string): Uint8Array => Uint8Array.from(text, (ch) => ch.charCodeAt(0));
const SIP_2_0_ = ascii('SIP/2.0/');

/** Parameter names found on nearly every message, and their lengths; knownParamAt gives their index. */
const KNOWN_PARAMS = ['branch', 'tag', 'received', 'rport', 'transport', 'lr', 'user', 'maddr', 'expires'];
const KNOWN_LENGTHS = KNOWN_PARAMS.map((name) => name.length);

/**
 * The index in KNOWN_PARAMS of the name spelt (case included) at b[i], whatever
 * follows it, or -1. Straight comparisons, no loop, so that the usual names are
 * neither scanned twice nor sliced.
 */
function knownParamAt(b: Uint8Array, i: number): number {
  switch (b[i]) {
    case 98: // branch
      return b[i + 1] === 114 && b[i + 2] === 97 && b[i + 3] === 110 && b[i + 4] === 99 && b[i + 5] === 104 ? 0 : -1;
    case 116: // tag, transport
      if (b[i + 1] === 97) return b[i + 2] === 103 ? 1 : -1;
      return b[i + 1] === 114 && b[i + 2] === 97 && b[i + 3] === 110 && b[i + 4] === 115 && b[i + 5] === 112 && b[i + 6] === 111 && b[i + 7] === 114 && b[i + 8] === 116 ? 4 : -1;
    case 114: // received, rport
      if (b[i + 1] === 112) return b[i + 2] === 111 && b[i + 3] === 114 && b[i + 4] === 116 ? 3 : -1;
      return b[i + 1] === 101 && b[i + 2] === 99 && b[i + 3] === 101 && b[i + 4] === 105 && b[i + 5] === 118 && b[i + 6] === 101 && b[i + 7] === 100 ? 2 : -1;
    case 108: // lr
      return b[i + 1] === 114 ? 5 : -1;
    case 117: // user
      return b[i + 1] === 115 && b[i + 2] === 101 && b[i + 3] === 114 ? 6 : -1;
    case 109: // maddr
      return b[i + 1] === 97 && b[i + 2] === 100 && b[i + 3] === 100 && b[i + 4] === 114 ? 7 : -1;
    case 101: // expires
      return b[i + 1] === 120 && b[i + 2] === 112 && b[i + 3] === 105 && b[i + 4] === 114 && b[i + 5] === 101 && b[i + 6] === 115 ? 8 : -1;
  }
  return -1;
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
  let i = n;
  while (i < end && (C[b[i]] & bit) !== 0) i++;
  return i;
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

/** The known methods (scanner.ts KNOWN_METHODS) and their bytes, in the same order. */
const METHOD_BYTES = KNOWN_METHODS.map(ascii);

/** The method at b[start, end): the constant for a known method (as scanner.ts's methodName), a slice otherwise. */
export function methodAt(b: Uint8Array, s: string, start: number, end: number): string {
  const n = end - start;
  const c = b[start];
  for (let k = 0; k < METHOD_BYTES.length; k++) {
    const bytes = METHOD_BYTES[k] as Uint8Array;
    if (bytes.length === n && bytes[0] === c && spells(b, start, bytes)) return KNOWN_METHODS[k] as string;
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
  if (!spells(b, start, SIP_2_0_)) return null;
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
  const na = new NameAddress(uri, { params });
  if (displayName !== undefined) na.displayName = displayName;
  return na;
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
  while (i < end && (C[b[i]] & 2) !== 0) i++;
  let user = -1;
  if (i < end && (C[b[i]] & 16) !== 0) {
    while (i < end && (C[b[i]] & 16) !== 0) i++;
    if (i >= end || b[i] !== 64) return null;
  }
  if (i < end && b[i] === 64) {
    if (i === rest) return null;
    user = i;
    while (++i < end && (C[b[i]] & 2) !== 0);
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
      while (i < end && (C[b[i]] & 8) !== 0) i++;
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
    params: list === undefined ? new Parameters() : Parameters.fromList(list),
    headers: new Parameters(),
  });
}

/** What `fastSipUri(…, false)` returns for a URI `parseUri` accepts. */
export const VALID = true;
