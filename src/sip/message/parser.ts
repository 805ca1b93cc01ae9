import { SINGLE_HEADERS, headerKey } from './header-names.js';
import { DEFAULT_LIMITS, type MessageLimits } from './limits.js';
import { parseNameAddress } from './name-address.js';
import { isToken, splitCommas } from './scanner.js';
import { SipMessage, parseCSeq } from './sip-message.js';
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
const MAX_CSEQ_OR_EXPIRES = 0xffffffff;

/**
 * Parses one SIP message from `data` (RFC 3261 §7, §18.3, §25). Never throws:
 * bad input yields `{ ok: false }` with the status a server should answer and,
 * when the head could be read, the partial message to answer from.
 *
 * @example
 * const r = parseMessage(Buffer.from('OPTIONS sip:a@example.com SIP/2.0\r\n...'));
 * if (r.ok === true && r.message.isRequest) console.log(r.message.method, r.message.from.uri.toString());
 */
export function parseMessage(data: Buffer, options: ParseOptions = {}): ParseResult {
  const limits = options.limits ? { ...DEFAULT_LIMITS, ...options.limits } : DEFAULT_LIMITS;
  const stream = options.stream === true;
  // RFC 3261 §7.5: ignore CRLFs before the start line.
  let start = 0;
  while (start < data.length && (data[start] === 13 || data[start] === 10)) start++;
  if (start === data.length) return stream ? { ok: 'partial' } : { ok: false, reason: 'empty datagram', consumed: data.length };

  let headEnd = data.indexOf('\r\n\r\n', start, 'latin1');
  let bodyStart: number;
  if (headEnd >= 0) bodyStart = headEnd + 4;
  else {
    const lf = data.indexOf('\n\n', start, 'latin1');
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

  const head = data.toString('utf8', start, headEnd);
  // ---- start line
  let lineEnd = head.indexOf('\n');
  if (lineEnd < 0) lineEnd = head.length;
  const startLine = head.slice(0, head.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd).replace(/[ \t]+$/, '');
  let message: SipMessageValue;
  let versionError: string | undefined;
  let lineError: string | undefined;
  const names: string[] = [];
  const keys: string[] = [];
  const values: string[] = [];
  if (startLine.startsWith('SIP/')) {
    const sp1 = startLine.indexOf(' ');
    const code = sp1 < 0 ? '' : startLine.slice(sp1 + 1, sp1 + 4);
    const after = startLine.charCodeAt(sp1 + 4);
    if (sp1 < 0 || !/^[1-6]\d\d$/.test(code) || !(Number.isNaN(after) || after === 32)) {
      return { ok: false, reason: 'malformed status line', consumed: data.length };
    }
    if (!VERSION_RE.test(startLine.slice(0, sp1)) || startLine.slice(4, sp1) !== '2.0') {
      return { ok: false, reason: 'unsupported SIP version in response', consumed: data.length };
    }
    message = new SipResponse(Number(code), startLine.slice(sp1 + 5), names, keys, values);
  } else {
    // A bad request line still gets its headers read, so that the 400 can be routed back.
    const sp1 = startLine.indexOf(' ');
    const sp2 = startLine.lastIndexOf(' ');
    const method = sp1 > 0 ? startLine.slice(0, sp1) : startLine;
    const version = sp2 > sp1 ? startLine.slice(sp2 + 1) : '';
    const uri = sp2 > sp1 ? startLine.slice(sp1 + 1, sp2).trim() : '';
    const vm = VERSION_RE.exec(version);
    if (sp1 <= 0 || sp2 === sp1) lineError = 'malformed request line';
    else if (!isToken(method)) lineError = 'method is not a token';
    else if (!vm) lineError = 'malformed SIP-Version in request line';
    else if (uri.length === 0 || /\s/.test(uri)) lineError = 'white space inside the Request-URI';
    else if (Number(vm[1]) !== 2 || Number(vm[2]) !== 0) versionError = `SIP version ${version.slice(4)} is not supported; use SIP/2.0`;
    message = new SipRequest(method, uri, names, keys, values);
  }

  // ---- headers (RFC 3261 §7.3; folded lines are joined with one SP)
  let pos = lineEnd + 1;
  let error: string | undefined;
  while (pos < head.length) {
    let nl = head.indexOf('\n', pos);
    if (nl < 0) nl = head.length;
    let line = head.slice(pos, head.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
    pos = nl + 1;
    // folding: continuation lines start with SP or HTAB
    while (pos < head.length && (head.charCodeAt(pos) === 32 || head.charCodeAt(pos) === 9)) {
      let next = head.indexOf('\n', pos);
      if (next < 0) next = head.length;
      line += ' ' + head.slice(pos, head.charCodeAt(next - 1) === 13 ? next - 1 : next).trim();
      pos = next + 1;
    }
    if (line.length === 0) continue;
    if (line.length > limits.maxHeaderLineLength) {
      error ??= `a header line is longer than ${limits.maxHeaderLineLength} characters`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      error ??= `header line without a colon: ${JSON.stringify(line.slice(0, 40))}`;
      continue;
    }
    let nameEnd = colon;
    while (nameEnd > 0 && (line.charCodeAt(nameEnd - 1) === 32 || line.charCodeAt(nameEnd - 1) === 9)) nameEnd--;
    const name = line.slice(0, nameEnd);
    if (!isToken(name)) {
      error ??= `header name ${JSON.stringify(name)} is not a token`;
      continue;
    }
    names.push(name);
    keys.push(headerKey(name));
    values.push(line.slice(colon + 1).trim());
  }
  if (names.length > limits.maxHeaders) {
    error ??= `more than ${limits.maxHeaders} header lines`;
  }

  // ---- body and Content-Length (RFC 3261 §18.3, §20.14)
  const available = data.length - bodyStart;
  let bodyLength = available;
  let consumed = data.length;
  let clText: string | undefined;
  for (let i = 0; i < keys.length; i++) {
    if (keys[i] !== 'content-length') continue;
    const v = values[i] as string;
    if (clText !== undefined && v !== clText) {
      error ??= 'several different Content-Length values';
      break;
    }
    clText = v;
  }
  if (clText !== undefined) {
    if (!/^\d{1,10}$/.test(clText)) {
      return fail(message, 400, `Content-Length ${JSON.stringify(clText)} is not a non-negative integer`, data.length);
    }
    const cl = Number(clText);
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
  if (error === undefined) error = checkMandatory(message, limits);
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

/**
 * The checks without which no layer can work with the message: the mandatory
 * headers exist once, parse, and agree with the start line (RFC 3261 §8.1.1, §8.2.2).
 */
function checkMandatory(m: SipMessageValue, limits: MessageLimits): string | undefined {
  for (const key of SINGLE_HEADERS) {
    if (m.count(key) > 1) return `more than one ${key} header`;
  }
  const viaTexts = m.getAll('via');
  if (viaTexts.length === 0) return 'missing Via';
  if (viaTexts.length > limits.maxVia) return `more than ${limits.maxVia} Via values`;
  const via: Via[] = [];
  for (const v of viaTexts) {
    const parsed = parseVia(v);
    if (parsed === undefined) return `malformed Via ${JSON.stringify(v)}`;
    via.push(parsed);
  }
  const fromText = m.get('from');
  if (fromText === undefined) return 'missing From';
  const from = parseNameAddress(fromText);
  if (from === undefined) return `malformed From ${JSON.stringify(fromText)}`;
  const toText = m.get('to');
  if (toText === undefined) return 'missing To';
  const to = parseNameAddress(toText);
  if (to === undefined) return `malformed To ${JSON.stringify(toText)}`;
  const callId = m.get('call-id');
  if (callId === undefined || callId.length === 0) return 'missing Call-ID';
  const cseqText = m.get('cseq');
  if (cseqText === undefined) return 'missing CSeq';
  const cseq = parseCSeq(cseqText);
  if (cseq === undefined) return `malformed CSeq ${JSON.stringify(cseqText)}`;
  if (m.isRequest) {
    if (cseq.method !== m.method) return `CSeq method ${cseq.method} does not match the request method ${m.method}`;
    const mf = m.get('max-forwards');
    if (mf !== undefined && (!/^\d{1,10}$/.test(mf) || Number(mf) > 255)) return `malformed Max-Forwards ${JSON.stringify(mf)}`;
    const uri = parseUri(m.uriText);
    if (uri === undefined) return `malformed Request-URI ${JSON.stringify(m.uriText)}`;
    m.uri = uri;
  }
  SipMessage.prime(m, via, from, to, cseq);
  return undefined;
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
  if (expires !== undefined && (!/^\d{1,10}$/.test(expires) || Number(expires) > MAX_CSEQ_OR_EXPIRES)) {
    return `malformed Expires ${JSON.stringify(expires)}`;
  }
  return undefined;
}

function headerLines(m: SipMessageValue, key: string): string[] {
  const out: string[] = [];
  for (const [name, value] of m.headers()) if (headerKey(name) === key) out.push(value);
  return out;
}
