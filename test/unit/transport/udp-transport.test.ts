import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpTransport } from '../../../src/sip/transport/index.js';
import { Recorder, sipRequest } from './helpers.js';
import { transportContract } from './transport.contract.js';

transportContract('udp', (options) => new UdpTransport(options));

describe('UdpTransport', () => {
  const open: UdpTransport[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });
  const listening = async (options: ConstructorParameters<typeof UdpTransport>[0] = {}): Promise<UdpTransport> => {
    const t = new UdpTransport({ address: '127.0.0.1', port: 0, ...options });
    open.push(t);
    await t.listen();
    return t;
  };
  const sendRaw = (port: number, data: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = createSocket('udp4');
      socket.send(data, port, '127.0.0.1', (err) => {
        socket.close();
        if (err) reject(err);
        else resolve();
      });
    });

  it('drops and counts datagrams above maxMessageSize, keeps delivering the others', async () => {
    const t = await listening({ maxMessageSize: 100 });
    const r = new Recorder(t);
    await sendRaw(t.local.port, Buffer.alloc(200, 0x41));
    const issue = await r.issue('too-large');
    expect(issue).toMatchObject({ protocol: 'udp', bytes: 200, remote: { address: '127.0.0.1', family: 4 } });
    await sendRaw(t.local.port, Buffer.from('small'));
    expect((await r.packet()).data.toString()).toBe('small');
    expect(t.stats().dropped).toEqual({ 'too-large': 1 });
    expect(t.stats().packetsIn).toBe(1);
  });

  it('hands garbage up raw and drops empty datagrams', async () => {
    const t = await listening();
    const r = new Recorder(t);
    await sendRaw(t.local.port, Buffer.alloc(0));
    await r.issue('empty');
    const garbage = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80]);
    await sendRaw(t.local.port, garbage);
    expect((await r.packet()).data.equals(garbage)).toBe(true);
  });

  it('counts a datagram with no handler registered as no-handler', async () => {
    const t = await listening();
    const issues: string[] = [];
    t.onIssue((i) => issues.push(i.code));
    await sendRaw(t.local.port, sipRequest());
    for (let i = 0; i < 100 && issues.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(issues).toEqual(['no-handler']);
  });

  it('rejects a payload that does not fit one datagram with too-large', async () => {
    const t = await listening();
    await expect(t.send({ address: '127.0.0.1', port: 9, protocol: 'udp' }, Buffer.alloc(70_000))).rejects.toMatchObject({ code: 'too-large' });
  });

  it('applies the configured socket buffer sizes', async () => {
    const fourMiB = 4 * 1024 * 1024;
    const t = await listening({ recvBufferSize: fourMiB, sendBufferSize: 1024 * 1024 });
    const sizes = t.bufferSizes;
    expect(sizes).toBeDefined();
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
    // Linux doubles what is asked, capped by rmem_max.
    expect(sizes!.recv).toBeGreaterThanOrEqual(Math.min(fourMiB, rmemMax));
    expect(sizes!.send).toBeGreaterThan(0);
  });

  it('rejects a host name as bind address', () => {
    expect(() => new UdpTransport({ address: 'localhost' })).toThrow(TypeError);
  });
});
