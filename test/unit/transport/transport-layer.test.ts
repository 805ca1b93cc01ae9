import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  TcpTransport,
  TransportError,
  TransportLayer,
  UdpTransport,
  type InboundPacket,
  type Transport,
  type TransportLogger,
} from '../../../src/sip/transport/index.js';
import { FakeDns } from './fake-dns.js';
import { Resolver } from '../../../src/sip/transport/index.js';
import { Recorder, sipRequest, waitFor } from './helpers.js';

describe('TransportLayer', () => {
  const layers: TransportLayer[] = [];
  const extra: Transport[] = [];
  afterEach(async () => {
    await Promise.all(layers.splice(0).map((l) => l.close()));
    await Promise.all(extra.splice(0).map((t) => t.close()));
  });
  const layerOf = async (...transports: Transport[]): Promise<{ layer: TransportLayer; packets: InboundPacket[] }> => {
    const layer = new TransportLayer({ transports });
    layers.push(layer);
    const packets: InboundPacket[] = [];
    layer.onPacket((p) => packets.push(p));
    await layer.listen();
    return { layer, packets };
  };
  const peer = async <T extends Transport>(t: T): Promise<{ t: T; r: Recorder }> => {
    extra.push(t);
    const r = new Recorder(t);
    await t.listen();
    return { t, r };
  };
  const closedPort = async (): Promise<number> => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    return port;
  };

  it('funnels packets from every transport, both families, into one handler', async () => {
    const udp4 = new UdpTransport({ address: '127.0.0.1', port: 0 });
    const tcp4 = new TcpTransport({ address: '127.0.0.1', port: 0 });
    const udp6 = new UdpTransport({ address: '::1', port: 0 });
    const { packets, layer } = await layerOf(udp4, tcp4, udp6);
    const a4 = await peer(new UdpTransport({ address: '127.0.0.1', port: 0 }));
    const b4 = await peer(new TcpTransport({ address: '127.0.0.1', port: 0 }));
    const a6 = await peer(new UdpTransport({ address: '::1', port: 0 }));
    await a4.t.send({ address: '127.0.0.1', port: udp4.local.port, protocol: 'udp' }, sipRequest({ callId: 'udp4' }));
    await b4.t.send({ address: '127.0.0.1', port: tcp4.local.port, protocol: 'tcp' }, sipRequest({ callId: 'tcp4' }));
    await a6.t.send({ address: '::1', port: udp6.local.port, protocol: 'udp' }, sipRequest({ callId: 'udp6' }));
    await waitFor(() => packets.length === 3);
    const seen = packets.map((p) => `${p.protocol}${p.remote.family}`).sort();
    expect(seen).toEqual(['tcp4', 'udp4', 'udp6']);
    const stats = layer.stats();
    expect(stats.packetsIn).toBe(3);
    expect(stats.bytesIn).toBe(packets.reduce((n, p) => n + p.data.length, 0));
    expect(stats.connections).toEqual({ opened: 1, closed: 0, open: 1 });
    expect(stats.transports.map((t) => `${t.protocol}:${t.local.family}`)).toEqual(['udp:4', 'tcp:4', 'udp:6']);
    expect(JSON.parse(JSON.stringify(stats))).toEqual(stats);
  });

  it('sends through the transport of the right protocol and family', async () => {
    const udp4 = new UdpTransport({ address: '127.0.0.1', port: 0 });
    const udp6 = new UdpTransport({ address: '::1', port: 0 });
    const { layer } = await layerOf(udp4, udp6);
    const target6 = await peer(new UdpTransport({ address: '::1', port: 0 }));
    await layer.send({ address: '::1', port: target6.t.local.port, protocol: 'udp' }, sipRequest());
    const packet = await target6.r.packet();
    expect(packet.remote).toEqual({ address: '::1', port: udp6.local.port, family: 6 });
    expect(layer.stats()).toMatchObject({ packetsOut: 1, bytesOut: packet.data.length });
  });

  it('sends from the transport bound to the requested local endpoint (RFC 3581)', async () => {
    const first = new UdpTransport({ address: '127.0.0.1', port: 0 });
    const second = new UdpTransport({ address: '127.0.0.1', port: 0 });
    const { layer } = await layerOf(first, second);
    const target = await peer(new UdpTransport({ address: '127.0.0.1', port: 0 }));
    const dest = { address: '127.0.0.1', port: target.t.local.port, protocol: 'udp' as const };
    expect(layer.select(dest)).toBe(first);
    await layer.send({ ...dest, local: second.local }, sipRequest());
    expect((await target.r.packet()).remote.port).toBe(second.local.port);
  });

  it('picks the TCP transport that holds the connectionId', async () => {
    const first = new TcpTransport({ address: '127.0.0.1', port: 0 });
    const second = new TcpTransport({ address: '127.0.0.1', port: 0 });
    const { layer, packets } = await layerOf(first, second);
    const client = await peer(new TcpTransport({ address: '127.0.0.1', port: 0 }));
    await client.t.send({ address: '127.0.0.1', port: second.local.port, protocol: 'tcp' }, sipRequest());
    const request = await waitFor(() => packets[0]);
    const reply = { address: request.remote.address, port: request.remote.port, protocol: 'tcp' as const, connectionId: request.connectionId };
    expect(layer.select(reply)).toBe(second);
    await layer.send(reply, sipRequest({ callId: 'reply' }));
    expect((await client.r.packet()).data.toString()).toContain('reply');
  });

  it('rejects with unreachable when no transport fits, and counts it', async () => {
    const { layer } = await layerOf(new UdpTransport({ address: '127.0.0.1', port: 0 }));
    await expect(layer.send({ address: '::1', port: 5060, protocol: 'udp' }, sipRequest())).rejects.toMatchObject({ code: 'unreachable' });
    await expect(layer.send({ address: '127.0.0.1', port: 5060, protocol: 'tcp' }, sipRequest())).rejects.toMatchObject({ code: 'unreachable' });
    await expect(layer.send({ address: 'example.com', port: 5060, protocol: 'udp' }, sipRequest())).rejects.toBeInstanceOf(TransportError);
    expect(layer.stats()).toMatchObject({ sendErrors: 3, dropped: { unreachable: 3 } });
  });

  it('fails over to the next destination when a TCP connect is refused (RFC 3263 §4.3)', async () => {
    const { layer } = await layerOf(new TcpTransport({ address: '127.0.0.1', port: 0 }));
    const target = await peer(new TcpTransport({ address: '127.0.0.1', port: 0 }));
    const refused = { address: '127.0.0.1', port: await closedPort(), protocol: 'tcp' as const };
    const good = { address: '127.0.0.1', port: target.t.local.port, protocol: 'tcp' as const };
    const message = sipRequest({ callId: 'failover' });
    await expect(layer.sendWithFailover([refused, good], message)).resolves.toEqual(good);
    expect((await target.r.packet()).data.equals(message)).toBe(true);
    expect(layer.stats()).toMatchObject({ failovers: 1, sendErrors: 1, packetsOut: 1 });
  });

  it('rejects with all-failed, carrying the last failure, when every destination fails', async () => {
    const { layer } = await layerOf(new TcpTransport({ address: '127.0.0.1', port: 0 }));
    const port = await closedPort();
    const err = await layer
      .sendWithFailover([{ address: '127.0.0.1', port, protocol: 'tcp' }, { address: '::1', port, protocol: 'tcp' }], sipRequest())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'all-failed', cause: { code: 'unreachable' } });
    await expect(layer.sendWithFailover([], sipRequest())).rejects.toMatchObject({ code: 'all-failed' });
  });

  it('counts drops by reason: no handler, a throwing handler, transport issues', async () => {
    const udp = new UdpTransport({ address: '127.0.0.1', port: 0, maxMessageSize: 50 });
    const layer = new TransportLayer({ transports: [udp] });
    layers.push(layer);
    const issues: string[] = [];
    layer.onIssue((i) => issues.push(i.code));
    await layer.listen();
    const socket = createSocket('udp4');
    const send = (data: Buffer): Promise<void> => new Promise((r) => socket.send(data, udp.local.port, '127.0.0.1', () => r()));
    await send(Buffer.alloc(10));
    await waitFor(() => layer.stats().dropped['no-handler'] === 1);
    layer.onPacket(() => {
      throw new Error('bug above');
    });
    await send(Buffer.alloc(10));
    await waitFor(() => layer.stats().dropped['handler-error'] === 1);
    await send(Buffer.alloc(100));
    await waitFor(() => layer.stats().dropped['too-large'] === 1);
    socket.close();
    expect(issues).toEqual(['too-large']);
    expect(layer.stats().packetsIn).toBe(2);
  });

  it('forwards connection events', async () => {
    const tcp = new TcpTransport({ address: '127.0.0.1', port: 0 });
    const layer = new TransportLayer({ transports: [tcp] });
    layers.push(layer);
    const events: string[] = [];
    layer.onConnection((e) => events.push(`${e.type}:${e.direction}`));
    await layer.listen();
    const target = await peer(new TcpTransport({ address: '127.0.0.1', port: 0 }));
    await layer.send({ address: '127.0.0.1', port: target.t.local.port, protocol: 'tcp' }, sipRequest());
    await target.t.close();
    await waitFor(() => events.length === 2);
    expect(events).toEqual(['open:outbound', 'close:outbound']);
  });

  it('closes what it opened when one transport fails to listen', async () => {
    const busy = await peer(new UdpTransport({ address: '127.0.0.1', port: 0 }));
    const ok = new TcpTransport({ address: '127.0.0.1', port: 0 });
    const layer = new TransportLayer({ transports: [ok, new UdpTransport({ address: '127.0.0.1', port: busy.t.local.port })] });
    await expect(layer.listen()).rejects.toMatchObject({ code: 'listen-failed' });
    await expect(ok.send({ address: '127.0.0.1', port: 1, protocol: 'tcp' }, sipRequest())).rejects.toMatchObject({ code: 'closed' });
  });

  it('resolves numeric targets with the protocols of its transports, and uses an injected resolver', async () => {
    const { layer } = await layerOf(new UdpTransport({ address: '127.0.0.1', port: 0 }), new TcpTransport({ address: '127.0.0.1', port: 0 }));
    expect(await layer.resolve({ host: '127.0.0.1', port: 5080, transport: 'tcp' })).toEqual([{ address: '127.0.0.1', port: 5080, protocol: 'tcp' }]);
    expect(await layer.resolve({ host: '127.0.0.1', transport: 'tls' })).toEqual([]);
    const dns = new FakeDns({ a: { 'peer.test': ['127.0.0.1'] } });
    const withFake = new TransportLayer({ resolver: new Resolver({ dns, families: [4] }) });
    expect(await withFake.resolve({ host: 'peer.test' })).toEqual([{ address: '127.0.0.1', port: 5060, protocol: 'udp' }]);
  });

  it('accepts a pino logger as its logger', () => {
    const logger: TransportLogger = pino({ level: 'silent' });
    expect(() => new TransportLayer({ logger })).not.toThrow();
  });
});
