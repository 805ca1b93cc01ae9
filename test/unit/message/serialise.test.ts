import { describe, expect, it } from 'vitest';
import {
  createResponse,
  InvalidHeaderError,
  NameAddress,
  parseMessage,
  parseUri,
  SipRequest,
  SipUri,
  uriEquals,
  Via,
} from '../../../src/sip/message/index.js';
import { tortureBytes, tortureCases } from '../../support/torture.js';

const INVITE =
  'INVITE sip:bob@example.com SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport\r\n' +
  'v: SIP/2.0/TCP proxy.example.com;branch=z9hG4bK1\r\n' +
  'Max-Forwards: 70\r\n' +
  'To: Bob <sip:bob@example.com>\r\n' +
  'f: "Alice" <sip:alice@example.com>;tag=1928301774\r\n' +
  'Call-ID: a84b4c76e66710@pc33.example.com\r\n' +
  'CSeq: 314159 INVITE\r\n' +
  'X-Unknown:   kept as is\r\n' +
  'Contact: <sip:alice@192.0.2.1>\r\n' +
  'Content-Type: application/sdp\r\n' +
  'Content-Length: 4\r\n' +
  '\r\n' +
  'v=0\n';

function parse(text: string | Buffer) {
  const r = parseMessage(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  if (r.ok !== true) throw new Error(r.ok === false ? r.reason : 'partial');
  return r.message;
}

describe('serialiser', () => {
  it('keeps header order, spelling and unknown headers as received', () => {
    const m = parse(INVITE);
    expect(m.toBuffer().toString('latin1')).toBe(INVITE.replace('X-Unknown:   kept', 'X-Unknown: kept'));
  });

  it('recomputes Content-Length from the body and adds it when absent', () => {
    const m = parse(INVITE);
    m.body = Buffer.from('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n');
    const again = parse(m.toBuffer());
    expect(again.get('content-length')).toBe(String(m.body.length));
    expect(again.body.equals(m.body)).toBe(true);
    m.remove('Content-Length');
    expect(parse(m.toBuffer()).get('l')).toBe(String(m.body.length));
  });

  it('round-trips every valid torture message: what it emits parses back to the same headers and body', () => {
    for (const c of tortureCases) {
      if (c.verdict !== 'valid') continue;
      const first = parseMessage(tortureBytes(c.file));
      if (first.ok !== true) continue;
      const second = parseMessage(first.message.toBuffer());
      expect(second.ok, c.file).toBe(true);
      if (second.ok !== true) continue;
      expect(second.message.headers().filter(([n]) => !/^(l|content-length)$/i.test(n)), c.file).toEqual(
        first.message.headers().filter(([n]) => !/^(l|content-length)$/i.test(n)),
      );
      expect(second.message.body.equals(first.message.body), c.file).toBe(true);
      expect(second.message.startLine()).toBe(first.message.startLine());
    }
  });

  it('refuses to emit a value it could not parse back', () => {
    const m = parse(INVITE);
    expect(() => m.set('Subject', 'a\r\nInjected: yes')).toThrow(InvalidHeaderError);
    expect(() => m.set('Bad Name', 'x')).toThrow(InvalidHeaderError);
  });
});

describe('header access', () => {
  it('is case-insensitive and maps compact forms', () => {
    const m = parse(INVITE);
    expect(m.get('FROM')).toBe('"Alice" <sip:alice@example.com>;tag=1928301774');
    expect(m.get('f')).toBe(m.get('From'));
    expect(m.getAll('Via')).toHaveLength(2);
    expect(m.get('via')).toContain('192.0.2.1');
    expect(m.has('x-unknown')).toBe(true);
  });

  it('splits comma lists only for list headers', () => {
    const m = parse(INVITE.replace('X-Unknown:   kept as is', 'Supported: 100rel, timer\r\nSubject: a, b'));
    expect(m.getAll('k')).toEqual(['100rel', 'timer']);
    expect(m.getAll('Subject')).toEqual(['a, b']);
  });

  it('add first / removeFirst manage the Via stack', () => {
    const m = parse(INVITE);
    const top = new Via({ transport: 'UDP', host: '198.51.100.7', port: 5070 });
    top.params.set('branch', 'z9hG4bKnew');
    m.add('Via', top, { first: true });
    expect(m.topVia?.branch).toBe('z9hG4bKnew');
    expect(m.via).toHaveLength(3);
    expect(m.removeFirst('Via')).toContain('z9hG4bKnew');
    expect(m.topVia?.branch).toBe('z9hG4bK776asdhds');
    const folded = parse(INVITE.replace('Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport', 'Via: SIP/2.0/UDP a.example;branch=z9hG4bKa, SIP/2.0/UDP b.example;branch=z9hG4bKb'));
    folded.removeFirst('via');
    expect(folded.via.map((v) => v.host)).toEqual(['b.example', 'proxy.example.com']);
  });

  it('parses Via rport and received', () => {
    const m = parse(INVITE);
    expect(m.topVia?.rport).toBeNull();
    expect(m.topVia?.port).toBe(5060);
    expect(m.via[1]?.port).toBeUndefined();
  });
});

describe('createResponse (RFC 3261 §8.2.6)', () => {
  it('copies Via, From, To, Call-ID and CSeq and adds the To tag', () => {
    const req = parse(INVITE) as SipRequest;
    const res = createResponse(req, 180, { toTag: 'abc' });
    expect(res.status).toBe(180);
    expect(res.reason).toBe('Ringing');
    expect(res.getAll('via')).toEqual(req.getAll('via'));
    expect(res.to.tag).toBe('abc');
    expect(res.from.tag).toBe('1928301774');
    expect(res.callId).toBe(req.callId);
    expect(res.cseq).toEqual({ seq: 314159, method: 'INVITE' });
    expect(res.has('contact')).toBe(false);
    expect(createResponse(req, 100, { toTag: 'x' }).to.tag).toBeUndefined();
    const wire = parse(res.toBuffer());
    expect(wire.isRequest).toBe(false);
  });
});

describe('URIs and addresses', () => {
  it('parses and prints sip, sips, tel and other URIs', () => {
    const u = parseUri('sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?Subject=hi&Priority=urgent') as SipUri;
    expect(u.scheme).toBe('sips');
    expect(u.user).toBe('alice');
    expect(u.password).toBe('secret');
    expect(u.hostname).toBe('2001:db8::1');
    expect(u.port).toBe(5061);
    expect(u.transport).toBe('tcp');
    expect(u.lr).toBe(true);
    expect(u.headers.get('Subject')).toBe('hi');
    expect(u.toString()).toBe('sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?Subject=hi&Priority=urgent');
    expect(parseUri('tel:+1-201-555-0123;phone-context=example.com')?.toString()).toBe('tel:+1-201-555-0123;phone-context=example.com');
    expect(parseUri('urn:service:sos')?.scheme).toBe('urn');
    expect(parseUri('sip:user@2001:db8::10')).toBeUndefined();
    expect(parseUri('<sip:a@b>')).toBeUndefined();
  });

  it('compares URIs per RFC 3261 §19.1.4', () => {
    const eq = (a: string, b: string) => uriEquals(parseUri(a)!, parseUri(b)!);
    expect(eq('sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp')).toBe(true);
    expect(eq('sip:alice@atlanta.com', 'sip:ALICE@atlanta.com')).toBe(false);
    expect(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060')).toBe(false);
    expect(eq('sip:bob@biloxi.com;transport=udp', 'sip:bob@biloxi.com')).toBe(false);
    expect(eq('sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5')).toBe(true);
  });

  it('prints addresses in name-addr form with escaped display names', () => {
    const a = new NameAddress(new SipUri({ user: 'a b', host: 'example.com' }), { displayName: 'Say "hi"' });
    a.tag = 't1';
    expect(a.toString()).toBe('"Say \\"hi\\"" <sip:a%20b@example.com>;tag=t1');
  });
});

describe('limits', () => {
  it('answers 513 for an oversized datagram and 413 for an oversized Content-Length', () => {
    const big = Buffer.from(INVITE.replace('Content-Length: 4', 'Content-Length: 4') + 'x'.repeat(70000));
    const r1 = parseMessage(big);
    expect(r1.ok === false && r1.status).toBe(513);
    const r2 = parseMessage(Buffer.from(INVITE.replace('Content-Length: 4', 'Content-Length: 900000')));
    expect(r2.ok === false && r2.status).toBe(413);
    expect(r2.ok === false && r2.message?.isRequest).toBe(true);
  });

  it('answers 400 beyond the header count, line length and Via count limits', () => {
    const r1 = parseMessage(Buffer.from(INVITE), { limits: { maxHeaders: 5 } });
    expect(r1.ok === false && r1.status).toBe(400);
    const r2 = parseMessage(Buffer.from(INVITE), { limits: { maxHeaderLineLength: 20 } });
    expect(r2.ok === false && r2.status).toBe(400);
    const r3 = parseMessage(Buffer.from(INVITE), { limits: { maxVia: 1 } });
    expect(r3.ok === false && r3.reason).toMatch(/Via/);
  });

  it('drops a malformed response without an answer', () => {
    const r = parseMessage(Buffer.from('SIP/2.0 2000 OK\r\n\r\n'));
    expect(r.ok === false && r.status).toBeUndefined();
  });

  it('in stream mode waits for the rest of the message', () => {
    const bytes = Buffer.from(INVITE);
    expect(parseMessage(bytes.subarray(0, 100), { stream: true }).ok).toBe('partial');
    expect(parseMessage(bytes.subarray(0, bytes.length - 1), { stream: true }).ok).toBe('partial');
    const r = parseMessage(Buffer.concat([bytes, bytes]), { stream: true });
    expect(r.ok === true && r.consumed).toBe(bytes.length);
  });
});
