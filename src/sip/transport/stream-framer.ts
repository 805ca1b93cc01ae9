/** Why a stream can no longer be framed; the connection that produced it must be closed. */
export type FramingErrorCode =
  | 'missing-content-length'
  | 'bad-content-length'
  | 'header-too-large'
  | 'too-large'
  | 'buffer-overflow';

export interface FramingError {
  code: FramingErrorCode;
  message: string;
  /** Bytes buffered and discarded with the error. */
  bytes: number;
}

/** What one `push()` produced, in arrival order within each kind. */
export interface FramerOutput {
  /** Complete messages: start-line, headers, blank line and exactly Content-Length body bytes. */
  messages: Buffer[];
  /** Double-CRLF keep-alive pings received; answer each with a single CRLF (RFC 5626 §4.4.1). */
  pings: number;
  /** Single-CRLF keep-alive pongs received (a lone CRLF between messages). */
  pongs: number;
  /** Set once the stream is unframeable; every later `push()` returns it again. */
  error?: FramingError;
}

export interface StreamFramerOptions {
  /** Largest message (header section + body) accepted. Default 65536. */
  maxMessageSize?: number;
  /** Largest header section (start-line to the blank line). Default: `maxMessageSize`. */
  maxHeaderSize?: number;
  /** Most bytes held while waiting for the rest of a message. Default: `maxMessageSize`. */
  maxBufferedBytes?: number;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const CRLF = Buffer.from('\r\n', 'latin1');
const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
const DIGITS = /^[0-9]{1,10}$/;

/**
 * Cuts a SIP byte stream into messages by Content-Length (RFC 3261 §18.3), one instance per
 * connection. Bytes in, whole messages out; nothing is parsed beyond the Content-Length header
 * (long or compact `l`, any case, RFC 3261 §7.3.3).
 *
 * Keep-alives (RFC 5626 §3.5.1): CRLFs between messages are not messages. CRLFCRLF is a ping, a lone
 * CRLF a pong (and RFC 3261 §7.5's "ignore CRLF before the start-line"). A lone CRLF ending a chunk is
 * reported as a pong at once; if the next chunk starts with CRLF the pair is then counted as a ping.
 *
 * Hazards: a stream with no, a non-numeric or conflicting Content-Length cannot be resynchronised,
 * so the framer fails for good and the caller closes the connection.
 */
export class StreamFramer {
  #maxMessageSize: number;
  #maxHeaderSize: number;
  #maxBufferedBytes: number;
  #pending: Buffer = Buffer.alloc(0);
  /** Total length of the message at the head of `#pending`, once its header section is known. */
  #expected = -1;
  /** Where to resume the search for the blank line in `#pending`. */
  #scanFrom = 0;
  /** The last chunk ended with a lone CRLF between messages. */
  #loneCrlf = false;
  #error: FramingError | undefined;

  constructor(options: StreamFramerOptions = {}) {
    this.#maxMessageSize = options.maxMessageSize ?? 65_536;
    this.#maxHeaderSize = options.maxHeaderSize ?? this.#maxMessageSize;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? this.#maxMessageSize;
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.#pending.length;
  }

  push(chunk: Buffer): FramerOutput {
    const out: FramerOutput = { messages: [], pings: 0, pongs: 0 };
    if (this.#error) {
      out.error = this.#error;
      return out;
    }
    const buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let pos = 0;
    if (this.#loneCrlf && buf.length >= 2 && buf[0] === CR && buf[1] === LF) {
      out.pings++;
      pos = 2;
    }
    this.#loneCrlf = false;

    while (pos < buf.length) {
      if (this.#expected < 0) {
        pos = this.#skipKeepAlives(buf, pos, out);
        if (pos >= buf.length || (buf[pos] === CR && pos + 1 === buf.length)) break;
        const error = this.#readHead(buf, pos);
        if (error) return this.#fail(out, error);
        if (this.#expected < 0) break;
      }
      if (buf.length - pos < this.#expected) break;
      out.messages.push(buf.subarray(pos, pos + this.#expected));
      pos += this.#expected;
      this.#expected = -1;
      this.#scanFrom = 0;
    }

    this.#pending = pos === 0 ? buf : buf.subarray(pos);
    if (this.#pending.length > this.#maxBufferedBytes) {
      return this.#fail(out, {
        code: 'buffer-overflow',
        message: `${this.#pending.length} bytes buffered for one message, above the ${this.#maxBufferedBytes}-byte cap`,
        bytes: this.#pending.length,
      });
    }
    return out;
  }

  /** Consumes CRLF pairs at a message boundary; returns the first position that is not one. */
  #skipKeepAlives(buf: Buffer, start: number, out: FramerOutput): number {
    let pos = start;
    let run = 0;
    while (pos + 1 < buf.length && buf[pos] === CR && buf[pos + 1] === LF) {
      pos += 2;
      run++;
    }
    if (run === 0) return pos;
    out.pings += run >> 1;
    if (run & 1) {
      out.pongs++;
      if (pos === buf.length || (pos + 1 === buf.length && buf[pos] === CR)) this.#loneCrlf = true;
    }
    return pos;
  }

  /**
   * Looks for the end of the header section of the message starting at `start`; when found, sets
   * `#expected` from its Content-Length. Returns an error when the stream cannot be framed.
   */
  #readHead(buf: Buffer, start: number): FramingError | undefined {
    const headerEnd = buf.indexOf(HEADER_END, start + this.#scanFrom);
    if (headerEnd < 0) {
      const held = buf.length - start;
      if (held > this.#maxHeaderSize) {
        return { code: 'header-too-large', message: `no end of header section within ${this.#maxHeaderSize} bytes`, bytes: held };
      }
      this.#scanFrom = Math.max(0, held - 3);
      return undefined;
    }
    const headLength = headerEnd + 4 - start;
    if (headLength > this.#maxHeaderSize) {
      return { code: 'header-too-large', message: `header section of ${headLength} bytes above the ${this.#maxHeaderSize}-byte limit`, bytes: buf.length - start };
    }
    const bodyLength = contentLength(buf, start, headerEnd);
    if (typeof bodyLength !== 'number') return { ...bodyLength, bytes: buf.length - start };
    const total = headLength + bodyLength;
    if (total > this.#maxMessageSize) {
      return { code: 'too-large', message: `message of ${total} bytes above the ${this.#maxMessageSize}-byte limit`, bytes: buf.length - start };
    }
    this.#expected = total;
    return undefined;
  }

  #fail(out: FramerOutput, error: FramingError): FramerOutput {
    this.#error = error;
    this.#pending = Buffer.alloc(0);
    out.error = error;
    return out;
  }
}

/**
 * The Content-Length of the header section `buf[start, headerEnd)`: every `Content-Length` or `l`
 * header (RFC 3261 §20.14, §7.3.3), folded lines joined (§7.3.1). Required on streams (§18.3);
 * repeated headers must agree.
 */
function contentLength(buf: Buffer, start: number, headerEnd: number): number | Omit<FramingError, 'bytes'> {
  let found: string | undefined;
  let current: string | undefined;
  let lineStart = buf.indexOf(0x0a, start) + 1;
  while (lineStart > 0 && lineStart < headerEnd) {
    let lineEnd = buf.indexOf(CRLF, lineStart);
    if (lineEnd < 0 || lineEnd > headerEnd) lineEnd = headerEnd;
    const first = buf[lineStart];
    if (first === SP || first === HTAB) {
      if (current !== undefined) current += ' ' + buf.toString('latin1', lineStart, lineEnd);
    } else {
      if (current !== undefined) {
        const merged = settle(current, found);
        if (typeof merged !== 'string') return merged;
        found = merged;
      }
      current = headerValue(buf, lineStart, lineEnd);
    }
    lineStart = lineEnd + 2;
  }
  if (current !== undefined) {
    const merged = settle(current, found);
    if (typeof merged !== 'string') return merged;
    found = merged;
  }
  if (found === undefined) {
    return { code: 'missing-content-length', message: 'no Content-Length header: required on stream transports (RFC 3261 §18.3)' };
  }
  return Number(found);
}

/** Merges one Content-Length value with the ones seen before; returns the agreed digits or an error. */
function settle(value: string, before: string | undefined): string | Omit<FramingError, 'bytes'> {
  const digits = value.trim();
  if (!DIGITS.test(digits)) {
    return { code: 'bad-content-length', message: `Content-Length "${digits.slice(0, 40)}" is not a number` };
  }
  const normal = String(Number(digits));
  if (before !== undefined && before !== normal) {
    return { code: 'bad-content-length', message: `conflicting Content-Length headers: ${before} and ${normal}` };
  }
  return normal;
}

/** The value of the header line `buf[start, end)` when it is Content-Length or `l`, else undefined. */
function headerValue(buf: Buffer, start: number, end: number): string | undefined {
  const colon = buf.indexOf(COLON, start);
  if (colon < 0 || colon >= end) return undefined;
  let nameEnd = colon;
  while (nameEnd > start && (buf[nameEnd - 1] === SP || buf[nameEnd - 1] === HTAB)) nameEnd--;
  const length = nameEnd - start;
  if (length === 1) {
    if ((buf[start]! | 0x20) !== 0x6c) return undefined;
  } else if (length === CONTENT_LENGTH.length) {
    for (let i = 0; i < length; i++) {
      const byte = buf[start + i]!;
      if ((byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte) !== CONTENT_LENGTH[i]) return undefined;
    }
  } else {
    return undefined;
  }
  return buf.toString('latin1', colon + 1, end);
}
