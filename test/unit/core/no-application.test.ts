import { describe, expect, it } from 'vitest';
import { answerWithoutApplication, checkRequest, SUPPORTED_OPTION_TAGS } from '../../../src/sip/core/index.js';
import { parseMessage, type SipRequest } from '../../../src/sip/message/index.js';
import { expectedAnswers, tortureBytes, tortureCases } from '../../support/torture.js';

function request(text: string): SipRequest {
  const r = parseMessage(Buffer.from(text));
  if (r.ok !== true || !r.message.isRequest) throw new Error('bad test request');
  return r.message;
}

const OPTIONS =
  'OPTIONS sip:siplet.example.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n' +
  'From: <sip:probe@example.test>;tag=1\r\nTo: <sip:siplet.example.test>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\r\n';

describe('a server without applications, acting as a UAS', () => {
  it('answers OPTIONS with 200, Allow, Accept and Supported and a To tag', () => {
    const res = answerWithoutApplication(request(OPTIONS))!;
    expect(res.status).toBe(200);
    expect(res.getAll('Allow')).toContain('INVITE');
    expect(res.get('Accept')).toBe('application/sdp');
    expect(res.to.tag).toMatch(/^[0-9a-f]{12}$/);
  });

  it('absorbs ACK', () => {
    expect(answerWithoutApplication(request(OPTIONS.replace(/OPTIONS/g, 'ACK')))).toBeUndefined();
  });

  it('answers an in-dialog BYE and an unmatched CANCEL with 481', () => {
    expect(answerWithoutApplication(request(OPTIONS.replace(/OPTIONS/g, 'BYE').replace('<sip:siplet.example.test>', '<sip:siplet.example.test>;tag=9')))!.status).toBe(481);
    expect(answerWithoutApplication(request(OPTIONS.replace(/OPTIONS/g, 'CANCEL')))!.status).toBe(481);
  });

  for (const c of tortureCases) {
    if (c.kind !== 'request' || c.verdict === 'not-a-test') continue;
    const want = expectedAnswers(c);
    if (want === 'none') continue;
    const r = parseMessage(tortureBytes(c.file));
    if (r.ok !== true || !r.message.isRequest) continue; // the parser's refusals are tested with the parser
    it(`${c.file}: ${c.expect}`, () => {
      const res = answerWithoutApplication(r.message as SipRequest);
      expect(want).toContain(res?.status);
      if (res?.status === 420) expect(res.getAll('Unsupported').sort()).toEqual(['nothingSupportsThis', 'nothingSupportsThisEither'].sort());
      if (res?.status === 501) expect(res.has('Allow')).toBe(true);
    });
  }
});

describe('stateless checks at a proxy', () => {
  it('refuses Max-Forwards 0 with 483 and unknown Proxy-Require with 420', () => {
    const zero = request(OPTIONS.replace(/OPTIONS/g, 'INVITE').replace('Max-Forwards: 70', 'Max-Forwards: 0'));
    expect(checkRequest(zero, { supported: SUPPORTED_OPTION_TAGS, forwarding: true })?.status).toBe(483);
    expect(checkRequest(zero, { supported: SUPPORTED_OPTION_TAGS, forwarding: false })).toBeUndefined();
    const pr = request(OPTIONS.replace('Max-Forwards: 70', 'Max-Forwards: 70\r\nProxy-Require: foo'));
    expect(checkRequest(pr, { supported: SUPPORTED_OPTION_TAGS, forwarding: true })?.headers).toEqual([['Unsupported', 'foo']]);
    expect(checkRequest(pr, { supported: SUPPORTED_OPTION_TAGS, forwarding: false })).toBeUndefined();
  });
});
