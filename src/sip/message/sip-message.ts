import { canonicalName, headerKey, isListHeader } from './header-names.js';
import { NameAddress, parseNameAddress } from './name-address.js';
import { isTokenChar, methodName, splitCommas } from './scanner.js';
import { parseVia, type Via } from './via.js';

const EMPTY = Buffer.alloc(0);

export interface CSeq {
  seq: number;
  method: string;
}

/** Thrown by setters when an application writes a value that could not be parsed back. */
export class InvalidHeaderError extends TypeError {
  readonly header: string;
  constructor(header: string, value: string, why: string) {
    super(`Invalid ${header} header value ${JSON.stringify(value)}: ${why}`);
    this.header = header;
  }
}

const CRLF_RE = /[\r\n]/;
const NAME_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/**
 * What requests and responses share: headers kept in received order with the
 * names as written, accessed case-insensitively by long or compact name, plus
 * lazily parsed, cached views of the headers every layer reads.
 *
 * Views (`via`, `from`, `contact` …) are parsed on first use and cached; they
 * are snapshots: change a header with `set`/`add`/`remove`, which drop the cache.
 */
export abstract class SipMessage {
  /** Header names as written, their lower-case long-form keys and raw values (one entry per line). */
  #names: string[];
  #keys: string[];
  #values: string[];
  #body: Buffer;
  #via: Via[] | undefined;
  #from: NameAddress | undefined;
  #to: NameAddress | undefined;
  #cseq: CSeq | undefined;
  #callId: string | undefined;
  #views: Map<string, unknown> | undefined;

  constructor(names: string[] = [], keys: string[] = [], values: string[] = [], body: Buffer = EMPTY) {
    this.#names = names;
    this.#keys = keys;
    this.#values = values;
    this.#body = body;
  }

  abstract readonly isRequest: boolean;
  /** The start line, without CRLF. */
  abstract startLine(): string;

  // ---- raw header access -------------------------------------------------

  has(name: string): boolean {
    return this.#keys.indexOf(headerKey(name)) >= 0;
  }

  /** The first value of a header (the first list element for list headers), or `undefined`. */
  get(name: string): string | undefined {
    const key = headerKey(name);
    const i = this.#keys.indexOf(key);
    if (i < 0) return undefined;
    const v = this.#values[i] as string;
    if (isListHeader(key) && v.indexOf(',') >= 0) return splitCommas(v)[0];
    return v;
  }

  /** Every value of a header, across lines, comma lists split for list headers. */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const list = isListHeader(key);
    const out: string[] = [];
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== key) continue;
      const v = this.#values[i] as string;
      if (list && v.indexOf(',') >= 0) {
        for (const part of splitCommas(v)) if (part.length > 0) out.push(part);
      } else out.push(v);
    }
    return out;
  }

  /** Number of header lines with this name (used by single-value checks). */
  count(name: string): number {
    const key = headerKey(name);
    let n = 0;
    for (const k of this.#keys) if (k === key) n++;
    return n;
  }

  /** Header names in order of first appearance, as written. */
  headerNames(): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (let i = 0; i < this.#keys.length; i++) {
      const k = this.#keys[i] as string;
      if (!seen.has(k)) {
        seen.add(k);
        out.push(this.#names[i] as string);
      }
    }
    return out;
  }

  /** Every header line in order as `[name as written, raw value]`. */
  headers(): [string, string][] {
    return this.#names.map((n, i) => [n, this.#values[i] as string]);
  }

  /** Replaces every line of the header with one value (kept at the first line's position). */
  set(name: string, value: string | { toString(): string }): this {
    const text = checkValue(name, String(value));
    const key = headerKey(name);
    const i = this.#keys.indexOf(key);
    this.#drop(key);
    if (i < 0) this.#push(name, key, text, false);
    else {
      this.#removeAll(key);
      this.#names.splice(i, 0, name);
      this.#keys.splice(i, 0, key);
      this.#values.splice(i, 0, text);
    }
    return this;
  }

  /** Adds a header line, last by default or first among all headers when `first` is set. */
  add(name: string, value: string | { toString(): string }, options: { first?: boolean } = {}): this {
    const text = checkValue(name, String(value));
    const key = headerKey(name);
    this.#drop(key);
    this.#push(name, key, text, options.first === true);
    return this;
  }

  /** Removes every line of the header; returns how many were removed. */
  remove(name: string): number {
    const key = headerKey(name);
    this.#drop(key);
    return this.#removeAll(key);
  }

  /**
   * Removes the first value of a list header (the top Via, the first Route),
   * keeping the rest of a comma-separated line. Returns the removed value.
   */
  removeFirst(name: string): string | undefined {
    const key = headerKey(name);
    const i = this.#keys.indexOf(key);
    if (i < 0) return undefined;
    this.#drop(key);
    const v = this.#values[i] as string;
    if (isListHeader(key) && v.indexOf(',') >= 0) {
      const parts = splitCommas(v);
      const first = parts.shift();
      this.#values[i] = parts.join(', ');
      return first;
    }
    this.#names.splice(i, 1);
    this.#keys.splice(i, 1);
    this.#values.splice(i, 1);
    return v;
  }

  /** Seeds the cached views with values the parser already parsed while validating. */
  static prime(m: SipMessage, via: Via[], from: NameAddress, to: NameAddress, cseq: CSeq, callId: string): void {
    m.#callId = callId;
    m.#via = via;
    m.#from = from;
    m.#to = to;
    m.#cseq = cseq;
  }

  // ---- typed views ------------------------------------------------------------

  /** Every Via value, top first. Malformed values were refused by the parser. */
  get via(): Via[] {
    if (this.#via === undefined) {
      const out: Via[] = [];
      for (const v of this.getAll('via')) {
        const parsed = parseVia(v);
        if (parsed) out.push(parsed);
      }
      this.#via = out;
    }
    return this.#via;
  }

  get topVia(): Via | undefined {
    return this.via[0];
  }

  get from(): NameAddress {
    return (this.#from ??= this.#address('from'));
  }

  get to(): NameAddress {
    return (this.#to ??= this.#address('to'));
  }

  get callId(): string {
    return (this.#callId ??= this.get('call-id') ?? '');
  }

  get cseq(): CSeq {
    if (this.#cseq === undefined) this.#cseq = parseCSeq(this.get('cseq') ?? '') ?? { seq: 0, method: '' };
    return this.#cseq;
  }

  /** Max-Forwards, or `undefined` when absent. */
  get maxForwards(): number | undefined {
    const v = this.get('max-forwards');
    return v === undefined ? undefined : Number(v);
  }

  /** Contact values; `Contact: *` gives one wildcard entry. */
  get contact(): NameAddress[] {
    return this.#addressList('contact', true);
  }

  get route(): NameAddress[] {
    return this.#addressList('route', false);
  }

  get recordRoute(): NameAddress[] {
    return this.#addressList('record-route', false);
  }

  /** Content-Type without parameters, lower-cased (`application/sdp`), or `undefined`. */
  get contentType(): string | undefined {
    const v = this.get('content-type');
    if (v === undefined) return undefined;
    const semi = v.indexOf(';');
    return (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
  }

  /** The body as raw bytes (binary-safe; multipart bodies are left intact). */
  get body(): Buffer {
    return this.#body;
  }

  set body(value: Buffer) {
    this.#body = value;
  }

  /** Sets the body and its Content-Type together (removes Content-Type for an empty body). */
  setContent(body: Buffer | string, contentType?: string): this {
    this.#body = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (contentType !== undefined) this.set('Content-Type', contentType);
    else if (this.#body.length === 0) this.remove('content-type');
    return this;
  }

  // ---- serialisation ----------------------------------------------------------

  /**
   * Serialises the message: header order and spelling kept as received,
   * Content-Length recomputed from the body (added when absent).
   */
  toBuffer(): Buffer {
    let head = this.startLine() + '\r\n';
    let wroteLength = false;
    const names = this.#names;
    const keys = this.#keys;
    const values = this.#values;
    for (let i = 0; i < names.length; i++) {
      if (keys[i] === 'content-length') {
        if (wroteLength) continue;
        wroteLength = true;
        head += names[i] + ': ' + this.#body.length + '\r\n';
        continue;
      }
      head += names[i] + ': ' + values[i] + '\r\n';
    }
    if (!wroteLength) head += 'Content-Length: ' + this.#body.length + '\r\n';
    head += '\r\n';
    if (this.#body.length === 0) return Buffer.from(head, 'utf8');
    const headLength = Buffer.byteLength(head, 'utf8');
    const out = Buffer.allocUnsafe(headLength + this.#body.length);
    out.write(head, 0, 'utf8');
    this.#body.copy(out, headLength);
    return out;
  }

  toString(): string {
    return this.toBuffer().toString('utf8');
  }

  /** Copies headers (and body) into `target`; used by clone implementations. */
  protected copyInto<T extends SipMessage>(target: T): T {
    target.#names = this.#names.slice();
    target.#keys = this.#keys.slice();
    target.#values = this.#values.slice();
    target.#body = this.#body;
    return target;
  }

  #address(key: string): NameAddress {
    const v = this.get(key);
    const parsed = v === undefined ? undefined : parseNameAddress(v);
    if (parsed === undefined) throw new InvalidHeaderError(canonicalName(key), v ?? '', 'missing or malformed');
    return parsed;
  }

  #addressList(key: string, wildcard: boolean): NameAddress[] {
    const views = (this.#views ??= new Map());
    let list = views.get(key) as NameAddress[] | undefined;
    if (list === undefined) {
      list = [];
      for (const v of this.getAll(key)) {
        const a = parseNameAddress(v, wildcard);
        if (a) list.push(a);
      }
      views.set(key, list);
    }
    return list;
  }

  #drop(key: string): void {
    switch (key) {
      case 'via':
        this.#via = undefined;
        break;
      case 'from':
        this.#from = undefined;
        break;
      case 'to':
        this.#to = undefined;
        break;
      case 'cseq':
        this.#cseq = undefined;
        break;
      case 'call-id':
        this.#callId = undefined;
        break;
      default:
        this.#views?.delete(key);
    }
  }

  #push(name: string, key: string, value: string, first: boolean): void {
    if (first) {
      // "first" means first of its kind: insert before the first existing line of that header,
      // or at the very top when there is none (a new top Via).
      const i = this.#keys.indexOf(key);
      const at = i < 0 ? 0 : i;
      this.#names.splice(at, 0, name);
      this.#keys.splice(at, 0, key);
      this.#values.splice(at, 0, value);
    } else {
      this.#names.push(name);
      this.#keys.push(key);
      this.#values.push(value);
    }
  }

  #removeAll(key: string): number {
    let n = 0;
    for (let i = this.#keys.length - 1; i >= 0; i--) {
      if (this.#keys[i] === key) {
        this.#names.splice(i, 1);
        this.#keys.splice(i, 1);
        this.#values.splice(i, 1);
        n++;
      }
    }
    return n;
  }
}

const CSEQ_RE = /^\s*(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)\s*$/;

/**
 * CSeq = 1*DIGIT LWS Method, the number at most 2^32-1 (RFC 3261 §8.1.1.5).
 * Parses `v`, or its range `v[start, end)` as if it had been sliced out.
 */
export function parseCSeq(v: string, start = 0, end = v.length): CSeq | undefined {
  // ASCII scan of the CSEQ_RE grammar; whatever it does not accept goes to the regex,
  // which alone knows the non-ASCII white space \s matches.
  let i = start;
  while (i < end && isAsciiSpace(v.charCodeAt(i))) i++;
  const digits = i;
  let seq = 0;
  for (; i < end; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) break;
    seq = seq * 10 + (c - 48);
  }
  const digitsEnd = i;
  while (i < end && isAsciiSpace(v.charCodeAt(i))) i++;
  const method = i;
  while (i < end && isTokenChar(v.charCodeAt(i))) i++;
  const methodEnd = i;
  while (i < end && isAsciiSpace(v.charCodeAt(i))) i++;
  if (i === end && digitsEnd > digits && digitsEnd - digits <= 10 && method > digitsEnd && methodEnd > method) {
    return seq > 0xffffffff ? undefined : { seq, method: methodName(v, method, methodEnd) };
  }
  const m = CSEQ_RE.exec(start === 0 && end === v.length ? v : v.slice(start, end));
  if (!m) return undefined;
  const n = Number(m[1]);
  if (n > 0xffffffff) return undefined;
  return { seq: n, method: m[2] as string };
}

/** The ASCII characters of the regex class \s: HT, LF, VT, FF, CR, SP. */
function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function checkValue(name: string, value: string): string {
  if (!NAME_RE.test(name)) throw new InvalidHeaderError(name, value, 'the header name is not a token');
  if (CRLF_RE.test(value)) throw new InvalidHeaderError(name, value, 'a value may not contain CR or LF');
  return value.trim();
}
