import { afterEach, describe, expect, it } from 'vitest';
import { TransportError, type Protocol, type Transport } from '../../../src/sip/transport/index.js';
import { Recorder, delay, sipRequest } from './helpers.js';

export type TransportFactory = (options: { address: string; port: number }) => Transport;

/**
 * The behaviour every Transport must show, on IPv4 and IPv6 loopback. Run it from each
 * implementation's test file: `transportContract('udp', (o) => new UdpTransport(o))`.
 */
export function transportContract(protocol: Protocol, factory: TransportFactory): void {
  describe(`Transport contract: ${protocol}`, () => {
    const open: Transport[] = [];
    const make = (address: string, port = 0): Transport => {
      const transport = factory({ address, port });
      open.push(transport);
      return transport;
    };

    afterEach(async () => {
      await Promise.all(open.splice(0).map((t) => t.close()));
    });

    it('listens on an ephemeral port and reports it', async () => {
      const t = make('127.0.0.1');
      await t.listen();
      expect(t.protocol).toBe(protocol);
      expect(t.reliable).toBe(protocol !== 'udp');
      expect(t.local).toEqual({ address: '127.0.0.1', port: expect.any(Number), family: 4 });
      expect(t.local.port).toBeGreaterThan(0);
    });

    for (const [address, family] of [['127.0.0.1', 4], ['::1', 6]] as const) {
      it(`sends and receives a message on ${address}`, async () => {
        const a = make(address);
        const b = make(address);
        await Promise.all([a.listen(), b.listen()]);
        const rb = new Recorder(b);
        const message = sipRequest({ body: 'v=0\r\n' });
        await a.send({ address, port: b.local.port, protocol }, message);
        const packet = await rb.packet();
        expect(packet.data.equals(message)).toBe(true);
        expect(packet.protocol).toBe(protocol);
        expect(packet.local).toEqual(b.local);
        expect(packet.remote).toMatchObject({ address, family });
        expect(packet.receivedAt).toBeTypeOf('number');
        if (protocol === 'udp') expect(packet.remote.port).toBe(a.local.port);
        else expect(packet.connectionId).toBeTypeOf('string');
      });

      it(`answers to where a message came from on ${address}`, async () => {
        const a = make(address);
        const b = make(address);
        await Promise.all([a.listen(), b.listen()]);
        const ra = new Recorder(a);
        const rb = new Recorder(b);
        await a.send({ address, port: b.local.port, protocol }, sipRequest({ callId: 'request' }));
        const request = await rb.packet();
        const reply = sipRequest({ callId: 'reply' });
        await b.send({ address: request.remote.address, port: request.remote.port, protocol, connectionId: request.connectionId }, reply);
        expect((await ra.packet()).data.equals(reply)).toBe(true);
      });
    }

    it('binds IPv4 and IPv6 transports to the same port number', async () => {
      const v4 = make('127.0.0.1');
      await v4.listen();
      const v6 = make('::1', v4.local.port);
      await v6.listen();
      expect(v6.local).toEqual({ address: '::1', port: v4.local.port, family: 6 });
    });

    it('releases the port on close', async () => {
      const first = make('127.0.0.1');
      await first.listen();
      const port = first.local.port;
      await first.close();
      const second = make('127.0.0.1', port);
      await expect(second.listen()).resolves.toBeUndefined();
      expect(second.local.port).toBe(port);
    });

    it('rejects listen on a port in use with listen-failed', async () => {
      const first = make('127.0.0.1');
      await first.listen();
      const second = make('127.0.0.1', first.local.port);
      await expect(second.listen()).rejects.toMatchObject({ name: 'TransportError', code: 'listen-failed' });
    });

    it('rejects send before listen and after close with closed; close is idempotent', async () => {
      const t = make('127.0.0.1');
      const target = { address: '127.0.0.1', port: 9, protocol };
      await expect(t.send(target, sipRequest())).rejects.toMatchObject({ code: 'closed' });
      await t.listen();
      await t.close();
      await t.close();
      const err = await t.send(target, sipRequest()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransportError);
      expect((err as TransportError).code).toBe('closed');
    });

    it('rejects a destination of the other address family or a host name with unreachable', async () => {
      const t = make('127.0.0.1');
      await t.listen();
      await expect(t.send({ address: '::1', port: 5060, protocol }, sipRequest())).rejects.toMatchObject({ code: 'unreachable' });
      await expect(t.send({ address: 'example.com', port: 5060, protocol }, sipRequest())).rejects.toMatchObject({ code: 'unreachable' });
    });

    it('counts packets and bytes both ways', async () => {
      const a = make('127.0.0.1');
      const b = make('127.0.0.1');
      await Promise.all([a.listen(), b.listen()]);
      const rb = new Recorder(b);
      const message = sipRequest();
      await a.send({ address: '127.0.0.1', port: b.local.port, protocol }, message);
      await a.send({ address: '127.0.0.1', port: b.local.port, protocol }, message);
      await rb.packet(1);
      expect(a.stats()).toMatchObject({ packetsOut: 2, bytesOut: 2 * message.length });
      expect(b.stats()).toMatchObject({ packetsIn: 2, bytesIn: 2 * message.length });
    });

    it('survives a packet handler that throws', async () => {
      const a = make('127.0.0.1');
      const b = make('127.0.0.1');
      await Promise.all([a.listen(), b.listen()]);
      const rb = new Recorder(b);
      let calls = 0;
      b.onPacket(() => {
        calls++;
        if (calls === 1) throw new Error('boom');
      });
      const target = { address: '127.0.0.1', port: b.local.port, protocol };
      await a.send(target, sipRequest({ callId: 'one' }));
      await rb.issue('handler-error');
      await a.send(target, sipRequest({ callId: 'two' }));
      for (let i = 0; i < 100 && calls < 2; i++) await delay(10);
      expect(calls).toBe(2);
    });
  });
}
