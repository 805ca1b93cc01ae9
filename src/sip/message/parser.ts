import { isAscii } from 'node:buffer';
import {
  COMMON_KEYS,
  COMMON_NAMES,
  COMMON_SLOTS,
  SLOT_CALL_ID,
  SLOT_CONTENT_LENGTH,
  SLOT_CSEQ,
  SLOT_FROM,
  SLOT_KEYS,
  SLOT_MAX_FORWARDS,
  SLOT_TO,
  SLOT_VIA,
  SINGLE_HEADERS,
  commonHeader,
  headerKey,
  headerSlot,
} from './header-names.js';
import { parseCommon } from './fast-path.js';
import { DEFAULT_LIMITS, type MessageLimits } from './limits.js';
import { parseNameAddress, type NameAddress } from './name-address.js';
import { isKnownMethod, isToken, methodName, splitCommas } from './scanner.js';
import { parseCSeq } from './cseq.js';
import { SipMessage } from './sip-message.js';
import { SipRequest } from './sip-request.js';
import { SipResponse } from './sip-response.js';
import { parseUri } from './uri.js';
import { parseVia, type Via } from './via.js';

export type SipMessageValue = SipRequest | SipResponse;

export type ParseResult =
  | { ok: true; message: SipMessageValue; consumed: number }
  | {
      ok: false;
      /** The status to answer a request with (400, 413, 505, 513 …); absent when it should be dropped. */
      status?: number;
      /** What is wrong, for logs and for the reason phrase / Warning of the answer. */
      reason: string;
      /** Bytes to discard (stream transports close the connection instead). */
      consumed?: number;
      /** The message as far as it parsed: present when an answer can be formed from it. */
      message?: SipMessageValue;
    }
  | { ok: 'partial' };

export interface ParseOptions {
  limits?: Partial<MessageLimits>;
  /**
   * Stream mode (TCP, TLS): the message must be framed by Content-Length and may be
   * incomplete (`{ ok: 'partial' }`). Datagram mode (UDP, the default): the
   * datagram is one message; bytes past Content-Length are discarded (RFC 3261 §18.3).
   */
  stream?: boolean;
}

const VERSION_RE = /^SIP\/(\d+)\.(\d+)$/i;
/** What VERSION_RE captures from "SIP/2.0", so the common case needs no regex. */
const SIP_2_0: readonly string[] = ['SIP/2.0', '2', '0'];
const MAX_CSEQ_OR_EXPIRES = 0xffffffff;
/** Larger buffers (a stream transport's backlog) are not decoded whole. */
const ASCII_FAST_PATH_MAX = 16384;

/**
 * Parses one SIP message from `data` (RFC 3261 §7, §18.3, §25). Never throws:
 * bad input yields `{ ok: false }` with the status a server should answer and,
 * when the head could be read, the partial message to answer from.
 *
 * @example
 * const r = parseMessage(Buffer.from('OPTIONS sip:a@example.com SIP/2.0\r\n...'));
 * if (r.ok === true && r.message.isRequest) console.log(r.message.method, r.message.from.uri.toString());
 */
export function parseMessage(data: Buffer, options?: ParseOptions): ParseResult {
  return parse(data, options, true);
}

/**
 * `parseMessage` without its common path (fast-path.ts): the full parser alone,
 * which decides every message the common path leaves to it. For the tests that
 * check that the two agree; not exported from the layer.
 */
export function parseMessageFull(data: Buffer, options?: ParseOptions): ParseResult {
  return parse(data, options, false);
}

/** The limits to apply: the defaults, completed by what `given` sets (copied only when it leaves some out). */
function effectiveLimits(given: Partial<MessageLimits> | undefined): Readonly<MessageLimits> {
  if (!given) return DEFAULT_LIMITS;
  // a transport passes the same complete object with every datagram: no copy per message
  if (given.maxMessageSize !== undefined && given.maxHeaders !== undefined && given.maxHeaderLineLength !== undefined && given.maxVia !== undefined) {
    return given as MessageLimits;
  }
  return { ...DEFAULT_LIMITS, ...given };
}

function parse(data: Buffer, options: ParseOptions | undefined, common: boolean): ParseResult {
  const limits = options === undefined ? DEFAULT_LIMITS : effectiveLimits(options.limits);
  const stream = options !== undefined && options.stream === true;
  // RFC 3261 §7.5: ignore CRLFs before the start line.
  let start = 0;
  while (start < data.length && (data[start] === 13 || data[start] === 10)) start++;
  if (start === data.length) return stream ? { ok: 'partial' } : { ok: false, reason: 'empty datagram', consumed: data.length };

  // Nearly every message is ASCII: then one latin1 decode of the whole buffer gives a text whose
  // character offsets are byte offsets, searched and scanned without further copies. Otherwise
  // (or for a large stream buffer) the head alone is decoded as UTF-8.
  const text = data.length <= ASCII_FAST_PATH_MAX && isAscii(data) ? data.toString('latin1') : undefined;
  // Most messages take the common path, which reads them in one pass or leaves them to the rest of this function.
  if (common && text !== undefined) {
    const result = parseCommon(data, text, start, limits, stream);
    if (result !== undefined) return result;
  }
  let headEnd = text !== undefined ? text.indexOf('\r\n\r\n', start) : data.indexOf('\r\n\r\n', start, 'latin1');
  let bodyStart: number;
  if (headEnd >= 0) bodyStart = headEnd + 4;
  else {
    const lf = text !== undefined ? text.indexOf('\n\n', start) : data.indexOf('\n\n', start, 'latin1');
    if (lf >= 0) {
      headEnd = lf;
      bodyStart = lf + 2;
    } else if (stream) {
      if (data.length - start > limits.maxMessageSize) return { ok: false, status: 513, reason: 'header section exceeds the message size limit' };
      return { ok: 'partial' };
    } else {
      // A datagram without the blank line: its headers run to the end (tolerated, RFC 5118 §4.10 files).
      headEnd = data.length;
      bodyStart = data.length;
    }
  }
  if (headEnd - start > limits.maxMessageSize) {
    return { ok: false, status: 513, reason: `header section larger than ${limits.maxMessageSize} bytes`, consumed: data.length };
  }

  // The head is head[hs, he).
  const head = text !== undefined ? text : data.toString('utf8', start, headEnd);
  const hs = text !== undefined ? start : 0;
  const he = text !== undefined ? headEnd : head.length;
  // ---- start line
  let lineEnd = head.indexOf('\n', hs);
  if (lineEnd < 0 || lineEnd > he) lineEnd = he;
  let startEnd = head.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
  while (startEnd > hs && (head.charCodeAt(startEnd - 1) === 32 || head.charCodeAt(startEnd - 1) === 9)) startEnd--;
  const startLine = head.slice(hs, startEnd);
  let message: SipMessageValue;
  let versionError: string | undefined;
  let lineError: string | undefined;
  const names: string[] = [];
  const keys: string[] = [];
  const values: string[] = [];
  if (startLine.startsWith('SIP/')) {
    const sp1 = startLine.indexOf(' ');
    const after = startLine.charCodeAt(sp1 + 4);
    if (sp1 < 0 || !isStatusCode(startLine, sp1 + 1) || !(Number.isNaN(after) || after === 32)) {
      return { ok: false, reason: 'malformed status line', consumed: data.length };
    }
    // Inside this branch the text starts with "SIP/", so VERSION_RE plus "2.0" after it means exactly this.
    if (sp1 !== 7 || !startLine.startsWith('SIP/2.0')) {
      return { ok: false, reason: 'unsupported SIP version in response', consumed: data.length };
    }
    const code = startLine.charCodeAt(sp1 + 1) * 100 + startLine.charCodeAt(sp1 + 2) * 10 + startLine.charCodeAt(sp1 + 3) - 5328;
    message = new SipResponse(code, startLine.slice(sp1 + 5), names, keys, values);
  } else {
    // A bad request line still gets its headers read, so that the 400 can be routed back.
    const sp1 = startLine.indexOf(' ');
    const sp2 = startLine.lastIndexOf(' ');
    const method = sp1 > 0 ? methodName(startLine, 0, sp1) : startLine;
    const version = sp2 > sp1 ? startLine.slice(sp2 + 1) : '';
    const uri = sp2 > sp1 ? startLine.slice(sp1 + 1, sp2).trim() : '';
    const vm = version === 'SIP/2.0' ? SIP_2_0 : VERSION_RE.exec(version);
    if (sp1 <= 0 || sp2 === sp1) lineError = 'malformed request line';
    else if (!isKnownMethod(method) && !isToken(method)) lineError = 'method is not a token';
    else if (!vm) lineError = 'malformed SIP-Version in request line';
    else if (uri.length === 0 || hasWhitespace(uri)) lineError = 'white space inside the Request-URI';
    else if (Number(vm[1]) !== 2 || Number(vm[2]) !== 0) versionError = `SIP version ${version.slice(4)} is not supported; use SIP/2.0`;
    message = new SipRequest(method, uri, names, keys, values);
  }

  // ---- headers (RFC 3261 §7.3; folded lines are joined with one SP)
  // Where each value sits in `head` (-1 when it is not a plain slice of it), so that the
  // mandatory headers are parsed in place; and the lines of the headers checkMandatory needs.
  const offsets: number[] = [];
  // one entry per slot of header-names.ts (SLOT_KEYS), written out: a literal is the cheapest array
  const first = [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1];
  const seen = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const vias: number[] = [];
  let pos = lineEnd + 1;
  let error: string | undefined;
  const headLength = head.length;
  let nextColon = -1;
  while (pos < he) {
    let nl = head.indexOf('\n', pos);
    if (nl < 0 || nl > he) nl = he;
    // The line is s[a, b): the head itself or, for a folded header, the joined text.
    let s = head;
    let a = pos;
    let b = head.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    pos = nl + 1;
    // folding: continuation lines start with SP or HTAB
    if (pos < he && (head.charCodeAt(pos) === 32 || head.charCodeAt(pos) === 9)) {
      let line = head.slice(a, b);
      while (pos < he && (head.charCodeAt(pos) === 32 || head.charCodeAt(pos) === 9)) {
        let next = head.indexOf('\n', pos);
        if (next < 0 || next > he) next = he;
        line += ' ' + head.slice(pos, head.charCodeAt(next - 1) === 13 ? next - 1 : next).trim();
        pos = next + 1;
      }
      s = line;
      a = 0;
      b = line.length;
    }
    if (b === a) continue;
    if (b - a > limits.maxHeaderLineLength) {
      error ??= `a header line is longer than ${limits.maxHeaderLineLength} characters`;
      continue;
    }
    // The first colon of the line. In the head it is found with one native search whose result
    // serves the following lines too until passed, so the scans stay linear in the head's length.
    let colon: number;
    if (s === head) {
      if (nextColon < a) {
        nextColon = head.indexOf(':', a);
        if (nextColon < 0) nextColon = headLength;
      }
      colon = nextColon < b ? nextColon : -1;
    } else colon = s.indexOf(':', a);
    if (colon <= a) {
      error ??= `header line without a colon: ${JSON.stringify(s.slice(a, Math.min(a + 40, b)))}`;
      continue;
    }
    let nameEnd = colon;
    while (nameEnd > a && (s.charCodeAt(nameEnd - 1) === 32 || s.charCodeAt(nameEnd - 1) === 9)) nameEnd--;
    // A common spelling is a token by construction; any other name is checked.
    const common = commonHeader(s, a, nameEnd);
    let slot: number;
    if (common >= 0) {
      names.push(COMMON_NAMES[common] as string);
      keys.push(COMMON_KEYS[common] as string);
      slot = COMMON_SLOTS[common] as number;
    } else {
      const name = s.slice(a, nameEnd);
      if (!isToken(name)) {
        error ??= `header name ${JSON.stringify(name)} is not a token`;
        continue;
      }
      const key = headerKey(name);
      names.push(name);
      keys.push(key);
      slot = headerSlot(key);
    }
    // the value, trimmed as String.prototype.trim does; sliced once when its edges are plain ASCII
    let i = colon + 1;
    let j = b;
    while (i < j && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
    while (j > i && (s.charCodeAt(j - 1) === 32 || s.charCodeAt(j - 1) === 9)) j--;
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(j - 1);
    if (i < j && c0 > 32 && c0 < 127 && c1 > 32 && c1 < 127) {
      values.push(s.slice(i, j));
      offsets.push(s === head ? i : -1);
    } else {
      values.push(s.slice(colon + 1, b).trim());
      offsets.push(-1);
    }
    if (slot !== 0) {
      const line = keys.length - 1;
      if (slot === SLOT_VIA) vias.push(line);
      if (seen[slot] === 0) first[slot] = line;
      seen[slot]++;
    }
  }
  if (names.length > limits.maxHeaders) {
    error ??= `more than ${limits.maxHeaders} header lines`;
  }

  // ---- body and Content-Length (RFC 3261 §18.3, §20.14)
  const available = data.length - bodyStart;
  let bodyLength = available;
  let consumed = data.length;
  const clFirst = first[SLOT_CONTENT_LENGTH];
  const clText = clFirst < 0 ? undefined : values[clFirst];
  if (clText !== undefined && seen[SLOT_CONTENT_LENGTH] > 1) {
    for (let k = clFirst + 1; k < keys.length; k++) {
      if (keys[k] === 'content-length' && values[k] !== clText) {
        error ??= 'several different Content-Length values';
        break;
      }
    }
  }
  if (clText !== undefined) {
    const cl = digitsValue(clText);
    if (cl < 0) {
      return fail(message, 400, `Content-Length ${JSON.stringify(clText)} is not a non-negative integer`, data.length);
    }
    if (cl > limits.maxMessageSize) {
      return fail(message, 413, `Content-Length ${cl} exceeds the ${limits.maxMessageSize}-byte limit`, data.length);
    }
    if (cl > available) {
      if (stream) return { ok: 'partial' };
      error ??= `Content-Length ${cl} is larger than the ${available} bytes received`;
      bodyLength = available;
    } else {
      bodyLength = cl;
      consumed = bodyStart + cl;
    }
  } else if (stream) {
    // RFC 3261 §18.3: Content-Length is mandatory on stream transports.
    return fail(message, 400, 'Content-Length is required on a stream transport', data.length);
  }
  if (bodyStart + bodyLength - start > limits.maxMessageSize || (!stream && data.length > limits.maxMessageSize)) {
    return fail(message, 513, `message larger than ${limits.maxMessageSize} bytes`, consumed);
  }
  if (bodyLength > 0) message.body = data.subarray(bodyStart, bodyStart + bodyLength);

  if (versionError !== undefined) return { ok: false, status: 505, reason: versionError, consumed, message };
  if (lineError !== undefined) return { ok: false, status: 400, reason: lineError, consumed, message };
  if (error === undefined) error = checkMandatory(message, { head, values, offsets, first, seen, vias }, limits);
  if (error !== undefined) {
    return message.isRequest
      ? { ok: false, status: 400, reason: error, consumed, message }
      : { ok: false, reason: error, consumed };
  }
  return { ok: true, message, consumed };
}

/** Requests get an answer (on a stream the transport then closes the connection); responses are dropped. */
function fail(message: SipMessageValue, status: number, reason: string, consumed: number): ParseResult {
  if (!message.isRequest) return { ok: false, reason, consumed };
  return { ok: false, status, reason, consumed, message };
}

/** The slots of the headers that may appear once, in the order they are checked. */
const SINGLE_SLOTS = [...SINGLE_HEADERS].map(headerSlot);

/** What the header loop learnt, for checkMandatory. */
interface HeaderIndex {
  /** The text the values were sliced from. */
  head: string;
  values: string[];
  /** Where each value starts in `head`, or -1 when it is not a plain slice of it. */
  offsets: number[];
  /** Per slot (header-names.ts): the first line and the number of lines. */
  first: number[];
  seen: number[];
  /** The Via lines. */
  vias: number[];
}

/**
 * The checks without which no layer can work with the message: the mandatory
 * headers exist once, parse, and agree with the start line (RFC 3261 §8.1.1, §8.2.2).
 * Values are parsed in place in the head when they are plain slices of it.
 */
function checkMandatory(m: SipMessageValue, h: HeaderIndex, limits: MessageLimits): string | undefined {
  const { head, values, offsets, first, seen } = h;
  for (const slot of SINGLE_SLOTS) {
    if (seen[slot] > 1) return `more than one ${SLOT_KEYS[slot]} header`;
  }
  // as getAll('via'): a line holding a comma list contributes its non-empty elements
  let viaCount = 0;
  let lists = false;
  for (const line of h.vias) {
    const v = values[line];
    if (v.indexOf(',') < 0) viaCount++;
    else {
      lists = true;
      for (const part of splitCommas(v)) if (part.length > 0) viaCount++;
    }
  }
  if (viaCount === 0) return 'missing Via';
  if (viaCount > limits.maxVia) return `more than ${limits.maxVia} Via values`;
  const via: Via[] = [];
  for (const line of h.vias) {
    const v = values[line];
    if (!lists || v.indexOf(',') < 0) {
      const at = offsets[line];
      const parsed = at >= 0 ? parseVia(head, at, at + v.length) : parseVia(v);
      if (parsed === undefined) return `malformed Via ${JSON.stringify(v)}`;
      via.push(parsed);
    } else {
      for (const part of splitCommas(v)) {
        if (part.length === 0) continue;
        const parsed = parseVia(part);
        if (parsed === undefined) return `malformed Via ${JSON.stringify(part)}`;
        via.push(parsed);
      }
    }
  }
  const fromLine = first[SLOT_FROM];
  if (fromLine < 0) return 'missing From';
  const from = parseAddressAt(h, fromLine);
  if (from === undefined) return `malformed From ${JSON.stringify(values[fromLine])}`;
  const toLine = first[SLOT_TO];
  if (toLine < 0) return 'missing To';
  const to = parseAddressAt(h, toLine);
  if (to === undefined) return `malformed To ${JSON.stringify(values[toLine])}`;
  const callIdLine = first[SLOT_CALL_ID];
  const callId = callIdLine < 0 ? '' : values[callIdLine];
  if (callId.length === 0) return 'missing Call-ID';
  const cseqLine = first[SLOT_CSEQ];
  if (cseqLine < 0) return 'missing CSeq';
  const cseqText = values[cseqLine];
  const cseqAt = offsets[cseqLine];
  const cseq = cseqAt >= 0 ? parseCSeq(head, cseqAt, cseqAt + cseqText.length) : parseCSeq(cseqText);
  if (cseq === undefined) return `malformed CSeq ${JSON.stringify(cseqText)}`;
  if (m.isRequest) {
    if (cseq.method !== m.method) return `CSeq method ${cseq.method} does not match the request method ${m.method}`;
    const mfLine = first[SLOT_MAX_FORWARDS];
    if (mfLine >= 0) {
      const mf = values[mfLine];
      const hops = digitsValue(mf);
      if (hops < 0 || hops > 255) return `malformed Max-Forwards ${JSON.stringify(mf)}`;
    }
    const uri = parseUri(m.uriText);
    if (uri === undefined) return `malformed Request-URI ${JSON.stringify(m.uriText)}`;
    m.uri = uri;
  }
  SipMessage.prime(m, via, from, to, cseq, callId);
  return undefined;
}

function parseAddressAt(h: HeaderIndex, line: number): NameAddress | undefined {
  const v = h.values[line];
  const at = h.offsets[line];
  return at >= 0 ? parseNameAddress(h.head, false, at, at + v.length) : parseNameAddress(v);
}

/**
 * Deeper checks of headers a UAS or registrar acts on (Contact, Route,
 * Record-Route, Expires): run by the core on requests before anything else
 * reads them. Returns what is wrong, or `undefined`.
 */
export function validateHeaders(m: SipMessageValue): string | undefined {
  for (const key of ['contact', 'route', 'record-route', 'path']) {
    for (const v of m.getAll(key)) {
      if (v.length === 0 || parseNameAddress(v, key === 'contact') === undefined) return `malformed ${key} value ${JSON.stringify(v)}`;
    }
  }
  for (const line of headerLines(m, 'contact')) {
    if (splitCommas(line).some((p) => p.length === 0)) return 'empty value in a Contact list';
  }
  const expires = m.get('expires');
  const seconds = expires === undefined ? 0 : digitsValue(expires);
  if (seconds < 0 || seconds > MAX_CSEQ_OR_EXPIRES) {
    return `malformed Expires ${JSON.stringify(expires)}`;
  }
  return undefined;
}

function headerLines(m: SipMessageValue, key: string): string[] {
  const out: string[] = [];
  for (const [name, value] of m.headers()) if (headerKey(name) === key) out.push(value);
  return out;
}

/**
 * The value of 1*10DIGIT (what the Content-Length, Max-Forwards and Expires
 * grammars allow here), or -1 when `s` is anything else.
 */
function digitsValue(s: string): number {
  const n = s.length;
  if (n === 0 || n > 10) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** Status-Code = [1-6] DIGIT DIGIT at s[i, i + 3), followed by nothing or more text. */
function isStatusCode(s: string, i: number): boolean {
  if (i + 3 > s.length) return false;
  const a = s.charCodeAt(i);
  const b = s.charCodeAt(i + 1);
  const c = s.charCodeAt(i + 2);
  return a >= 49 && a <= 54 && b >= 48 && b <= 57 && c >= 48 && c <= 57;
}

/** Whether `s` holds any character the regex class `\s` matches. */
function hasWhitespace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127) return WHITESPACE_RE.test(s);
  }
  return false;
}
const WHITESPACE_RE = /\s/;
