import { describe, expect, it } from 'vitest';
import { StreamFramer, type FramerOutput } from '../../../src/sip/transport/index.js';
import { sipRequest } from './helpers.js';

const first = sipRequest({ callId: 'first', body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n\r\ns=-\r\n' });
const second = sipRequest({ callId: 'second' });
const both = Buffer.concat([first, second]);

/** Feeds chunks and merges what came out. */
function feed(framer: StreamFramer, ...chunks: (Buffer | string)[]): FramerOutput {
  const total: FramerOutput = { messages: [], pings: 0, pongs: 0 };
  for (const chunk of chunks) {
    const out = framer.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    total.messages.push(...out.messages);
    total.pings += out.pings;
    total.pongs += out.pongs;
    if (out.error) total.error = out.error;
  }
  return total;
}

const texts = (out: FramerOutput): string[] => out.messages.map((m) => m.toString('latin1'));

describe('StreamFramer: Content-Length framing (RFC 3261 §18.3)', () => {
  it('frames one message with a body containing a blank line', () => {
    const out = feed(new StreamFramer(), first);
    expect(texts(out)).toEqual([first.toString('latin1')]);
    expect(out.error).toBeUndefined();
  });

  it('frames two messages split at every byte offset', () => {
    for (let cut = 0; cut <= both.length; cut++) {
      const out = feed(new StreamFramer(), both.subarray(0, cut), both.subarray(cut));
      expect(texts(out), `cut at ${cut}`).toEqual([first.toString('latin1'), second.toString('latin1')]);
    }
  });

  it('frames two messages fed one byte at a time', () => {
    const framer = new StreamFramer();
    const out = feed(framer, ...Array.from(both, (b) => Buffer.from([b])));
    expect(texts(out)).toEqual([first.toString('latin1'), second.toString('latin1')]);
    expect(framer.buffered).toBe(0);
  });

  it('frames several messages in one chunk and keeps the partial rest', () => {
    const framer = new StreamFramer();
    const out = feed(framer, Buffer.concat([first, second, first, second.subarray(0, 10)]));
    expect(out.messages).toHaveLength(3);
    expect(framer.buffered).toBe(10);
    expect(feed(framer, second.subarray(10)).messages).toHaveLength(1);
  });

  it('reads compact l, any case, spaces before the colon, leading zeros, and equal duplicates', () => {
    for (const header of ['l: 4', 'L:4', 'CONTENT-LENGTH: 4', 'content-length   :   0004', 'Content-Length:\t4']) {
      const out = feed(new StreamFramer(), sipRequest({ lengthHeader: header, body: 'abcd' }));
      expect(out.messages, header).toHaveLength(1);
      expect(out.messages[0]!.subarray(-4).toString()).toBe('abcd');
    }
    const dup = sipRequest({ extraHeaders: ['l: 4'], body: 'abcd' });
    expect(feed(new StreamFramer(), dup).messages).toHaveLength(1);
  });

  it('reads a folded Content-Length value', () => {
    const out = feed(new StreamFramer(), sipRequest({ lengthHeader: 'Content-Length:\r\n 4', body: 'abcd' }));
    expect(out.messages).toHaveLength(1);
  });

  it('ignores headers that only look like Content-Length, and text in the body', () => {
    const body = 'Content-Length: 999\r\n\r\n';
    const out = feed(new StreamFramer(), sipRequest({ extraHeaders: ['X-Content-Length: 999', 'Lx: 1'], body }));
    expect(out.messages).toHaveLength(1);
    expect(out.messages[0]!.subarray(-body.length).toString()).toBe(body);
  });

  it('frames Content-Length 0', () => {
    const out = feed(new StreamFramer(), sipRequest(), sipRequest());
    expect(out.messages).toHaveLength(2);
  });
});

describe('StreamFramer: keep-alives (RFC 5626 §3.5.1)', () => {
  it('reports a double-CRLF ping and a single-CRLF pong', () => {
    expect(feed(new StreamFramer(), '\r\n\r\n')).toMatchObject({ messages: [], pings: 1, pongs: 0 });
    expect(feed(new StreamFramer(), '\r\n')).toMatchObject({ messages: [], pings: 0, pongs: 1 });
    expect(feed(new StreamFramer(), '\r\n\r\n\r\n\r\n')).toMatchObject({ pings: 2, pongs: 0 });
  });

  it('counts a ping split over two chunks as a ping', () => {
    expect(feed(new StreamFramer(), '\r\n', '\r\n').pings).toBe(1);
    expect(feed(new StreamFramer(), '\r', '\n\r', '\n').pings).toBe(1);
  });

  it('ignores CRLFs before and between messages (RFC 3261 §7.5)', () => {
    const framer = new StreamFramer();
    const out = feed(framer, Buffer.concat([Buffer.from('\r\n'), first, Buffer.from('\r\n\r\n'), second]));
    expect(texts(out)).toEqual([first.toString('latin1'), second.toString('latin1')]);
    expect(out.pings).toBe(1);
    expect(framer.buffered).toBe(0);
  });

  it('does not treat CRLFs inside a body as keep-alives', () => {
    const body = '\r\n\r\n\r\n\r\n';
    const out = feed(new StreamFramer(), sipRequest({ body }), second);
    expect(out.messages).toHaveLength(2);
    expect(out.pings).toBe(0);
  });
});

describe('StreamFramer: errors are values and final', () => {
  const cases: [string, string, string][] = [
    ['missing', 'X-Nothing: 1', 'missing-content-length'],
    ['non-numeric', 'Content-Length: abc', 'bad-content-length'],
    ['negative', 'Content-Length: -1', 'bad-content-length'],
    ['empty', 'Content-Length:', 'bad-content-length'],
    ['a list', 'Content-Length: 4, 4', 'bad-content-length'],
    ['duplicated with different values', 'Content-Length: 4\r\nl: 5', 'bad-content-length'],
  ];
  for (const [name, header, code] of cases) {
    it(`fails on a ${name} Content-Length`, () => {
      const out = feed(new StreamFramer(), sipRequest({ lengthHeader: header, body: 'abcd' }));
      expect(out.messages).toEqual([]);
      expect(out.error?.code).toBe(code);
    });
  }

  it('keeps the messages framed before the error and nothing after it', () => {
    const framer = new StreamFramer();
    const bad = sipRequest({ lengthHeader: 'Content-Length: x' });
    const out = feed(framer, Buffer.concat([first, bad, second]));
    expect(texts(out)).toEqual([first.toString('latin1')]);
    expect(out.error?.code).toBe('bad-content-length');
    const later = framer.push(second);
    expect(later.messages).toEqual([]);
    expect(later.error?.code).toBe('bad-content-length');
    expect(framer.buffered).toBe(0);
  });

  it('fails on a header section above maxHeaderSize, with or without its end', () => {
    expect(feed(new StreamFramer({ maxHeaderSize: 100 }), first).error?.code).toBe('header-too-large');
    const noEnd = Buffer.from(`INVITE sip:a@b SIP/2.0\r\nX: ${'y'.repeat(200)}\r\n`);
    expect(feed(new StreamFramer({ maxHeaderSize: 100 }), noEnd).error?.code).toBe('header-too-large');
  });

  it('fails on a message above maxMessageSize as soon as its Content-Length says so', () => {
    const head = sipRequest({ lengthHeader: 'Content-Length: 100000' });
    const out = feed(new StreamFramer({ maxMessageSize: 65_536 }), head);
    expect(out.error).toMatchObject({ code: 'too-large' });
  });

  it('fails when more than maxBufferedBytes wait for one message', () => {
    const framer = new StreamFramer({ maxBufferedBytes: 200 });
    const partial = sipRequest({ body: 'x'.repeat(300) }).subarray(0, 250);
    expect(feed(framer, partial).error).toMatchObject({ code: 'buffer-overflow', bytes: 250 });
  });

  it('accepts many whole messages in one chunk beyond maxBufferedBytes', () => {
    const framer = new StreamFramer({ maxBufferedBytes: first.length + 1 });
    const out = feed(framer, Buffer.concat([first, first, first, first]));
    expect(out.messages).toHaveLength(4);
    expect(out.error).toBeUndefined();
  });
});
