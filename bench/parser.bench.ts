import sip, { type SipPackageMessage } from 'sip';
import { parseMessage, type ParseResult, type SipMessageValue } from '../src/sip/message/index.js';

/**
 * Parser and serialiser throughput of Siplet's message layer against the `sip`
 * npm package (kirm/sip 0.0.6), on the same bytes, in the same process.
 *
 * Parse: each iteration parses the datagram and reads From (tag, URI user and
 * host), To (tag, URI scheme), every Via (branch, host), CSeq and Call-ID, so a
 * lazy parser pays for what a transaction layer reads. The
 * `sip` package takes a string, so its timing includes the Buffer→string
 * conversion its own UDP transport does (latin1, "binary").
 * Serialise: each iteration changes one header of a parsed message, then
 * produces the bytes a transport sends (`toBuffer()`; `stringify` plus the
 * string→Buffer conversion for the `sip` package).
 *
 * Hazards: figures move with CPU frequency and whatever else runs on the
 * machine; compare ratios from one run, not absolute rates across runs.
 */

export interface ParserBenchOptions {
  /** Time each implementation runs before measuring, per case. Default 200 ms. */
  warmupMs?: number;
  /** Measured rounds per implementation and case; the median is reported. Default 9. */
  rounds?: number;
  /** Length of one measured round. Default 200 ms. */
  roundMs?: number;
  /** Called with a line of progress after each case. Default: silent. */
  onProgress?: (line: string) => void;
}

export type MessageKind = 'INVITE' | '200 OK';
export type Operation = 'parse' | 'serialise';

export interface ParserBenchResult {
  kind: MessageKind;
  operation: Operation;
  /** Size of the message in bytes. */
  bytes: number;
  /** Median messages per second, Siplet. */
  siplet: number;
  /** Median messages per second, the `sip` package. */
  sipPackage: number;
  /** siplet / sipPackage. */
  ratio: number;
  /** Every round's rate, for spread. */
  sipletRounds: number[];
  sipPackageRounds: number[];
}

export interface ParserBenchReport {
  results: ParserBenchResult[];
  /** Sum of what every iteration read or produced; printed so nothing can be optimised away. */
  checksum: number;
}

const CRLF = '\r\n';

function withBody(head: string[], body: string[]): Buffer {
  const sdp = body.join(CRLF) + CRLF;
  const text = head.join(CRLF) + CRLF + 'Content-Length: ' + Buffer.byteLength(sdp, 'latin1') + CRLF + CRLF + sdp;
  return Buffer.from(text, 'latin1');
}

/** A typical INVITE with SDP as a UA sends it through one proxy (about 900 bytes). */
export const INVITE = withBody(
  [
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    'Via: SIP/2.0/UDP proxy1.atlanta.example.com:5060;branch=z9hG4bK2d4790.1',
    'Via: SIP/2.0/UDP 192.0.2.101:5060;received=192.0.2.101;rport=5060;branch=z9hG4bK74bf9',
    'Max-Forwards: 69',
    'To: Bob <sip:bob@biloxi.example.com>',
    'From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=9fxced76sl',
    'Call-ID: 3848276298220188511@atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@192.0.2.101:5060;transport=udp>',
    'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE',
    'Supported: replaces, timer, 100rel',
    'User-Agent: Softphone Beta1.5 (Linux x86_64)',
    'Content-Type: application/sdp',
  ],
  [
    'v=0',
    'o=alice 2890844526 2890844526 IN IP4 192.0.2.101',
    's=Talk',
    'c=IN IP4 192.0.2.101',
    't=0 0',
    'm=audio 49172 RTP/AVP 0 8 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=ptime:20',
    'a=sendrecv',
  ],
);

/** The 200 OK that answers it, with the SDP answer. */
export const OK_200 = withBody(
  [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP proxy1.atlanta.example.com:5060;branch=z9hG4bK2d4790.1',
    'Via: SIP/2.0/UDP 192.0.2.101:5060;received=192.0.2.101;rport=5060;branch=z9hG4bK74bf9',
    'To: Bob <sip:bob@biloxi.example.com>;tag=8321234356',
    'From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=9fxced76sl',
    'Call-ID: 3848276298220188511@atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:bob@192.0.2.4:5060;transport=udp>',
    'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE',
    'Supported: replaces, timer',
    'Server: Softphone Beta1.5 (Linux x86_64)',
    'Content-Type: application/sdp',
  ],
  [
    'v=0',
    'o=bob 2808844564 2808844564 IN IP4 192.0.2.4',
    's=Talk',
    'c=IN IP4 192.0.2.4',
    't=0 0',
    'm=audio 3456 RTP/AVP 0 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=ptime:20',
    'a=sendrecv',
  ],
);

interface Case {
  kind: MessageKind;
  bytes: Buffer;
  /** The header each serialise iteration rewrites (a proxy decrements Max-Forwards; a UAS stamps Server). */
  header: string;
  values: string[];
}

const CASES: Case[] = [
  { kind: 'INVITE', bytes: INVITE, header: 'Max-Forwards', values: ['70', '69', '68', '67', '66', '65', '64', '63'] },
  { kind: '200 OK', bytes: OK_200, header: 'Server', values: ['Siplet/0.1', 'Siplet/0.2', 'Siplet/0.3', 'Siplet/0.4', 'Siplet/0.5', 'Siplet/0.6', 'Siplet/0.7', 'Siplet/0.8'] },
];

/** Runs `iterations` iterations and returns what they accumulated. */
type Loop = (iterations: number) => number;

const BATCH = 64;

// ---- Siplet ------------------------------------------------------------------

function accepted(r: ParseResult): SipMessageValue {
  if (r.ok !== true) throw new Error(`Siplet refused a benchmark message: ${r.ok === false ? r.reason : 'partial'}`);
  return r.message;
}

function readSiplet(m: SipMessageValue): number {
  const from = m.from;
  const to = m.to;
  let n = m.cseq.seq + m.callId.length + (from.tag?.length ?? 0) + (to.tag?.length ?? 0) + to.uri.scheme.length;
  // Siplet has parsed the URIs (the sip package leaves them as text): read their parts too
  if (from.uri.isSip) n += (from.uri.user?.length ?? 0) + from.uri.host.length;
  const via = m.via;
  for (const v of via) n += (v.branch?.length ?? 0) + v.host.length;
  return n;
}

function sipletParseLoop(bytes: Buffer): Loop {
  return (iterations) => {
    let acc = 0;
    for (let i = 0; i < iterations; i++) {
      acc += readSiplet(accepted(parseMessage(bytes)));
    }
    return acc;
  };
}

function sipletSerialiseLoop(c: Case): Loop {
  const m = accepted(parseMessage(c.bytes));
  const { header, values } = c;
  return (iterations) => {
    let acc = 0;
    for (let i = 0; i < iterations; i++) {
      m.set(header, values[i & 7]);
      acc += m.toBuffer().length;
    }
    return acc;
  };
}

// ---- the sip package ------------------------------------------------------------

function sipPackageParse(bytes: Buffer): SipPackageMessage {
  const m = sip.parse(bytes.toString('latin1'));
  if (m === undefined) throw new Error('the sip package refused a benchmark message');
  return m;
}

function readSipPackage(m: SipPackageMessage): number {
  const h = m.headers;
  let n = h.cseq!.seq + h['call-id']!.length + (h.from!.params['tag']?.length ?? 0) + (h.to!.params['tag']?.length ?? 0) + h.to!.uri.length;
  const via = h.via!;
  for (const v of via) n += (v.params['branch']?.length ?? 0) + v.host.length;
  return n;
}

function sipPackageParseLoop(bytes: Buffer): Loop {
  return (iterations) => {
    let acc = 0;
    for (let i = 0; i < iterations; i++) acc += readSipPackage(sipPackageParse(bytes));
    return acc;
  };
}

function sipPackageSerialiseLoop(c: Case): Loop {
  const m = sipPackageParse(c.bytes);
  const key = c.header.toLowerCase();
  const { values } = c;
  return (iterations) => {
    let acc = 0;
    for (let i = 0; i < iterations; i++) {
      m.headers[key] = values[i & 7];
      // Its UDP transport sends Buffer.from(stringify(m), 'binary').
      acc += Buffer.from(sip.stringify(m), 'latin1').length;
    }
    return acc;
  };
}

// ---- harness ---------------------------------------------------------------------

/** Both parsers must agree on what they read, or the comparison means nothing. */
function checkAgreement(c: Case): void {
  const a = accepted(parseMessage(c.bytes));
  const b = sipPackageParse(c.bytes);
  const h = b.headers;
  const same =
    a.callId === h['call-id'] &&
    a.cseq.seq === h.cseq?.seq &&
    a.from.tag === h.from?.params['tag'] &&
    a.to.tag === (h.to?.params['tag'] ?? undefined) &&
    a.via.map((v) => v.branch).join() === h.via?.map((v) => v.params['branch']).join();
  if (!same) {
    throw new Error(`Siplet and the sip package read ${c.kind} differently`);
  }
  const again = parseMessage(a.toBuffer());
  const fromSip = parseMessage(Buffer.from(sip.stringify(b), 'latin1'));
  if (again.ok !== true || fromSip.ok !== true) throw new Error(`a serialised ${c.kind} does not parse back`);
}

let sink = 0;

/** Messages per second over about `ms` milliseconds. */
function rate(loop: Loop, ms: number): number {
  const budget = BigInt(Math.round(ms * 1e6));
  const start = process.hrtime.bigint();
  let done = 0;
  let elapsed = 0n;
  do {
    sink += loop(BATCH);
    done += BATCH;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  return (done * 1e9) / Number(elapsed);
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function compare(kind: MessageKind, operation: Operation, bytes: number, siplet: Loop, sipPackage: Loop, o: Required<ParserBenchOptions>): ParserBenchResult {
  rate(siplet, o.warmupMs);
  rate(sipPackage, o.warmupMs);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    // Alternate which goes first so that drift (thermal, other load) does not favour one side.
    if (r % 2 === 0) {
      a.push(rate(siplet, o.roundMs));
      b.push(rate(sipPackage, o.roundMs));
    } else {
      b.push(rate(sipPackage, o.roundMs));
      a.push(rate(siplet, o.roundMs));
    }
  }
  const sipletRate = median(a);
  const sipRate = median(b);
  const result = { kind, operation, bytes, siplet: sipletRate, sipPackage: sipRate, ratio: sipletRate / sipRate, sipletRounds: a, sipPackageRounds: b };
  o.onProgress(`  ${formatParserResult(result)}  (rounds: Siplet ${spread(a)}, sip package ${spread(b)})`);
  return result;
}

function spread(values: number[]): string {
  return `${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))}`;
}

/** The report line: `INVITE parse: N msg/s; sip package: M msg/s; ratio R`. */
export function formatParserResult(r: ParserBenchResult): string {
  return `${r.kind} ${r.operation}: ${Math.round(r.siplet)} msg/s; sip package: ${Math.round(r.sipPackage)} msg/s; ratio ${r.ratio.toFixed(2)}`;
}

/**
 * Measures parse and serialise rates of Siplet and the `sip` package for an
 * INVITE with SDP and its 200 OK: four comparisons (two messages, parse and
 * serialise) of two implementations, each `warmupMs + rounds × roundMs` long —
 * 16 s with the defaults. Blocks the event loop meanwhile.
 *
 * @example
 * const { results } = runParserBench({ rounds: 5 });
 * for (const r of results) console.log(formatParserResult(r));
 */
export function runParserBench(options: ParserBenchOptions = {}): ParserBenchReport {
  const o: Required<ParserBenchOptions> = {
    warmupMs: options.warmupMs ?? 200,
    rounds: options.rounds ?? 9,
    roundMs: options.roundMs ?? 200,
    onProgress: options.onProgress ?? (() => {}),
  };
  if (!(o.rounds >= 1) || !(o.roundMs > 0) || !(o.warmupMs >= 0)) {
    throw new RangeError('runParserBench: rounds must be ≥ 1, roundMs > 0 and warmupMs ≥ 0');
  }
  sink = 0;
  for (const c of CASES) checkAgreement(c);
  const results: ParserBenchResult[] = [];
  for (const c of CASES) {
    results.push(compare(c.kind, 'parse', c.bytes.length, sipletParseLoop(c.bytes), sipPackageParseLoop(c.bytes), o));
  }
  for (const c of CASES) {
    results.push(compare(c.kind, 'serialise', c.bytes.length, sipletSerialiseLoop(c), sipPackageSerialiseLoop(c), o));
  }
  return { results, checksum: sink };
}
