import { isAscii } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, SipUri, parseCSeq, parseNameAddress, parseUri, parseVia, validateHeaders, type ParseOptions, type ParseResult, type SipMessageValue } from '../../../src/sip/message/index.js';
import { parseCommon } from '../../../src/sip/message/fast-path.js';
import { fastCSeq, fastNameAddress, fastSipUri, fastVia, parsedEnd, parsedUriEnd, VALID } from '../../../src/sip/message/fast-values.js';
import { parseMessageFull } from '../../../src/sip/message/parser.js';
import { parseMessage } from '../../../src/sip/message/index.js';
import type { NameAddress, Parameters, Uri, Via } from '../../../src/sip/message/index.js';
import { tortureBytes, tortureCases } from '../../support/torture.js';

/*
 * The parser's common path (fast-path.ts, fast-values.ts) must return exactly
 * what the full path returns, for every message it takes, and leave every
 * other message to it. These tests run both on the torture corpus and on
 * generated and mutated messages, and compare everything a caller can see.
 */

const INVITE =
  'INVITE sip:bob@biloxi.example.com SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP proxy1.atlanta.example.com:5060;branch=z9hG4bK2d4790.1\r\n' +
  'Via: SIP/2.0/UDP 192.0.2.101:5060;received=192.0.2.101;rport=5060;branch=z9hG4bK74bf9\r\n' +
  'Max-Forwards: 69\r\n' +
  'To: Bob <sip:bob@biloxi.example.com>\r\n' +
  'From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n' +
  'Call-ID: 3848276298220188511@atlanta.example.com\r\n' +
  'CSeq: 314159 INVITE\r\n' +
  'Contact: <sip:alice@192.0.2.101:5060;transport=udp>\r\n' +
  'Content-Type: application/sdp\r\n' +
  'Content-Length: 4\r\n' +
  '\r\n' +
  'v=0\n';

const RESPONSE =
  'SIP/2.0 180 Ringing\r\n' +
  'v: SIP/2.0/TCP a.example;branch=z9hG4bKx;rport=1;received=192.0.2.4\r\n' +
  't: "B" <sips:+15551234@b.example;user=phone>;tag=2\r\n' +
  'f: sip:a@c.example;tag=1\r\n' +
  'i: q@w\r\n' +
  'CSeq: 7 INVITE\r\n' +
  'Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>\r\n' +
  'l: 0\r\n' +
  '\r\n';

/** More header lines than the common path makes room for at first, names it does not know, odd spacing around colons. */
const LONG = INVITE.replace(
  'Content-Type',
  Array.from({ length: 24 }, (_, i) => [`X-Extra-${i}: v${i}`, `P-Spaced-${i}  :\t w ${i}`, `x${i}:y`, `Subject : s${i}`][i % 4]).join('\r\n') + '\r\nContent-Type',
);

function common(text: string | Buffer, options: ParseOptions = {}): ParseResult | undefined {
  const data = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  return parseCommon(data, data.toString('latin1'), 0, limits, options.stream === true);
}

describe('the common path', () => {
  it('takes the messages nearly every element sends', () => {
    expect(common(INVITE)?.ok).toBe(true);
    expect(common(RESPONSE)?.ok).toBe(true);
    expect(common(INVITE, { stream: true })?.ok).toBe(true);
    expect(common(LONG)?.ok).toBe(true);
  });

  it('leaves folding, bare LF, odd white space and every error to the full path', () => {
    expect(common(INVITE.replace('Max-Forwards: 69', 'Max-Forwards:\r\n 69'))).toBeUndefined();
    expect(common(INVITE.replace(/\r\n/g, '\n'))).toBeUndefined();
    expect(common(INVITE.replace('To: Bob', 'To:  Bob ').replace('.com>\r\n', '.com> \r\n'))).toBeUndefined();
    expect(common(INVITE.replace('CSeq: 314159 INVITE', 'CSeq: 314159 BYE'))).toBeUndefined();
    expect(common(INVITE.replace('Content-Length: 4', 'Content-Length: 40'))).toBeUndefined();
    expect(common(INVITE.replace('Call-ID', 'Call-ID: x\r\nCall-ID'))).toBeUndefined();
    expect(common(INVITE, { limits: { maxVia: 1 } })).toBeUndefined();
  });

  it('defers the Request-URI, the values and the body until read, and then gives what the full path gives', () => {
    const fast = parseMessage(Buffer.from(INVITE, 'latin1'));
    const full = parseMessageFull(Buffer.from(INVITE, 'latin1'));
    if (fast.ok !== true || full.ok !== true || !fast.message.isRequest || !full.message.isRequest) throw new Error('not parsed');
    expect(fast.message.uriText).toBe(full.message.uriText);
    expect(fast.message.body.equals(full.message.body)).toBe(true);
    expect(fast.message.headers()).toEqual(full.message.headers());
    expect(fast.message.clone().toBuffer().equals(full.message.clone().toBuffer())).toBe(true);
  });
});

// ---- what a caller can see of a parse result

function params(p: Parameters): unknown {
  return p.entries();
}

function uri(u: Uri): unknown {
  const o: Record<string, unknown> = { cls: u.constructor.name, text: u.toString(), keys: Object.keys(u) };
  for (const [k, v] of Object.entries(u)) o[k] = v !== null && typeof v === 'object' && 'entries' in v ? params(v as Parameters) : v;
  // a SipUri's parameter lists are accessors (made on first read), not own properties
  if (u instanceof SipUri) {
    o.params = params(u.params);
    o.headers = params(u.headers);
  }
  return o;
}

function address(a: NameAddress): unknown {
  return { keys: Object.keys(a), displayName: a.displayName, uri: uri(a.uri), params: params(a.params), wildcard: a.wildcard, tag: a.tag, text: a.toString() };
}

function via(v: Via): unknown {
  return { keys: Object.keys(v), p: v.protocol, ver: v.version, t: v.transport, host: v.host, port: v.port, params: params(v.params), text: v.toString(), branch: v.branch, rport: v.rport, received: v.received };
}

function attempt(read: () => unknown): unknown {
  try {
    return read() ?? '<undefined>';
  } catch (e) {
    return `<throws ${(e as Error).constructor.name}: ${(e as Error).message}>`;
  }
}

/** Everything readable from `m`, read in an order that depends on `order` (laziness must not show). */
function describeMessage(m: SipMessageValue, order: number): unknown {
  const reads: Record<string, () => unknown> = {
    start: () => m.startLine(),
    uriText: () => (m.isRequest ? m.uriText : m.reason),
    uri: () => (m.isRequest ? uri(m.uri) : m.status),
    headers: () => m.headers(),
    names: () => m.headerNames(),
    body: () => m.body.toString('latin1'),
    via: () => m.via.map(via),
    from: () => address(m.from),
    to: () => address(m.to),
    cseq: () => m.cseq,
    callId: () => m.callId,
    maxForwards: () => m.maxForwards,
    contact: () => m.contact.map(address),
    route: () => m.route.map(address),
    recordRoute: () => m.recordRoute.map(address),
    raw: () => [m.get('via'), m.getAll('v'), m.count('Via'), m.has('f'), m.get('subject'), m.contentType],
    validate: () => validateHeaders(m),
    bytes: () => m.toBuffer().toString('latin1'),
    clone: () => m.clone().toBuffer().toString('latin1'),
  };
  const keys = Object.keys(reads);
  const shift = order % keys.length;
  const ordered = order % 2 === 1 ? keys.reverse() : keys.slice(shift).concat(keys.slice(0, shift));
  const out: Record<string, unknown> = {};
  for (const k of ordered) out[k] = attempt(reads[k] as () => unknown);
  const copy = m.clone();
  out.edited = [
    attempt(() => copy.set('Max-Forwards', '68').toBuffer().toString('latin1')),
    attempt(() => [copy.removeFirst('via'), copy.via.map(via)]),
    attempt(() => {
      if (copy.isRequest && copy.uri.isSip) copy.uri.host = 'x.example';
      return copy.startLine();
    }),
  ];
  return out;
}

function describeResult(r: ParseResult, order: number): unknown {
  if (r.ok === 'partial') return r;
  return { ...r, message: r.message === undefined ? undefined : describeMessage(r.message, order) };
}

let compared = 0;
function expectSame(data: Buffer, options?: ParseOptions): void {
  const order = compared++;
  const fast = describeResult(parseMessage(Buffer.from(data), options), order);
  const full = describeResult(parseMessageFull(Buffer.from(data), options), order);
  expect(fast, JSON.stringify(data.toString('latin1'))).toEqual(full);
}

// ---- generated messages: a seeded generator, mostly in the common forms, with edge cases

let seed = 1;
/** mulberry32: a small seeded generator, so that every run checks the same messages. */
function rnd(n: number): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
}
const any = <T,>(list: readonly T[]): T => list[rnd(list.length)] as T;
const TOKEN = "abcXYZ019-.!%*_+`'~";
function word(chars: string, n = 1 + rnd(8)): string {
  let out = '';
  for (let i = 0; i < n; i++) out += chars[rnd(chars.length)];
  return out;
}

/** One of `usual`, or one time in 40 one of `odd` (forms the common path leaves, and errors). */
const pick = (usual: readonly string[], odd: readonly string[]): string => (rnd(40) > 0 || odd.length === 0 ? any(usual) : any(odd));

const host = () => pick(['example.com', 'a.b', '192.0.2.1', 'h-1.x_y', 'EXAMPLE.COM', 'h', '_x.Y'], ['[2001:db8::1]', '.bad', '-x', '', 'a b']);
const port = () => pick(['', '', ':5060', ':0', ':65535', ':5061'], [':65536', ':123456', ':', ':05060', ':5x']);
const user = () => pick(['', 'alice@', '+15551234@', 'a%40b@', "a-_.!~*'()&=+$,/b@", 'B.o_b@'], ['u:p@', '@', 'a;b@', 'a?b@', 'a b@']);
const uriParam = () => pick(['transport=udp', 'lr', 'user=phone', 'maddr=1.2.3.4', 'Transport=TCP', 'x=', 'ttl=1', word(TOKEN), 'lr;lr', 'x=a:[b]/c'], ['x=a=b', '', 'x=<', 'x=a@b']);
const uriParams = () => Array.from({ length: rnd(4) }, () => ';' + uriParam()).join('');
const sipUri = () => pick(['sip:', 'sip:', 'sips:'], ['SIP:', 'tel:', 'http:', 'sip']) + user() + host() + port() + uriParams() + pick([''], ['?subject=x', '?']);
const genericParam = (extra: string) => pick(['tag=' + word(TOKEN), extra, 'Tag=1', 'x="q v"', 'x=a:b', word(TOKEN), 'lr', 'rport', 'expires=60'], ['x="a\\"b"', 'x=', 'x=a,b', 'received=[2001:db8::9]', 'x=<']);
const genericParams = (extra: string) => Array.from({ length: rnd(4) }, () => pick([';'], [' ;', '; ', ';;']) + genericParam(extra)).join('');
const nameAddr = () => {
  if (rnd(4) === 0) return sipUri() + genericParams('expires=1');
  return pick(['', '"Alice Liddell" ', '"" ', 'Bob ', 'Bob  Smith ', '"x"', "A-_.!%*+`'~ "], ['"a\\"b" ', '"open ', 'B@d ', ' ']) + '<' + sipUri() + '>' + genericParams('expires=1');
};
const viaValue = () =>
  pick(['SIP/2.0/UDP ', 'SIP/2.0/TCP ', 'SIP/2.0/TLS ', 'SIP/2.0/WS ', 'SIP/2.0/udp ', 'SIP/2.0/SCTP ', 'SIP/2.0/X-Y '], ['SIP / 2.0 / UDP ', 'SIP/2.0/UDP  ', 'SIP/3.0/UDP ', 'SIP/2.0/UDP']) +
  host() + port() + genericParams('branch=z9hG4bK' + word(TOKEN)) + pick([''], [', SIP/2.0/UDP b;branch=z9hG4bK2', ' ', ',']);

function generate(): Buffer {
  const method = pick(['INVITE', 'OPTIONS', 'REGISTER', 'BYE', 'ACK', 'FOO', 'invite', 'X.Y-Z'], ['IN VITE', '']);
  const response = rnd(3) === 0;
  const lines = [response ? 'SIP/2.0 ' + pick(['200 OK', '180 Ringing', '100', '486 Busy Here', '699 x', '200 a  b'], ['700 x', '200\tOK', '20 OK']) : `${method} ${sipUri()} SIP/2.0` + pick([''], [' ', '\t', 'x'])];
  const headers: string[] = [];
  for (let n = 1 + rnd(3); n > 0; n--) headers.push(pick(['Via', 'v', 'VIA', 'via'], ['Via ']) + pick([': ', ':', ' : ', ':\t', ':  '], []) + viaValue());
  headers.push(pick(['From', 'f', 'FROM'], []) + ': ' + nameAddr());
  headers.push(pick(['To', 't'], []) + ': ' + nameAddr());
  headers.push(pick(['Call-ID', 'i', 'Call-Id', 'call-id'], []) + ': ' + pick([word(TOKEN) + '@' + host(), 'x'], ['']));
  headers.push(pick(['CSeq', 'Cseq'], []) + ': ' + pick([String(rnd(100000)), '4294967295', '01', '0'], ['4294967296', '12345678901']) + pick([' ', '  '], ['\t', '']) + pick([response ? 'INVITE' : method], ['BYE', 'inv ite']));
  if (rnd(2)) headers.push('Max-Forwards: ' + pick(['70', '0', '255', '0069'], ['256', 'x', '', '1 ']));
  if (rnd(2)) headers.push(pick(['Contact', 'm'], []) + ': ' + pick(['*', nameAddr(), nameAddr() + ', ' + nameAddr()], ['', ',']));
  if (rnd(3) === 0) headers.push('Expires: ' + pick(['60', '0'], ['x', '4294967296']));
  if (rnd(3) === 0) headers.push(pick(['Route', 'Record-Route', 'X-Custom', 'Subject', 's', 'Allow', 'k'], []) + ': ' + pick([nameAddr(), 'v', 'a b', ''], ['  x  ', 'a\x0b', 'é']));
  if (rnd(12) === 0) headers.push(any(['From', 'To', 'Call-ID', 'CSeq', 'Content-Type', 'Max-Forwards', 'Content-Length']) + ': x');
  for (let i = headers.length - 1; i > 0; i--) {
    if (rnd(3) > 0) continue;
    const j = rnd(i + 1);
    [headers[i], headers[j]] = [headers[j] as string, headers[i] as string];
  }
  const body = any(['', '', 'v=0\r\n', 'x'.repeat(rnd(40)), '\r\n\r\n']);
  const length = pick([String(body.length), String(body.length), '0' + body.length, 'none'], [String(body.length + 1), String(Math.max(0, body.length - 1)), 'x', '']);
  if (length !== 'none') headers.push(pick(['Content-Length', 'l', 'content-length'], []) + ': ' + length);
  return Buffer.from(lines.concat(headers).join('\r\n') + '\r\n\r\n' + body, 'latin1');
}

function mutate(data: Buffer): Buffer {
  let s = data.toString('latin1');
  for (let n = 1 + rnd(2); n > 0; n--) {
    const p = rnd(s.length);
    switch (rnd(6)) {
      case 0:
        s = s.slice(0, p) + any([' ', '\t', '\r', '\n', ':', ';', ',', '"', '<', '>', '@', '\\', '\x00', '\x7f', 'é']) + s.slice(p + 1);
        break;
      case 1:
        s = s.slice(0, p) + any([' ', '\r\n', '\r\n ', '\n', ';', '=', '"', 'x', '\u00a0']) + s.slice(p);
        break;
      case 2:
        s = s.slice(0, p) + s.slice(p + 1 + rnd(3));
        break;
      case 3:
        s = s.slice(0, p) + s.slice(p).replace(/[a-z]/, (c) => c.toUpperCase());
        break;
      case 4: {
        const lines = s.split('\r\n');
        const i = 1 + rnd(Math.max(1, lines.length - 3));
        lines.splice(i, 0, lines[i] ?? '');
        s = lines.join('\r\n');
        break;
      }
      default:
        s = '\r\n' + s;
    }
  }
  return Buffer.from(s, rnd(5) === 0 ? 'utf8' : 'latin1');
}

describe('the common path and the full path agree', () => {
  it('on the torture messages and hand-written ones, datagram and stream, default and small limits', () => {
    const corpus = tortureCases.map((c) => tortureBytes(c.file)).concat([INVITE, RESPONSE, LONG].map((t) => Buffer.from(t, 'latin1')));
    for (const data of corpus) {
      for (const options of [undefined, { stream: true }, { limits: { maxMessageSize: 500 } }, { limits: { maxHeaders: 4, maxVia: 1, maxHeaderLineLength: 40 } }]) {
        expectSame(data, options);
      }
    }
  });

  // about 2 s on an idle machine; the limit leaves room for a loaded one
  it('on 1,500 generated messages and as many mutations of them', { timeout: 30_000 }, () => {
    seed = 20240601;
    let taken = 0;
    for (let i = 0; i < 1500; i++) {
      const data = generate();
      if (isAscii(data) && common(data) !== undefined) taken++;
      expectSame(data, rnd(6) === 0 ? any([{ stream: true }, { limits: { maxVia: 2 } }]) : undefined);
      expectSame(mutate(data));
    }
    // enough of them in the common forms for the comparison to mean something
    expect(taken).toBeGreaterThan(250);
  });
});

// ---- the element parsers against the full ones

/** `value` as a header value on a line of its own, as the common path reads it. */
function onLine(value: string): { b: Buffer; s: string } {
  const s = value + '\r\nNext: x\r\n';
  return { b: Buffer.from(s, 'latin1'), s };
}

describe('the common forms of Via, From/To, CSeq and SIP URIs', () => {
  const VIAS = [
    'SIP/2.0/UDP a.example',
    'SIP/2.0/UDP a.example:5060;branch=z9hG4bK1;rport;received=192.0.2.1',
    'SIP/2.0/TLS h_1.x-y:65535;Branch=1;BRANCH=2;branch=3',
    'SIP/2.0/udp a;x=a:b;y="q r"',
    'SIP/2.0/WSS a;lr;tag;maddr=1;transport=x;user=u;expires=3;branchx=1;rportx',
    'SIP/2.0/UDP a:65536',
    'SIP/2.0/UDP a:',
    'SIP/2.0/UDP a;',
    'SIP/2.0/UDP a;x=',
    'SIP/2.0/UDP a;x="a\\"b"',
    'SIP/2.0/UDP [2001:db8::1]',
    'SIP/2.0/UDP  a',
    'SIP/2.0/UDP a ;x',
    'SIP/2.0/UDP a, SIP/2.0/UDP b',
  ];
  const ADDRESSES = [
    '<sip:a@b>',
    '"Alice Liddell" <sip:alice@atlanta.example.com>;tag=9fxced76sl',
    'Bob <sip:bob@biloxi.example.com>',
    'Bob  Smith\t<sips:+1555@b.example;user=phone;lr>;tag=1;x',
    '"" <sip:b>',
    'sip:a@b;tag=1',
    'sip:a@b;x="<"',
    'sip:a,b@c',
    'sip:a@b ;tag=1',
    '"a\\"b" <sip:b>',
    '"open <sip:b>',
    '<sip:a@b',
    '<sip:a@b>junk',
    '<tel:+1555>',
    '<SIP:a@b>',
    '<sip:a:p@b>',
    '<sip:a@b?subject=x>',
    "<sip:a-_.!~*'()&=+$,/b@h:5060;x=y;x=z>",
    '<sip:a;b@c>',
    '<sip:h;x=a@b>',
    '<sip:.h>',
    '<sip:h:65536>',
  ];
  const CSEQS = ['1 INVITE', '4294967295 BYE', '4294967296 BYE', '01 ACK', '12345678901 ACK', '1  FOO', '1\tFOO', '1 inv ite', 'x INVITE', '1'];
  const URIS = ['sip:a@b', 'sips:b:5061;transport=tls', 'sip:+1555@b;user=phone', 'sip:b;lr;lr', 'sip:b;x=;y', 'sip:b;x=a=b', 'sip:a%40b@c', 'sip:@b', 'sip:b:', 'sip:b?x=y', 'sip:[::1]', 'sip:b;', 'sip:b;=x'];

  it('fastVia gives what parseVia gives, or leaves it', () => {
    expect(VIAS.slice(0, 5).map((v) => fastVia(onLine(v).b, onLine(v).s, 0) !== null && parsedEnd === v.length)).toEqual([true, true, true, true, true]);
    for (const v of VIAS) {
      const { b, s } = onLine(v);
      const fast = fastVia(b, s, 0);
      if (fast !== null && parsedEnd === v.length) expect(via(fast), v).toEqual(via(parseVia(v) as Via));
    }
  });

  it('fastNameAddress gives what parseNameAddress gives, or leaves it', () => {
    expect(ADDRESSES.slice(0, 6).map((a) => fastNameAddress(onLine(a).b, onLine(a).s, 0) !== null && parsedEnd === a.length)).toEqual([true, true, true, true, true, true]);
    for (const a of ADDRESSES) {
      const { b, s } = onLine(a);
      const fast = fastNameAddress(b, s, 0);
      if (fast !== null && parsedEnd === a.length) expect(address(fast), a).toEqual(address(parseNameAddress(a) as NameAddress));
    }
  });

  it('fastCSeq gives what parseCSeq gives, or leaves it', () => {
    expect(CSEQS.slice(0, 2).map((c) => fastCSeq(onLine(c).b, onLine(c).s, 0) !== null && parsedEnd === c.length)).toEqual([true, true]);
    for (const c of CSEQS) {
      const { b, s } = onLine(c);
      const fast = fastCSeq(b, s, 0);
      if (fast !== null && parsedEnd === c.length) expect(fast, c).toEqual(parseCSeq(c));
    }
  });

  it('fastSipUri gives what parseUri gives, or leaves it; VALID only for what parseUri accepts', () => {
    const whole = (u: string) => fastSipUri(Buffer.from(u, 'latin1'), u, 0, u.length) !== null && parsedUriEnd === u.length;
    expect(URIS.slice(0, 5).map(whole)).toEqual([true, true, true, true, true]);
    for (const u of URIS.concat(ADDRESSES.map((a) => a.slice(a.indexOf('<') + 1, a.indexOf('>'))))) {
      const b = Buffer.from(u, 'latin1');
      const fast = fastSipUri(b, u, 0, u.length);
      if (fast !== null && parsedUriEnd === u.length) expect(uri(fast), u).toEqual(uri(parseUri(u) as Uri));
      if (fastSipUri(b, u, 0, u.length, false) === VALID && parsedUriEnd === u.length) expect(parseUri(u), u).toBeDefined();
    }
  });
});
