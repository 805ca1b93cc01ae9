import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NetworkInterfaceInfo } from 'node:os';

const interfaces = vi.hoisted(() => ({ calls: 0, table: {} as Record<string, NetworkInterfaceInfo[]> }));
vi.mock('node:os', async (importOriginal) => {
  const os = await importOriginal<typeof import('node:os')>();
  return {
    ...os,
    networkInterfaces: () => {
      interfaces.calls++;
      return interfaces.table;
    },
  };
});

const { MessageTransport, TransportLayer, UdpTransport } = await import('../../../src/sip/transport/index.js');

const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false) =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null, scopeid: 0 }) as NetworkInterfaceInfo;

afterEach(() => {
  vi.useRealTimers();
});

describe('MessageTransport: the address a wildcard listener advertises', () => {
  it('is the first non-internal, non-link-local address of the family, looked up at most once a second', () => {
    vi.useFakeTimers();
    interfaces.table = {
      lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
      eth0: [nic('fe80::1', 'IPv6'), nic('192.0.2.10', 'IPv4'), nic('2001:db8::10', 'IPv6')],
      eth1: [nic('198.51.100.7', 'IPv4')],
    };
    interfaces.calls = 0;
    const layer = new TransportLayer({ transports: [new UdpTransport({ address: '0.0.0.0', port: 5070 }), new UdpTransport({ address: '::', port: 5070 })] });
    const mt = new MessageTransport({ layer });
    for (let i = 0; i < 100; i++) expect(mt.sentBy('udp', 4)).toEqual({ host: '192.0.2.10', port: 5070 });
    expect(mt.sentBy('udp', 6)).toEqual({ host: '[2001:db8::10]', port: 5070 });
    expect(interfaces.calls).toBe(1);

    // Renumbered: seen once the second has passed.
    interfaces.table = { eth0: [nic('192.0.2.99', 'IPv4')] };
    vi.advanceTimersByTime(999);
    expect(mt.sentBy('udp', 4).host).toBe('192.0.2.10');
    vi.advanceTimersByTime(1);
    expect(mt.sentBy('udp', 4).host).toBe('192.0.2.99');
    expect(mt.sentBy('udp', 6).host).toBe('[::1]');
    expect(interfaces.calls).toBe(2);
  });
});
