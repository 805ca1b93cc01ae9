import {
  COMMON_NAMES,
  COMMON_SLOTS,
  SLOT_CALL_ID,
  SLOT_CONTENT_LENGTH,
  SLOT_CSEQ,
  SLOT_FROM,
  SLOT_MAX_FORWARDS,
  SLOT_TO,
  SLOT_VIA,
  headerKey,
  headerSlot,
} from './header-names.js';
import type { MessageLimits } from './limits.js';
import { SIP_, fastCSeq, fastNameAddress, fastSipUri, fastVia, methodAt, parsedEnd, parsedUriEnd, wordAt, wordOf } from './fast-values.js';
import type { NameAddress } from './name-address.js';
import { isTokenChar } from './scanner.js';
import type { CSeq } from './cseq.js';
import { LINE_SPAN, OTHER_NAME, SipMessage, UNLOADED } from './sip-message.js';
import { SipRequest } from './sip-request.js';
import { SipResponse } from './sip-response.js';
import type { Via } from './via.js';
import type { ParseResult, SipMessageValue } from './parser.js';

/**
 * The parser's common path: a well-formed message in the form nearly every
 * element sends — ASCII, CRLF line ends, no folding, `Name: value` lines, the
 * mandatory headers once each and in their usual forms. It reads the bytes
 * once, line by line: header names are recognised in place, Via, From, To and
 * CSeq are parsed where they stand with the single-pass parsers of
 * fast-values.ts, the Request-URI is checked, and the other values are only
 * indexed; the message slices them (and builds the Request-URI and the body)
 * when first read (SipMessage.parsed, SipRequest.checkedUri).
 *
 * It returns the same result `parseMessage`'s full path returns, or
 * `undefined` whenever the message leaves that form or anything is wrong with
 * it: the full path then parses the message from the start and alone decides
 * errors and their reasons. So this path only ever accepts.
 *
 * `text` is the whole datagram decoded as latin1, ASCII only; `start` is past
 * the CRLFs that may precede the start line (RFC 3261 §7.5).
 */
export function parseCommon(data: Buffer, text: string, start: number, limits: MessageLimits, stream: boolean): ParseResult | undefined {
  const b = data;
  const length = data.length;
  // the line index holds offsets below LINE_SPAN
  if (length >= LINE_SPAN) return undefined;
  let nl: number;
  let message: SipMessageValue;
  let requestMethod: string | undefined;
  if (b[start] === 83 && spellsSip20(b, start) && b[start + 7] === 32) {
    // the reason phrase is short: read to the line end rather than searched
    let k = start + 8;
    let c = b[k] as number;
    while (c !== 13 && c !== 10 && k < length) c = b[++k] as number;
    if (c !== 13 || b[k + 1] !== 10) return undefined;
    nl = k + 1;
    let end = k;
    // trailing SP/HTAB of the start line are not part of it (as on the full path)
    while (end > start && (b[end - 1] === 32 || b[end - 1] === 9)) end--;
    // "SIP/2.0 " Status-Code ([1-6] DIGIT DIGIT), then SP and the reason phrase, or nothing (RFC 3261 §7.2)
    const x = b[start + 8] as number;
    const y = b[start + 9] as number;
    const z = b[start + 10] as number;
    if (x < 49 || x > 54 || y < 48 || y > 57 || z < 48 || z > 57 || end < start + 11) return undefined;
    if (end > start + 11 && b[start + 11] !== 32) return undefined;
    const reason = end > start + 12 ? text.slice(start + 12, end) : '';
    message = newResponse(x * 100 + y * 10 + z - 5328, reason);
  } else {
    // Method SP Request-URI SP "SIP/2.0" CRLF (RFC 3261 §7.1), read in one pass: the URI ends
    // at the SP, which no URI character is (white space before the CRLF goes to the full path)
    let i = start;
    while (isTokenChar(b[i] as number)) i++;
    if (i === start || b[i] !== 32) return undefined;
    const method = (requestMethod = methodAt(b, text, start, i));
    // checked here, parsed when first read: the transaction layer never reads it on its own
    const uriStart = i + 1;
    if (fastSipUri(b, text, uriStart, length, false) === null) return undefined;
    const uriEnd = parsedUriEnd;
    if (b[uriEnd] !== 32 || !spellsSip20(b, uriEnd + 1) || b[uriEnd + 8] !== 13 || b[uriEnd + 9] !== 10) return undefined;
    nl = uriEnd + 9;
    message = newRequest(method, text.slice(uriStart, uriEnd));
  }

  // ---- header lines up to the blank line (RFC 3261 §7.3)
  // Via, From, To and CSeq are parsed where they stand: their parsers find the end of the line.
  // lines[k] is line k as SipMessage.parsed takes it (a number: name, value start and end); the
  // literal holds room for a usual message's lines (as numbers, which a copy of it stays), -0.5 marking
  // those not used; more are appended
  const lines = [-0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5];
  let lineCount = 0;
  // the Vias in a literal array once the lines are read: the first two are held apart
  let via0: Via | null = null;
  let via1: Via | null = null;
  let vias: Via[] | null = null;
  let viaCount = 0;
  let from: NameAddress | null = null;
  let to: NameAddress | null = null;
  let cseq: CSeq | null = null;
  let callId = -1;
  let callIdEnd = -1;
  let maxForwards = -1;
  let maxForwardsEnd = -1;
  let contentLength = -1;
  let contentLengthEnd = -1;
  let singles = 0;
  let pos = nl + 1;
  const maxLine = limits.maxHeaderLineLength;
  for (;;) {
    if (pos + 1 >= length) return undefined;
    // the line's first four bytes, read once: the blank line, then the name's first word
    const first = wordAt(b, pos);
    let c = first & 255;
    if (c === 13) {
      if (((first >> 8) & 255) !== 10) return undefined;
      break;
    }
    // the name: a common spelling is recognised in place (its characters are a token); any other is scanned
    let name: number | string = commonColonAt(b, pos, first);
    let i: number;
    let slot: number;
    if (name >= 0) {
      // written right before the colon, as nearly always
      i = pos + (COMMON_LENGTHS[name] as number);
      slot = COMMON_SLOTS[name] as number;
    } else {
      name = commonAt(b, pos);
      if (name >= 0) {
        i = pos + (COMMON_LENGTHS[name] as number);
        slot = COMMON_SLOTS[name] as number;
      } else {
        i = pos;
        while (isTokenChar(c)) c = b[++i] as number;
        if (i === pos) return undefined;
        name = text.slice(pos, i);
        slot = headerSlot(headerKey(name));
      }
      c = b[i] as number;
      while (c === 32 || c === 9) c = b[++i] as number;
      if (c !== 58) return undefined;
    }
    // the value starts past the SP/HTAB after the colon
    while ((c = b[++i] as number) === 32 || c === 9);
    let j = -1;
    switch (slot) {
      case SLOT_VIA: {
        const v = fastVia(b, text, i);
        if (v === null || viaCount === limits.maxVia) return undefined;
        if (viaCount === 0) via0 = v;
        else if (viaCount === 1) via1 = v;
        else if (vias === null) vias = [via0 as Via, via1 as Via, v];
        else vias.push(v);
        viaCount++;
        j = parsedEnd;
        break;
      }
      case SLOT_FROM:
        if (from !== null || (from = fastNameAddress(b, text, i)) === null) return undefined;
        j = parsedEnd;
        break;
      case SLOT_TO:
        if (to !== null || (to = fastNameAddress(b, text, i)) === null) return undefined;
        j = parsedEnd;
        break;
      case SLOT_CSEQ:
        if (cseq !== null || (cseq = fastCSeq(b, text, i, requestMethod, start)) === null) return undefined;
        j = parsedEnd;
        break;
      case SLOT_MAX_FORWARDS:
      case SLOT_CONTENT_LENGTH: {
        // digits right up to the end of the line need no search for it; anything else is read below
        let k = i;
        while ((c = b[k] as number) >= 48 && c <= 57) k++;
        if (k === i || c !== 13) break;
        j = k;
        if (slot === SLOT_MAX_FORWARDS) {
          if (maxForwards >= 0) return undefined;
          maxForwards = i;
          maxForwardsEnd = j;
        } else {
          if (contentLength >= 0) return undefined;
          contentLength = i;
          contentLengthEnd = j;
        }
        break;
      }
    }
    if (j >= 0) {
      // a parsed value is the whole value only when the line ends right after it
      if (b[j] !== 13 || b[j + 1] !== 10) return undefined;
      nl = j + 1;
    } else {
      nl = text.indexOf('\n', i);
      if (nl < 0 || b[nl - 1] !== 13) return undefined;
      // the value without the SP/HTAB around it; other white space at its edges goes to the full path
      j = nl - 1;
      while (j > i && ((c = b[j - 1] as number) === 32 || c === 9)) j--;
      if (i < j && ((c = b[i] as number) <= 32 || c >= 127 || (c = b[j - 1] as number) <= 32 || c >= 127)) return undefined;
      if (slot !== 0) {
        switch (slot) {
          case SLOT_CALL_ID:
            if (callId >= 0) return undefined;
            callId = i;
            callIdEnd = j;
            break;
          case SLOT_MAX_FORWARDS:
            if (maxForwards >= 0) return undefined;
            maxForwards = i;
            maxForwardsEnd = j;
            break;
          case SLOT_CONTENT_LENGTH:
            if (contentLength >= 0) return undefined;
            contentLength = i;
            contentLengthEnd = j;
            break;
          default:
            // the other single-valued headers (RFC 3261 §7.3.1): a second one is an error
            if ((singles & (1 << slot)) !== 0) return undefined;
            singles |= 1 << slot;
        }
      }
    }
    if (nl - 1 - pos > maxLine) return undefined;
    // a continuation line (folding) is left to the full path
    c = b[nl + 1] as number;
    if (c === 32 || c === 9) return undefined;
    // (name * LINE_SPAN + value start) * LINE_SPAN + value end; any other name by where its line starts
    lines[lineCount++] = typeof name === 'number' ? (name * LINE_SPAN + i) * LINE_SPAN + j : (OTHER_NAME * LINE_SPAN + pos) * LINE_SPAN + j;
    pos = nl + 1;
  }
  const headEnd = pos - 2;
  const bodyStart = pos + 2;
  if (headEnd - start > limits.maxMessageSize || lineCount > limits.maxHeaders) return undefined;

  // ---- body and Content-Length (RFC 3261 §18.3, §20.14)
  const available = length - bodyStart;
  let bodyLength = available;
  let consumed = length;
  if (contentLength >= 0) {
    const cl = digitsAt(b, contentLength, contentLengthEnd);
    if (cl < 0 || cl > limits.maxMessageSize || cl > available) return undefined;
    bodyLength = cl;
    consumed = bodyStart + cl;
  } else if (stream) return undefined;
  if (bodyStart + bodyLength - start > limits.maxMessageSize || (!stream && length > limits.maxMessageSize)) return undefined;

  // ---- the mandatory headers (RFC 3261 §8.1.1, §8.2.2)
  if (viaCount === 0 || from === null || to === null || cseq === null || callId < 0) return undefined;
  if (callId === callIdEnd) return undefined;
  const callIdValue = text.slice(callId, callIdEnd);
  if (message.isRequest) {
    if (cseq.method !== message.method) return undefined;
    if (maxForwards >= 0) {
      const hops = digitsAt(b, maxForwards, maxForwardsEnd);
      if (hops < 0 || hops > 255) return undefined;
    }
    SipRequest.checkedUri(message);
  }
  const via = vias !== null ? vias : viaCount === 1 ? [via0 as Via] : [via0 as Via, via1 as Via];
  SipMessage.parsed(message, text, lines, data, bodyStart, bodyStart + bodyLength, via, from, to, cseq, callIdValue);
  return { ok: true, message, consumed };
}

/*
 * The message objects, built apart from parseCommon, which is too large for V8 to
 * inline their constructors: so they are inlined here rather than run through
 * the generic construct path.
 */
function newResponse(status: number, reason: string): SipResponse {
  return new SipResponse(status, reason, UNLOADED, UNLOADED, UNLOADED);
}

function newRequest(method: string, uri: string): SipRequest {
  return new SipRequest(method, uri, UNLOADED, UNLOADED, UNLOADED);
}

/** Whether b[i] starts "SIP/2.0". */
function spellsSip20(b: Uint8Array, i: number): boolean {
  return wordAt(b, i) === SIP_ && (wordAt(b, i + 4) & 0xffffff) === V2_0;
}
const V2_0 = wordOf('2.0\0');

/** The value of 1*10DIGIT at b[start, end), or -1 (as the full path's digitsValue). */
function digitsAt(b: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n === 0 || n > 10) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = b[i] as number;
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/*
 * The common header spellings (header-names.ts COMMON_NAMES) by their first two bytes (for
 * the one-letter compact forms: the letter and the SP, HTAB or ':' after it): FIRST[b0 * 128 + b1]
 * is 1 + the first candidate's index, NEXT[index] 1 + the next one's. The candidates' bytes
 * are in one array: NAME_BYTES[NAME_AT[index] …], NAME_LENGTHS[index] of them.
 */
const FIRST = new Uint16Array(128 * 128);
const NEXT = new Uint16Array(COMMON_NAMES.length);
const COMMON_LENGTHS = COMMON_NAMES.map((name) => name.length);
const NAME_AT = new Uint16Array(COMMON_NAMES.length);
const NAME_BYTES = Uint8Array.from(COMMON_NAMES.join(''), (ch) => ch.charCodeAt(0));
for (let k = 0, at = 0; k < COMMON_NAMES.length; at += (COMMON_NAMES[k] as string).length, k++) NAME_AT[k] = at;
for (let k = COMMON_NAMES.length - 1; k >= 0; k--) {
  const name = COMMON_NAMES[k] as string;
  if (name.length === 1) {
    for (const after of [32, 9, 58]) FIRST[name.charCodeAt(0) * 128 + after] = k + 1;
    continue;
  }
  const key = name.charCodeAt(0) * 128 + name.charCodeAt(1);
  NEXT[k] = FIRST[key] as number;
  FIRST[key] = k + 1;
}

/**
 * The index in COMMON_NAMES of the header name written exactly (case included)
 * at b[start], followed by a character that is not a token character, or -1.
 */
function commonAt(b: Uint8Array, start: number): number {
  let k = (FIRST[(b[start] as number) * 128 + (b[start + 1] as number)] as number) | 0;
  while (k !== 0) {
    const n = COMMON_LENGTHS[k - 1] as number;
    // the first two bytes chose the candidate
    const at = (NAME_AT[k - 1] as number) - start;
    let i = start + 2;
    const end = start + n;
    while (i < end && b[i] === NAME_BYTES[at + i]) i++;
    if (i >= end && !isTokenChar(b[end] as number)) return k - 1;
    k = NEXT[k - 1] as number;
  }
  return -1;
}

/*
 * The common spellings followed by ':', as little-endian 32-bit words (the last one masked to the
 * bytes that count): KEY_WORDS[KEY_AT[index] …], KEY_COUNTS[index] of them, so that the usual
 * `Name:` is recognised with a few word comparisons instead of one comparison per byte.
 */
const KEY_AT = new Uint16Array(COMMON_NAMES.length);
const KEY_COUNTS = new Uint8Array(COMMON_NAMES.length);
const KEY_LAST_MASKS = new Int32Array(COMMON_NAMES.length);
const KEY_WORDS = new Int32Array(COMMON_NAMES.reduce((n, name) => n + ((name.length + 4) >> 2), 0));
for (let k = 0, at = 0; k < COMMON_NAMES.length; k++) {
  const key = (COMMON_NAMES[k] as string) + ':';
  const count = (key.length + 3) >> 2;
  KEY_AT[k] = at;
  KEY_COUNTS[k] = count;
  for (let i = 0; i < key.length; i++) KEY_WORDS[at + (i >> 2)] |= key.charCodeAt(i) << ((i & 3) * 8);
  const rest = key.length & 3;
  KEY_LAST_MASKS[k] = rest === 0 ? -1 : (1 << (rest * 8)) - 1;
  at += count;
}

/**
 * The index in COMMON_NAMES of the header name written exactly (case included)
 * at b[start] and followed right away by ':', or -1 (commonAt decides the rest).
 * `first` is wordAt(b, start), which every candidate compares first.
 */
function commonColonAt(b: Uint8Array, start: number, first: number): number {
  let k = (FIRST[(first & 255) * 128 + ((first >> 8) & 255)] as number) | 0;
  while (k !== 0) {
    let w = KEY_AT[k - 1] as number;
    const last = w + (KEY_COUNTS[k - 1] as number) - 1;
    let i = start;
    let word = first;
    while (w < last && word === KEY_WORDS[w]) {
      w++;
      i += 4;
      word = wordAt(b, i);
    }
    if (w === last && (word & (KEY_LAST_MASKS[k - 1] as number)) === KEY_WORDS[w]) return k - 1;
    k = NEXT[k - 1] as number;
  }
  return -1;
}
