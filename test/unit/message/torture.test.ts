import { describe, expect, it } from 'vitest';
import { parseMessage, SipUri, validateHeaders, type ParseResult } from '../../../src/sip/message/index.js';
import { tortureBytes, tortureCases } from '../../support/torture.js';

/** What the parser (plus the core's header validation) decides for one datagram. */
type Outcome = 'accept' | 'drop' | 400 | 413 | 505 | 513;

export function outcomeOf(r: ParseResult): Outcome {
  if (r.ok === true) return validateHeaders(r.message) === undefined ? 'accept' : 400;
  if (r.ok === 'partial') throw new Error('a datagram is never partial');
  return (r.status ?? 'drop') as Outcome;
}

/**
 * The parser-level verdict each manifest `expect` allows. Statuses the server
 * decides above the parser (416, 420, 415, 483, 501 …) require 'accept' here:
 * the end-to-end tests check those answers on the wire.
 */
const allowed: Record<string, Outcome[]> = {
  'rfc4475/badinv01.dat': [400],
  'rfc4475/scalar02.dat': [400],
  'rfc4475/quotbal.dat': [400],
  'rfc4475/ltgtruri.dat': [400],
  'rfc4475/regbadct.dat': [400],
  'rfc4475/baddn.dat': [400],
  'rfc4475/mismatch01.dat': [400],
  'rfc4475/insuf.dat': [400],
  'rfc4475/multi01.dat': [400],
  'rfc4475/clerr.dat': [400],
  'rfc4475/ncl.dat': [400, 'drop'],
  'rfc4475/mcl01.dat': [400, 'drop'],
  'rfc4475/scalarlg.dat': ['drop'],
  'rfc4475/bigcode.dat': ['drop'],
  'rfc4475/lwsruri.dat': [400, 'accept'],
  'rfc4475/lwsstart.dat': [400, 'accept'],
  'rfc4475/trws.dat': [400, 'accept'],
  'rfc4475/escruri.dat': [400, 'accept'],
  'rfc4475/baddate.dat': [400, 'accept'],
  'rfc4475/badaspec.dat': [400, 'accept'],
  'rfc4475/badvers.dat': [505],
  'rfc4475/mismatch02.dat': [400, 'accept'],
  'rfc4475/badbranch.dat': [400, 'accept'],
  'rfc5118/ipv6-bad': [400],
};

describe('RFC 4475 / RFC 5118 torture messages through the parser', () => {
  for (const c of tortureCases) {
    if (c.verdict === 'not-a-test') continue;
    const want = allowed[c.file] ?? ['accept'];
    it(`${c.file} (${c.rfc}): ${c.expect}`, () => {
      const r = parseMessage(tortureBytes(c.file));
      const got = outcomeOf(r);
      expect(want, `got ${String(got)}: ${r.ok === false ? r.reason : ''}`).toContain(got);
      if (r.ok === false && r.status !== undefined) {
        // An answer needs the message's Via/From/To/Call-ID/CSeq lines.
        expect(r.message?.isRequest).toBe(true);
      }
      if (r.ok === true) expect(r.message.isRequest).toBe(c.kind === 'request');
    });
  }
});

function parseOk(file: string) {
  const r = parseMessage(tortureBytes(file));
  if (r.ok !== true) throw new Error(`${file} did not parse: ${r.ok === false ? r.reason : 'partial'}`);
  return r;
}

describe('torture messages: what the accessors return', () => {
  it('wsinv: folding, escaped quotes, LWS around separators, compact names', () => {
    const m = parseOk('rfc4475/wsinv.dat').message;
    expect(m.from.displayName).toBe('J Rosenberg \\"');
    expect(m.from.tag).toBe('98asjd8');
    expect(m.to.tag).toBe('1918181833n');
    expect(m.maxForwards).toBe(68);
    expect(m.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect(m.via.map((v) => v.transport)).toEqual(['UDP', 'TCP', 'UDP']);
    expect(m.via[1]?.branch).toBe('z9hG4bK9ikj8');
    expect(m.via[2]?.host).toBe('192.168.255.111');
    expect(m.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(m.contact).toHaveLength(1);
    expect(m.contact[0]?.displayName).toBe('Quoted string ""');
    expect(m.contact[0]?.params.get('q')).toBe('0.33');
    expect(m.contact[0]?.params.get('newparam')).toBe('newvalue');
    expect(m.route[0]?.uri.toString()).toContain('unknownwith=value');
    expect(m.body.length).toBe(150);
  });

  it('esc01 / escnull: escapes decoded once, never truncated at NUL', () => {
    const m = parseOk('rfc4475/esc01.dat').message;
    if (!m.isRequest) throw new Error('request expected');
    const ruri = m.uri as SipUri;
    expect(ruri.user).toBe('sips:user@example.com');
    expect((m.to.uri as SipUri).user).toBe('user');
    expect((m.from.uri as SipUri).user).toBe('I have spaces');
    const n = parseOk('rfc4475/escnull.dat').message;
    expect(n.contact).toHaveLength(2);
    expect((n.to.uri as SipUri).user).toBe('null-\u0000-null');
  });

  it('esc02: RE%47IST%45R is an unknown method; two Contacts', () => {
    const m = parseOk('rfc4475/esc02.dat').message;
    if (!m.isRequest) throw new Error('request expected');
    expect(m.method).toBe('RE%47IST%45R');
    expect(m.contact).toHaveLength(2);
  });

  it('semiuri: ; inside the user part', () => {
    const m = parseOk('rfc4475/semiuri.dat').message;
    if (!m.isRequest) throw new Error('request expected');
    expect((m.uri as SipUri).user).toBe('user;par=u@example.net');
    expect((m.uri as SipUri).host).toBe('example.com');
  });

  it('longreq: more than 30 Via values', () => {
    const m = parseOk('rfc4475/longreq.dat').message;
    expect(m.via.length).toBeGreaterThan(30);
  });

  it('dblreq: the REGISTER is parsed and the trailing INVITE is not part of it', () => {
    const data = tortureBytes('rfc4475/dblreq.dat');
    const r = parseOk('rfc4475/dblreq.dat');
    if (!r.message.isRequest) throw new Error('request expected');
    expect(r.message.method).toBe('REGISTER');
    expect(r.message.body.length).toBe(0);
    expect(r.consumed).toBeLessThan(data.length);
  });

  it('mpart01: the multipart body is kept byte for byte, NUL and bare LF included', () => {
    const data = tortureBytes('rfc4475/mpart01.dat');
    const m = parseOk('rfc4475/mpart01.dat').message;
    const declared = Number(m.get('Content-Length'));
    expect(m.body.length).toBe(declared);
    expect(m.body.includes(0)).toBe(true);
    expect(Buffer.compare(m.body, data.subarray(data.length - declared))).toBe(0);
  });

  it('unreason: a UTF-8 reason phrase', () => {
    const m = parseOk('rfc4475/unreason.dat').message;
    if (m.isRequest) throw new Error('response expected');
    expect(m.status).toBe(200);
    expect(m.reason).toMatch(/[^\x00-\x7f]/);
  });

  it('cparam01 / cparam02: contact parameter versus URI parameter', () => {
    const c1 = parseOk('rfc4475/cparam01.dat').message.contact[0];
    expect((c1?.uri as SipUri).params.size).toBe(0);
    expect(c1?.params.has('unknownparam')).toBe(true);
    const c2 = parseOk('rfc4475/cparam02.dat').message.contact[0];
    expect((c2?.uri as SipUri).params.has('unknownparam')).toBe(true);
    expect(c2?.params.size).toBe(0);
  });

  it('RFC 5118: IPv6 references, ports and received', () => {
    const amb = parseOk('rfc5118/port-ambiguous').message;
    if (!amb.isRequest) throw new Error('request expected');
    expect((amb.uri as SipUri).host).toBe('[2001:db8::10:5070]');
    expect((amb.uri as SipUri).port).toBeUndefined();
    const unamb = parseOk('rfc5118/port-unambiguous').message;
    if (!unamb.isRequest) throw new Error('request expected');
    expect((unamb.uri as SipUri).hostname).toBe('2001:db8::10');
    expect((unamb.uri as SipUri).port).toBe(5070);
    expect(parseOk('rfc5118/via-received-param-with-delim').message.topVia?.received).toBe('2001:db8::9:255');
    expect(parseOk('rfc5118/via-received-param-no-delim').message.topVia?.received).toBe('2001:db8::9:255');
    const mult = parseOk('rfc5118/mult-ip-in-header').message;
    expect(mult.via.length).toBe(mult.getAll('via').length);
    expect(mult.via.length).toBeGreaterThan(1);
    const mapped = parseOk('rfc5118/ipv4-mapped-ipv6').message;
    expect(mapped.topVia?.hostname).toBe('::ffff:192.0.2.10');
    expect(mapped.topVia?.port).toBe(19823);
    expect(mapped.via[1]?.host).toBe('[::ffff:192.0.2.2]');
  });
});
