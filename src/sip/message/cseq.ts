import { isTokenChar, methodName } from './scanner.js';

/** The CSeq header (RFC 3261 §20.16): the sequence number and the method. */
export interface CSeq {
  seq: number;
  method: string;
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
