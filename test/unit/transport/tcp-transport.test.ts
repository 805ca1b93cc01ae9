import { createServer, Socket, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamTransport, TcpTransport, type TcpTransportOptions, TransportError } from '../../../src/sip/transport/index.js';
import { Recorder, delay, rawClient, sipRequest, waitFor, type RawClient } from './helpers.js';
import { transportContract } from './transport.contract.js';

transportContract('tcp', (options) => new TcpTransport(options));

describe('TcpTransport', () => {
  const transports: StreamTransport[] = [];
  const clients: RawClient[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    await Promise.all(transports.splice(0).map((t) => t.close()));
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });
  const listening = async (options: TcpTransportOptions = {}): Promise<{ t: TcpTransport; r: Recorder }> => {
    const t = new TcpTransport({ address: '127.0.0.1', port: 0, ...options });
    transports.push(t);
    const r = new Recorder(t);
    await t.listen();
    return { t, r };
  };
  const client = async (port: number): Promise<RawClient> => {
    const c = await rawClient(port);
    clients.push(c);
    return c;
  };
  const closedPort = async (): Promise<number> => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    return port;
  };

  describe('framing on a live connection', () => {
    it('delivers messages written a byte at a time and several in one write', async () => {
      const { t, r } = await listening();
      const c = await client(t.local.port);
      const one = sipRequest({ callId: 'one', body: 'hello' });
      for (const byte of one) await c.write(Buffer.from([byte]));
      const two = sipRequest({ callId: 'two' });
      const three = sipRequest({ callId: 'three', body: 'x' });
      await c.write(Buffer.concat([two, three]));
      await r.packet(2);
      expect(r.packets.map((p) => p.data.toString('latin1'))).toEqual([one, two, three].map((b) => b.toString('latin1')));
      expect(new Set(r.packets.map((p) => p.connectionId)).size).toBe(1);
    });

    it('answers a CRLFCRLF ping with a single CRLF pong and ignores leading CRLFs', async () => {
      const { t, r } = await listening();
      const c = await client(t.local.port);
      await c.write('\r\n\r\n');
      expect((await c.waitReceived(2)).toString('latin1')).toBe('\r\n');
      await c.write(Buffer.concat([Buffer.from('\r\n'), sipRequest()]));
      await r.packet();
      await delay(20);
      expect(c.received().toString('latin1')).toBe('\r\n');
      expect(r.packets).toHaveLength(1);
    });

    it('reports a pong received on an outbound connection', async () => {
      const peer = createServer((socket) => {
        socket.on('data', () => socket.write('\r\n'));
      });
      servers.push(peer);
      await new Promise<void>((res) => peer.listen(0, '127.0.0.1', res));
      const { t, r } = await listening();
      await t.send({ address: '127.0.0.1', port: (peer.address() as { port: number }).port, protocol: 'tcp' }, Buffer.from('\r\n\r\n'));
      const pong = await r.event('pong');
      expect(pong).toMatchObject({ direction: 'outbound', protocol: 'tcp' });
    });

    for (const [name, header, code] of [
      ['non-numeric', 'Content-Length: abc', 'bad-content-length'],
      ['negative', 'Content-Length: -5', 'bad-content-length'],
      ['conflicting', 'Content-Length: 0\r\nl: 3', 'bad-content-length'],
      ['missing', 'X-No-Length: 0', 'missing-content-length'],
    ] as const) {
      it(`closes only the connection with a ${name} Content-Length`, async () => {
        const { t, r } = await listening();
        const bad = await client(t.local.port);
        const good = await client(t.local.port);
        await bad.write(sipRequest({ lengthHeader: header }));
        await bad.waitClosed();
        const issue = await r.issue(code);
        expect(issue).toMatchObject({ protocol: 'tcp', remote: { address: '127.0.0.1' } });
        expect((await r.event('close')).reason).toBe(code);
        await good.write(sipRequest({ callId: 'still-working' }));
        expect((await r.packet()).data.toString()).toContain('still-working');
        expect(good.closed()).toBe(false);
        expect(r.packets).toHaveLength(1);
        expect(t.stats().dropped[code]).toBe(1);
      });
    }

    it('closes a connection whose header section exceeds maxHeaderSize', async () => {
      const { t, r } = await listening({ maxHeaderSize: 256 });
      const c = await client(t.local.port);
      await c.write(`INVITE sip:bob@127.0.0.1 SIP/2.0\r\nX-Big: ${'a'.repeat(400)}`);
      await c.waitClosed();
      await r.issue('header-too-large');
    });

    it('closes a connection holding more than maxBufferedBytes for one message', async () => {
      const { t, r } = await listening({ maxBufferedBytes: 300 });
      const c = await client(t.local.port);
      await c.write(sipRequest({ body: 'b'.repeat(1000) }).subarray(0, 500));
      await c.waitClosed();
      expect((await r.issue('buffer-overflow')).bytes).toBeGreaterThan(300);
    });

    it('closes a connection announcing a message above maxMessageSize', async () => {
      const { t, r } = await listening({ maxMessageSize: 1024 });
      const c = await client(t.local.port);
      await c.write(sipRequest({ lengthHeader: 'Content-Length: 5000' }));
      await c.waitClosed();
      await r.issue('too-large');
    });
  });

  describe('connection limits and lifecycle', () => {
    it('closes an idle connection after idleTimeoutMs', async () => {
      const { t, r } = await listening({ idleTimeoutMs: 100 });
      const c = await client(t.local.port);
      const opened = Date.now();
      await c.waitClosed(3000);
      expect(Date.now() - opened).toBeGreaterThanOrEqual(90);
      expect((await r.event('close')).reason).toBe('idle-timeout');
      expect(t.stats().connections?.open).toBe(0);
    });

    it('keeps a connection with traffic past idleTimeoutMs', async () => {
      const { t, r } = await listening({ idleTimeoutMs: 300 });
      const c = await client(t.local.port);
      for (let i = 0; i < 8; i++) {
        await delay(50);
        await c.write('\r\n\r\n');
      }
      expect(c.closed()).toBe(false);
      expect(r.events.filter((e) => e.type === 'close')).toEqual([]);
    });

    it('refuses connections beyond maxConnections and keeps serving the others', async () => {
      const { t, r } = await listening({ maxConnections: 2 });
      const a = await client(t.local.port);
      const b = await client(t.local.port);
      await waitFor(() => t.stats().connections!.open === 2);
      const c = await client(t.local.port);
      await c.waitClosed();
      await r.issue('connection-limit');
      await a.write(sipRequest({ callId: 'a' }));
      await b.write(sipRequest({ callId: 'b' }));
      await r.packet(1);
      expect(t.stats().connections).toMatchObject({ open: 2, inbound: 2 });
    });

    it('reports open and close events with direction and reason', async () => {
      const a = await listening();
      const b = await listening();
      await a.t.send({ address: '127.0.0.1', port: b.t.local.port, protocol: 'tcp' }, sipRequest());
      const outbound = await a.r.event('open');
      const inbound = await b.r.event('open');
      expect(outbound).toMatchObject({ direction: 'outbound', remote: { address: '127.0.0.1', port: b.t.local.port } });
      expect(inbound).toMatchObject({ direction: 'inbound', local: b.t.local });
      await a.t.close();
      expect(await a.r.event('close')).toMatchObject({ connectionId: outbound.connectionId, reason: 'closed' });
      expect(await b.r.event('close')).toMatchObject({ connectionId: inbound.connectionId, reason: 'remote' });
    });

    it('closes one connection on request', async () => {
      const { t, r } = await listening();
      const c = await client(t.local.port);
      const open = await r.event('open');
      expect(t.closeConnection(open.connectionId)).toBe(true);
      await c.waitClosed();
      expect(t.hasConnection(open.connectionId)).toBe(false);
      expect(t.closeConnection('tcp-unknown')).toBe(false);
    });
  });

  describe('connection reuse (RFC 3261 §18.2.2)', () => {
    it('sends a response back on the connection the request came on', async () => {
      const { t, r } = await listening();
      const c = await client(t.local.port);
      await c.write(sipRequest());
      const request = await r.packet();
      const response = Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
      await t.send({ address: request.remote.address, port: request.remote.port, protocol: 'tcp', connectionId: request.connectionId }, response);
      expect((await c.waitReceived(response.length)).equals(response)).toBe(true);
      expect(t.stats().connections).toMatchObject({ opened: 1, outbound: 0 });
    });

    it('falls back to a connection to the same address:port when the id is unknown', async () => {
      const { t, r } = await listening();
      const c = await client(t.local.port);
      await c.write(sipRequest());
      const request = await r.packet();
      await t.send({ address: '127.0.0.1', port: request.remote.port, protocol: 'tcp', connectionId: 'tcp-gone' }, Buffer.from('\r\n'));
      await c.waitReceived(2);
      expect(t.stats().connections?.opened).toBe(1);
    });

    it('opens one connection for concurrent sends and reads what comes back on it', async () => {
      const a = await listening();
      const b = await listening();
      const target = { address: '127.0.0.1', port: b.t.local.port, protocol: 'tcp' as const };
      await Promise.all([1, 2, 3, 4, 5].map((i) => a.t.send(target, sipRequest({ callId: `c${i}` }))));
      await b.r.packet(4);
      expect(b.t.stats().connections?.opened).toBe(1);
      expect(a.t.stats().connections).toMatchObject({ opened: 1, outbound: 1 });
      const request = b.r.packets[0]!;
      await b.t.send({ ...target, address: request.remote.address, port: request.remote.port, connectionId: request.connectionId }, sipRequest({ callId: 'back' }));
      const reply = await a.r.packet();
      const outbound = await a.r.event('open');
      expect(reply.connectionId).toBe(outbound.connectionId);
      expect(reply.data.toString()).toContain('back');
    });

    it('connects again after the previous connection closed', async () => {
      const a = await listening();
      const b = await listening();
      const target = { address: '127.0.0.1', port: b.t.local.port, protocol: 'tcp' as const };
      await a.t.send(target, sipRequest());
      const first = await b.r.event('open');
      await b.r.packet(0);
      b.t.closeConnection(first.connectionId);
      await a.r.event('close');
      await a.t.send(target, sipRequest({ callId: 'again' }));
      await b.r.packet(1);
      expect(a.t.stats().connections).toMatchObject({ opened: 2, open: 1 });
    });
  });

  describe('outbound failures', () => {
    it('rejects with connect-failed when the peer refuses', async () => {
      const { t } = await listening();
      const port = await closedPort();
      const err = await t.send({ address: '127.0.0.1', port, protocol: 'tcp' }, sipRequest()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransportError);
      expect(err).toMatchObject({ code: 'connect-failed', cause: { code: 'ECONNREFUSED' } });
      expect(t.stats().sendErrors).toBe(1);
    });

    it('rejects with connect-timeout when the connect never completes', async () => {
      const t = new StreamTransport(
        'tcp',
        {
          createServer: (onSocket) => createServer(onSocket),
          connect: () => ({ socket: new Socket(), ready: 'connect' }),
        },
        { address: '127.0.0.1', port: 0, connectTimeoutMs: 50 },
      );
      transports.push(t);
      await t.listen();
      const started = Date.now();
      await expect(t.send({ address: '127.0.0.1', port: 9, protocol: 'tcp' }, sipRequest())).rejects.toMatchObject({ code: 'connect-timeout' });
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('rejects a pending connect with closed when the transport closes', async () => {
      const t = new StreamTransport(
        'tcp',
        {
          createServer: (onSocket) => createServer(onSocket),
          connect: () => ({ socket: new Socket(), ready: 'connect' }),
        },
        { address: '127.0.0.1', port: 0, connectTimeoutMs: 5000 },
      );
      transports.push(t);
      await t.listen();
      const pending = t.send({ address: '127.0.0.1', port: 9, protocol: 'tcp' }, sipRequest());
      await t.close();
      await expect(pending).rejects.toMatchObject({ code: 'closed' });
    });

    it('rejects outbound connections beyond maxConnections with connection-limit', async () => {
      const a = await listening({ maxConnections: 1 });
      const b = await listening();
      const c = await listening();
      await a.t.send({ address: '127.0.0.1', port: b.t.local.port, protocol: 'tcp' }, sipRequest());
      await expect(a.t.send({ address: '127.0.0.1', port: c.t.local.port, protocol: 'tcp' }, sipRequest())).rejects.toMatchObject({
        code: 'connection-limit',
      });
    });

    it('rejects with congested when the peer does not read', async () => {
      const a = await listening({ maxPendingWriteBytes: 64 * 1024 });
      const peerSockets: Socket[] = [];
      const peer = createServer((socket) => {
        socket.pause();
        peerSockets.push(socket);
      });
      servers.push(peer);
      await new Promise<void>((res) => peer.listen(0, '127.0.0.1', res));
      const target = { address: '127.0.0.1', port: (peer.address() as { port: number }).port, protocol: 'tcp' as const };
      const chunk = Buffer.alloc(60 * 1024, 0x61);
      let error: unknown;
      for (let i = 0; i < 400 && !error; i++) {
        a.t.send(target, chunk).catch((e: unknown) => {
          error ??= e;
        });
        await delay(0);
      }
      await waitFor(() => error, 2000, 'congested');
      expect(error).toMatchObject({ code: 'congested' });
      for (const socket of peerSockets) socket.destroy();
    });
  });
});
