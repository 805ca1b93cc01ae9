import { afterEach, describe, expect, it } from 'vitest';
import { createResponse, parseMessage, SipRequest, type SipResponse } from '../../../src/sip/message/index.js';
import { MessageTransport, TcpTransport, TransportLayer, UdpTransport, type MessageSource } from '../../../src/sip/transport/index.js';
import { UdpPeer } from '../../support/wire.js';

let layer: TransportLayer | undefined;
afterEach(async () => {
  await layer?.close();
  layer = undefined;
});

async function setup() {
  layer = new TransportLayer();
  layer.add(new UdpTransport({ address: '127.0.0.1', port: 0 }));
  await layer.listen();
  const port = layer.transports[0]!.local.port;
  layer.add(new TcpTransport({ address: '127.0.0.1', port }));
  await layer.transports[1]!.listen();
  const mt = new MessageTransport({ layer, advertisedAddress: { 4: '127.0.0.1' } });
  const requests: { request: SipRequest; source: MessageSource }[] = [];
  const responses: SipResponse[] = [];
  mt.onRequest((request, source) => requests.push({ request, source }));
  mt.onResponse((r) => responses.push(r));
  return { mt, port, requests, responses };
}

const req = (via: string, extra = '') =>
  Buffer.from(
    `OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: ${via}\r\nFrom: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c${Math.random()}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n${extra}Content-Length: 0\r\n\r\n`,
  );

const until = async (f: () => boolean) => {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('MessageTransport (RFC 3261 §18)', () => {
  it('stamps received and fills rport on the top Via (§18.2.1, RFC 3581)', async () => {
    const { port, requests } = await setup();
    const peer = await UdpPeer.open();
    await peer.send(req('SIP/2.0/UDP client.example.com:5099;branch=z9hG4bK1;rport'), port);
    await until(() => requests.length > 0);
    const via = requests[0]!.request.topVia!;
    expect(via.received).toBe('127.0.0.1');
    expect(via.rport).toBe(peer.port);
    await peer.close();
  });

  it('answers a response with rport to the source port, and without rport to received:sent-by port', async () => {
    const { mt, port, requests } = await setup();
    const peer = await UdpPeer.open();
    await peer.send(req('SIP/2.0/UDP 10.9.9.9:5099;branch=z9hG4bK2;rport'), port);
    await until(() => requests.length > 0);
    const { request, source } = requests[0]!;
    await mt.sendResponse(createResponse(request, 200, { toTag: 't' }), source);
    expect(await peer.waitFor((r) => r.length === 1)).toBe(true);

    const other = await UdpPeer.open();
    await peer.send(req(`SIP/2.0/UDP 127.0.0.1:${other.port};branch=z9hG4bK3`), port);
    await until(() => requests.length > 1);
    await mt.sendResponse(createResponse(requests[1]!.request, 200, { toTag: 't' }), requests[1]!.source);
    expect(await other.waitFor((r) => r.length === 1)).toBe(true);
    await peer.close();
    await other.close();
  });

  it('answers malformed requests statelessly and drops malformed responses, counting them', async () => {
    const { mt, port, requests, responses } = await setup();
    const peer = await UdpPeer.open();
    await peer.send(req('SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK4;rport', 'Max-Forwards: 7\r\n'), port);
    expect(await peer.waitFor(() => peer.statuses.length > 0)).toBe(true);
    expect(peer.statuses).toEqual([400]);
    await peer.send(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK5\r\n\r\n'), port);
    await peer.send(Buffer.from('\x00\x01garbage'), port);
    await until(() => Object.values(mt.stats().dropped).reduce((a, b) => a + b, 0) >= 2);
    expect(mt.stats().answeredMalformed).toBe(1);
    expect(mt.stats().dropped['malformed-response']).toBe(1);
    expect(mt.stats().dropped['malformed-request']).toBe(1);
    expect(requests).toHaveLength(0);
    expect(responses).toHaveLength(0);
    await peer.close();
  });

  it('never answers towards a broadcast or multicast address', async () => {
    const { mt, port, requests } = await setup();
    const peer = await UdpPeer.open();
    await peer.send(req('SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK6;received=255.255.255.255'), port);
    await until(() => requests.length > 0);
    const { request, source } = requests[0]!;
    // received was stamped over with the real source, so force the broadcast back as a hostile Via would.
    request.set('Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK6;received=255.255.255.255');
    await expect(mt.sendResponse(createResponse(request, 200), source)).rejects.toThrow(/255\.255\.255\.255/);
    await peer.close();
  });

  it('moves a request above the UDP size limit to TCP (§18.1.1) and sets Via accordingly', async () => {
    const { mt, port } = await setup();
    const parsed = parseMessage(req('SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK7'));
    if (parsed.ok !== true || !parsed.message.isRequest) throw new Error('bad fixture');
    const big = parsed.message;
    big.remove('via');
    big.setContent(Buffer.alloc(2000, 'a'), 'text/plain');
    const dest = mt.prepareRequest(big, { address: '127.0.0.1', port, protocol: 'udp' }, 'z9hG4bKbig');
    expect(dest.protocol).toBe('tcp');
    expect(big.topVia?.transport).toBe('TCP');
    expect(big.topVia?.branch).toBe('z9hG4bKbig');
    expect(mt.stats().switchedToTcp).toBe(1);
    const small = parseMessage(req('SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK8'));
    if (small.ok !== true || !small.message.isRequest) throw new Error('bad fixture');
    small.message.remove('via');
    expect(mt.prepareRequest(small.message, { address: '127.0.0.1', port, protocol: 'udp' }, 'z9hG4bKs').protocol).toBe('udp');
    expect(small.message.topVia?.host).toBe('127.0.0.1');
    expect(small.message.topVia?.port).toBe(port);
  });

  it('switches to TCP exactly when the serialised request plus 100 bytes passes the limit (§18.1.1)', async () => {
    const { mt, port } = await setup();
    // Compact and repeated Content-Length, a non-ASCII display name, a multi-byte body: the size is
    // counted without serialising, so it must match toBuffer() byte for byte.
    const fixtures: [string, (r: SipRequest) => void][] = [
      ['', () => {}],
      ['', (r) => r.add('l', '7')],
      ['Subject: caf\u00e9 \u2603\r\nContact: "J\u00fcrgen" <sip:j@127.0.0.1>\r\n', () => {}],
    ];
    for (const [extra, change] of fixtures) {
      for (const over of [0, 1]) {
        const parsed = parseMessage(req('SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK9', extra));
        if (parsed.ok !== true || !parsed.message.isRequest) throw new Error('bad fixture');
        const request = parsed.message;
        change(request);
        request.remove('via');
        // Grow the body until the request is 1200 + over bytes (Content-Length's digits move too).
        let body = 0;
        for (let i = 0; i < 3; i++) {
          request.setContent(Buffer.alloc(body, 'a'), 'text/plain');
          body += 1300 - 100 + over - request.toBuffer().length;
        }
        request.setContent(Buffer.alloc(body, 'a'), 'text/plain');
        expect(request.toBuffer().length + 100 - 1300).toBe(over);
        const dest = mt.prepareRequest(request, { address: '127.0.0.1', port, protocol: 'udp' }, `z9hG4bKedge${over}`);
        expect(dest.protocol).toBe(over === 1 ? 'tcp' : 'udp');
      }
    }
  });
});
