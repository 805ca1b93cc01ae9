import { COMMON_KEYS, COMMON_NAMES, canonicalName, headerKey, isListHeader } from './header-names.js';
import { NameAddress, parseNameAddress } from './name-address.js';
import { parseCSeq, type CSeq } from './cseq.js';
import { isTokenChar, splitCommas } from './scanner.js';
import { parseVia, type Via } from './via.js';

export { parseCSeq, type CSeq } from './cseq.js';

const EMPTY = Buffer.alloc(0);

/**
 * For the parser's common path: the header lists of a message built with them
 * in place of its own, which `SipMessage.parsed` then gives an index of its
 * lines; they are replaced by the message's own lists when first read, and
 * never written.
 */
export const UNLOADED: string[] = [];

/**
 * For the parser's common path: the header line index (see #lines) holds
 * offsets below LINE_SPAN (the path reads datagrams of at most 16 KiB), and
 * OTHER_NAME for a name that is not one of the usual spellings.
 */
export const LINE_SPAN = 32768;
export const OTHER_NAME = COMMON_NAMES.length;

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
  #bodyValue: Buffer;
  /**
   * Set by the parser's common path until a header is read: the three lists are
   * then UNLOADED and header line k is `lines[k]` (up to the first negative
   * entry, room the parser did not use), which is
   * `(name * LINE_SPAN + a) * LINE_SPAN + b`: for a usual spelling, `name` is
   * its index in COMMON_NAMES and the value is text[a, b); for any other name,
   * `name` is OTHER_NAME and the line starts at text[a] (`Name: value`, the
   * value ending at b).
   */
  #text: string | undefined;
  #lines: number[] | undefined;
  /** Set by the parser until the body is read: the body is datagram[bodyStart, bodyEnd). */
  #datagram: Buffer | undefined;
  #bodyStart = 0;
  #bodyEnd = 0;
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
    this.#bodyValue = body;
  }

  /**
   * Fills the lists from the parser's index (see #lines). Every method that
   * reads or changes the header lines calls it first, when #text is set.
   */
  #load(): void {
    const text = this.#text as string;
    const lines = this.#lines as number[];
    // the parser built the message with the shared UNLOADED lists: the lines get their own
    const names: string[] = (this.#names = []);
    const keys: string[] = (this.#keys = []);
    const values: string[] = (this.#values = []);
    for (let k = 0; k < lines.length; k++) {
      const line = lines[k] as number;
      // room the parser did not use
      if (line < 0) break;
      const end = line % LINE_SPAN;
      const rest = (line - end) / LINE_SPAN;
      let i = rest % LINE_SPAN;
      const name = (rest - i) / LINE_SPAN;
      if (name !== OTHER_NAME) {
        names.push(COMMON_NAMES[name] as string);
        keys.push(COMMON_KEYS[name] as string);
      } else {
        // a token, then SP/HTAB, ':' and SP/HTAB before the value (as the parser found them)
        const start = i;
        while (isTokenChar(text.charCodeAt(i))) i++;
        const written = text.slice(start, i);
        names.push(written);
        keys.push(headerKey(written));
        let c: number;
        while ((c = text.charCodeAt(i)) === 32 || c === 9) i++;
        i++;
        while ((c = text.charCodeAt(i)) === 32 || c === 9) i++;
      }
      values.push(text.slice(i, end));
    }
    this.#text = undefined;
    this.#lines = undefined;
  }

  get #body(): Buffer {
    const datagram = this.#datagram;
    if (datagram !== undefined) {
      this.#bodyValue = datagram.subarray(this.#bodyStart, this.#bodyEnd);
      this.#datagram = undefined;
    }
    return this.#bodyValue;
  }

  set #body(value: Buffer) {
    this.#bodyValue = value;
    this.#datagram = undefined;
  }

  abstract readonly isRequest: boolean;
  /** The start line, without CRLF. */
  abstract startLine(): string;

  // ---- raw header access -------------------------------------------------

  has(name: string): boolean {
    if (this.#text !== undefined) this.#load();
    return this.#keys.indexOf(headerKey(name)) >= 0;
  }

  /** The first value of a header (the first list element for list headers), or `undefined`. */
  get(name: string): string | undefined {
    if (this.#text !== undefined) this.#load();
    const key = headerKey(name);
    const i = this.#keys.indexOf(key);
    if (i < 0) return undefined;
    const v = this.#values[i] as string;
    if (isListHeader(key) && v.indexOf(',') >= 0) return splitCommas(v)[0];
    return v;
  }

  /** Every value of a header, across lines, comma lists split for list headers. */
  getAll(name: string): string[] {
    if (this.#text !== undefined) this.#load();
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
    if (this.#text !== undefined) this.#load();
    const key = headerKey(name);
    let n = 0;
    for (const k of this.#keys) if (k === key) n++;
    return n;
  }

  /** Header names in order of first appearance, as written. */
  headerNames(): string[] {
    if (this.#text !== undefined) this.#load();
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
    if (this.#text !== undefined) this.#load();
    return this.#names.map((n, i) => [n, this.#values[i] as string]);
  }

  /** Replaces every line of the header with one value (kept at the first line's position). */
  set(name: string, value: string | { toString(): string }): this {
    if (this.#text !== undefined) this.#load();
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
    if (this.#text !== undefined) this.#load();
    const text = checkValue(name, String(value));
    const key = headerKey(name);
    this.#drop(key);
    this.#push(name, key, text, options.first === true);
    return this;
  }

  /** Removes every line of the header; returns how many were removed. */
  remove(name: string): number {
    if (this.#text !== undefined) this.#load();
    const key = headerKey(name);
    this.#drop(key);
    return this.#removeAll(key);
  }

  /**
   * Removes the first value of a list header (the top Via, the first Route),
   * keeping the rest of a comma-separated line. Returns the removed value.
   */
  removeFirst(name: string): string | undefined {
    if (this.#text !== undefined) this.#load();
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

  /**
   * For the parser's common path: the message was built with the UNLOADED
   * lists (and an empty body); its header lines are `lines` over `text` (see
   * #lines) and its body datagram[bodyStart, bodyEnd), turned into lists and a
   * Buffer when first read, so that what nobody reads is never copied. The
   * views are seeded with the values the parser already parsed (as `prime`).
   */
  static parsed(
    m: SipMessage,
    text: string,
    lines: number[],
    datagram: Buffer,
    bodyStart: number,
    bodyEnd: number,
    via: Via[],
    from: NameAddress,
    to: NameAddress,
    cseq: CSeq,
    callId: string,
  ): void {
    m.#text = text;
    m.#lines = lines;
    if (bodyEnd > bodyStart) {
      m.#datagram = datagram;
      m.#bodyStart = bodyStart;
      m.#bodyEnd = bodyEnd;
    }
    m.#callId = callId;
    m.#via = via;
    m.#from = from;
    m.#to = to;
    m.#cseq = cseq;
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

  /**
   * Drops the cached Via, From, To and address-list views (kept: Call-ID and CSeq, which are
   * small). They are parsed again from the header values when next read, so nothing changes
   * but the identity of the view objects. For holders of a message that outlives its
   * transaction (a dialog's original INVITE and its 2xx): the views are a large share of it.
   */
  releaseViews(): void {
    this.#via = undefined;
    this.#from = undefined;
    this.#to = undefined;
    this.#views = undefined;
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
    if (this.#text !== undefined) this.#load();
    let head = this.startLine() + '\r\n';
    let wroteLength = false;
    const names = this.#names;
    const keys = this.#keys;
    const values = this.#values;
    const body = this.#body;
    for (let i = 0; i < names.length; i++) {
      if (keys[i] === 'content-length') {
        if (wroteLength) continue;
        wroteLength = true;
        head += names[i] + ': ' + body.length + '\r\n';
        continue;
      }
      head += names[i] + ': ' + values[i] + '\r\n';
    }
    if (!wroteLength) head += 'Content-Length: ' + body.length + '\r\n';
    head += '\r\n';
    if (body.length === 0) return Buffer.from(head, 'utf8');
    const headLength = Buffer.byteLength(head, 'utf8');
    const out = Buffer.allocUnsafe(headLength + body.length);
    out.write(head, 0, 'utf8');
    body.copy(out, headLength);
    return out;
  }

  toString(): string {
    return this.toBuffer().toString('utf8');
  }

  /** Copies headers (and body) into `target`; used by clone implementations. */
  protected copyInto<T extends SipMessage>(target: T): T {
    if (this.#text !== undefined) this.#load();
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

function checkValue(name: string, value: string): string {
  if (!NAME_RE.test(name)) throw new InvalidHeaderError(name, value, 'the header name is not a token');
  if (CRLF_RE.test(value)) throw new InvalidHeaderError(name, value, 'a value may not contain CR or LF');
  return value.trim();
}
