import { describe, expect, it } from 'vitest';
import { CachingDnsClient, orderSrv, Resolver, type Destination } from '../../../src/sip/transport/index.js';
import { FakeDns, naptr, srv } from './fake-dns.js';

const short = (destinations: Destination[]): string[] => destinations.map((d) => `${d.protocol} ${d.address} ${d.port}`);

/** A deterministic random source (LCG) for weight statistics. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('Resolver (RFC 3263)', () => {
  const zone = new FakeDns({
    naptr: {
      'example.com': [
        naptr(20, 10, 'SIP+D2U', '_sip._udp.example.com'),
        naptr(10, 20, 'SIP+D2T', '_sip._tcp.example.com'),
        naptr(10, 10, 'SIPS+D2T', '_sips._tcp.example.com'),
        naptr(5, 10, 'SIP+D2S', '_sip._sctp.example.com'),
      ],
    },
    srv: {
      '_sip._udp.example.com': [srv(10, 0, 5060, 'udp1.example.com')],
      '_sip._tcp.example.com': [srv(20, 0, 5062, 'tcp2.example.com'), srv(10, 0, 5061, 'tcp1.example.com')],
      '_sips._tcp.example.com': [srv(10, 0, 5063, 'tls1.example.com')],
      '_sip._udp.nonaptr.org': [srv(10, 0, 5070, 'u.nonaptr.org')],
      '_sip._tcp.nonaptr.org': [srv(10, 0, 5071, 't.nonaptr.org')],
      '_sip._tcp.plain.net': [srv(10, 0, 5080, 't.plain.net')],
    },
    a: {
      'udp1.example.com': ['192.0.2.1'],
      'tcp1.example.com': ['192.0.2.2'],
      'tcp2.example.com': ['192.0.2.3'],
      'tls1.example.com': ['192.0.2.4'],
      'u.nonaptr.org': ['198.51.100.1'],
      't.nonaptr.org': ['198.51.100.2'],
      't.plain.net': ['203.0.113.9'],
      'plain.net': ['203.0.113.1'],
      'dual.net': ['203.0.113.2'],
    },
    aaaa: { 'dual.net': ['2001:db8::2'], 'tcp1.example.com': ['2001:db8::22'] },
  });
  const make = (options: ConstructorParameters<typeof Resolver>[0] = {}): { resolver: Resolver; dns: FakeDns } => {
    const dns = options.dns instanceof FakeDns ? options.dns : zone;
    dns.queries.length = 0;
    return { resolver: new Resolver({ dns, random: () => 0, ...options }), dns };
  };

  it('orders NAPTR by order then preference, skips unsupported services, expands SRV by priority', async () => {
    const { resolver, dns } = make({ protocols: ['udp', 'tcp'], families: [4] });
    const result = await resolver.resolve({ host: 'example.com' });
    expect(short(result)).toEqual(['tcp 192.0.2.2 5061', 'tcp 192.0.2.3 5062', 'udp 192.0.2.1 5060']);
    expect(dns.queries).not.toContain('SRV _sip._sctp.example.com');
    expect(dns.queries).not.toContain('SRV _sips._tcp.example.com');
  });

  it('includes SIPS+D2T for a SIP URI when TLS is supported, in NAPTR order', async () => {
    const { resolver } = make({ protocols: ['udp', 'tcp', 'tls'], families: [4] });
    expect(short(await resolver.resolve({ host: 'example.com' }))).toEqual([
      'tls 192.0.2.4 5063',
      'tcp 192.0.2.2 5061',
      'tcp 192.0.2.3 5062',
      'udp 192.0.2.1 5060',
    ]);
  });

  it('keeps only SIPS+ NAPTR records for a SIPS URI (sips → tls)', async () => {
    const { resolver } = make({ protocols: ['udp', 'tcp', 'tls'], families: [4] });
    expect(short(await resolver.resolve({ host: 'example.com', secure: true }))).toEqual(['tls 192.0.2.4 5063']);
  });

  it('returns A and AAAA in family preference order', async () => {
    const { resolver } = make({ families: [4, 6] });
    expect(short(await resolver.resolve({ host: 'example.com' }))).toEqual([
      'tcp 192.0.2.2 5061',
      'tcp 2001:db8::22 5061',
      'tcp 192.0.2.3 5062',
      'udp 192.0.2.1 5060',
    ]);
    const v6first = make({ families: [6, 4] }).resolver;
    expect(short(await v6first.resolve({ host: 'dual.net', port: 5060 }))).toEqual(['udp 2001:db8::2 5060', 'udp 203.0.113.2 5060']);
  });

  it('queries SRV for each supported transport when there is no NAPTR', async () => {
    const { resolver, dns } = make({ families: [4] });
    expect(short(await resolver.resolve({ host: 'nonaptr.org' }))).toEqual(['udp 198.51.100.1 5070', 'tcp 198.51.100.2 5071']);
    expect(dns.queries.slice(0, 3)).toEqual(['NAPTR nonaptr.org', 'SRV _sip._udp.nonaptr.org', 'SRV _sip._tcp.nonaptr.org']);
  });

  it('falls back to A/AAAA on the host with UDP and port 5060 when there is neither NAPTR nor SRV', async () => {
    const { resolver } = make({ families: [4, 6] });
    expect(short(await resolver.resolve({ host: 'dual.net' }))).toEqual(['udp 203.0.113.2 5060', 'udp 2001:db8::2 5060']);
  });

  it('short-circuits numeric IPv4 hosts without any DNS query', async () => {
    const { resolver, dns } = make({ protocols: ['udp', 'tcp', 'tls'] });
    expect(short(await resolver.resolve({ host: '192.0.2.10' }))).toEqual(['udp 192.0.2.10 5060']);
    expect(short(await resolver.resolve({ host: '192.0.2.10', port: 5080, transport: 'TCP' }))).toEqual(['tcp 192.0.2.10 5080']);
    expect(short(await resolver.resolve({ host: '192.0.2.10', secure: true }))).toEqual(['tls 192.0.2.10 5061']);
    expect(dns.queries).toEqual([]);
  });

  it('accepts an IPv6 literal in brackets, without DNS', async () => {
    const { resolver, dns } = make();
    expect(await resolver.resolve({ host: '[2001:db8::1]', port: 5070 })).toEqual([{ address: '2001:db8::1', port: 5070, protocol: 'udp' }]);
    expect(short(await resolver.resolve({ host: '[::1]', transport: 'tcp' }))).toEqual(['tcp ::1 5060']);
    expect(dns.queries).toEqual([]);
  });

  it('uses only A/AAAA when the URI has a port (RFC 3263 §4.2)', async () => {
    const { resolver, dns } = make({ families: [4] });
    expect(short(await resolver.resolve({ host: 'example.com', port: 5099 }))).toEqual([]);
    expect(short(await resolver.resolve({ host: 'plain.net', port: 5099, transport: 'tcp' }))).toEqual(['tcp 203.0.113.1 5099']);
    expect(dns.queries.every((q) => q.startsWith('A ') || q.startsWith('AAAA '))).toBe(true);
  });

  it('uses SRV for the transport parameter only, then A/AAAA, skipping NAPTR', async () => {
    const { resolver, dns } = make({ families: [4] });
    expect(short(await resolver.resolve({ host: 'plain.net', transport: 'tcp' }))).toEqual(['tcp 203.0.113.9 5080']);
    expect(dns.queries).toEqual(['SRV _sip._tcp.plain.net', 'A t.plain.net']);
    expect(short(await resolver.resolve({ host: 'plain.net', transport: 'udp' }))).toEqual(['udp 203.0.113.1 5060']);
    expect(dns.queries).not.toContain('NAPTR plain.net');
  });

  it('maps sips with transport=tcp to TLS on _sips._tcp, and refuses sips over UDP', async () => {
    const { resolver, dns } = make({ protocols: ['udp', 'tcp', 'tls'], families: [4] });
    expect(short(await resolver.resolve({ host: 'example.com', transport: 'tcp', secure: true }))).toEqual(['tls 192.0.2.4 5063']);
    expect(dns.queries[0]).toBe('SRV _sips._tcp.example.com');
    expect(await resolver.resolve({ host: 'example.com', transport: 'udp', secure: true })).toEqual([]);
  });

  it('returns nothing for a transport it cannot use', async () => {
    const { resolver } = make({ protocols: ['udp'] });
    expect(await resolver.resolve({ host: '192.0.2.1', transport: 'tcp' })).toEqual([]);
    expect(await resolver.resolve({ host: '192.0.2.1', transport: 'sctp' })).toEqual([]);
    expect(await resolver.resolve({ host: '192.0.2.1', secure: true })).toEqual([]);
  });

  it('resolves maddr instead of the host', async () => {
    const { resolver } = make();
    expect(short(await resolver.resolve({ host: 'example.com', maddr: '192.0.2.99' }))).toEqual(['udp 192.0.2.99 5060']);
  });

  it('treats a failing server like no answer', async () => {
    const dns = new FakeDns({ failing: { 'broken.net': 'ESERVFAIL' }, a: { 'broken.net': ['192.0.2.7'] } });
    const resolver = new Resolver({ dns });
    expect(await resolver.resolve({ host: 'broken.net' })).toEqual([]);
  });

  it('skips an SRV target of "." (service not available)', async () => {
    const dns = new FakeDns({ srv: { '_sip._tcp.none.net': [srv(0, 0, 0, '.')] }, a: { 'none.net': ['192.0.2.8'] } });
    const resolver = new Resolver({ dns, families: [4] });
    expect(short(await resolver.resolve({ host: 'none.net', transport: 'tcp' }))).toEqual(['tcp 192.0.2.8 5060']);
  });

  it('orders same-priority SRV targets by weight with the injected random source', async () => {
    const dns = new FakeDns({
      srv: { '_sip._udp.w.net': [srv(10, 10, 5060, 'light.w.net'), srv(10, 90, 5060, 'heavy.w.net')] },
      a: { 'light.w.net': ['192.0.2.20'], 'heavy.w.net': ['192.0.2.21'] },
    });
    const low = new Resolver({ dns, families: [4], random: () => 0 });
    expect(short(await low.resolve({ host: 'w.net', transport: 'udp' }))).toEqual(['udp 192.0.2.20 5060', 'udp 192.0.2.21 5060']);
    const high = new Resolver({ dns, families: [4], random: () => 0.5 });
    expect(short(await high.resolve({ host: 'w.net', transport: 'udp' }))).toEqual(['udp 192.0.2.21 5060', 'udp 192.0.2.20 5060']);
  });
});

describe('orderSrv (RFC 2782)', () => {
  it('puts lower priorities first whatever the weights', () => {
    const records = [srv(20, 1000, 1, 'c'), srv(10, 0, 1, 'a'), srv(30, 0, 1, 'd'), srv(10, 5, 1, 'b')];
    const ordered = orderSrv(records, seeded(1)).map((r) => r.priority);
    expect(ordered).toEqual([10, 10, 20, 30]);
  });

  it('places weight-0 records first in the draw, picked only when the draw is 0', () => {
    const records = [srv(10, 50, 1, 'w50'), srv(10, 0, 1, 'zero')];
    expect(orderSrv(records, () => 0).map((r) => r.name)).toEqual(['zero', 'w50']);
    expect(orderSrv(records, () => 0.5).map((r) => r.name)).toEqual(['w50', 'zero']);
  });

  it('chooses first in proportion to weight', () => {
    const records = [srv(10, 10, 1, 'light'), srv(10, 30, 1, 'mid'), srv(10, 60, 1, 'heavy')];
    const random = seeded(42);
    const firsts: Record<string, number> = { light: 0, mid: 0, heavy: 0 };
    for (let i = 0; i < 10_000; i++) firsts[orderSrv(records, random)[0]!.name]!++;
    expect(firsts.light! / 10_000).toBeCloseTo(0.1, 1);
    expect(firsts.mid! / 10_000).toBeCloseTo(0.3, 1);
    expect(firsts.heavy! / 10_000).toBeCloseTo(0.6, 1);
  });

  it('returns every record exactly once', () => {
    const records = [srv(1, 0, 1, 'a'), srv(1, 0, 2, 'b'), srv(1, 7, 3, 'c'), srv(2, 3, 4, 'd')];
    expect(orderSrv(records, seeded(7)).map((r) => r.name).sort()).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('CachingDnsClient', () => {
  it('serves repeated queries from the cache until the A record TTL expires', async () => {
    let now = 1_000_000;
    const inner = new FakeDns({ a: { 'h.net': ['192.0.2.1'] }, ttl: 30 });
    const cache = new CachingDnsClient(inner, { now: () => now });
    await cache.resolve4('h.net', { ttl: true });
    await cache.resolve4('h.net', { ttl: true });
    expect(inner.queries).toEqual(['A h.net']);
    now += 29_000;
    await cache.resolve4('h.net', { ttl: true });
    expect(inner.queries).toHaveLength(1);
    now += 2_000;
    await cache.resolve4('h.net', { ttl: true });
    expect(inner.queries).toHaveLength(2);
  });

  it('keeps NAPTR/SRV for ttlMs, negative answers for negativeTtlMs, and shares concurrent lookups', async () => {
    let now = 0;
    const inner = new FakeDns({ srv: { '_sip._udp.h.net': [srv(1, 1, 5060, 'h.net')] } });
    const cache = new CachingDnsClient(inner, { now: () => now, ttlMs: 10_000, negativeTtlMs: 1_000 });
    await Promise.all([cache.resolveSrv('_sip._udp.h.net'), cache.resolveSrv('_sip._udp.h.net')]);
    expect(inner.queries).toEqual(['SRV _sip._udp.h.net']);
    await expect(cache.resolveNaptr('h.net')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(cache.resolveNaptr('h.net')).rejects.toMatchObject({ code: 'ENODATA' });
    expect(inner.queries.filter((q) => q.startsWith('NAPTR'))).toHaveLength(1);
    now += 1_500;
    await expect(cache.resolveNaptr('h.net')).rejects.toMatchObject({ code: 'ENODATA' });
    expect(inner.queries.filter((q) => q.startsWith('NAPTR'))).toHaveLength(2);
    await cache.resolveSrv('_sip._udp.h.net');
    expect(inner.queries.filter((q) => q.startsWith('SRV'))).toHaveLength(1);
    now += 10_000;
    await cache.resolveSrv('_sip._udp.h.net');
    expect(inner.queries.filter((q) => q.startsWith('SRV'))).toHaveLength(2);
  });

  it('does not cache server failures', async () => {
    const inner = new FakeDns({ failing: { 'f.net': 'ESERVFAIL' } });
    const cache = new CachingDnsClient(inner);
    await expect(cache.resolve4('f.net', { ttl: true })).rejects.toMatchObject({ code: 'ESERVFAIL' });
    await expect(cache.resolve4('f.net', { ttl: true })).rejects.toMatchObject({ code: 'ESERVFAIL' });
    expect(inner.queries).toHaveLength(2);
  });

  it('evicts the oldest entries beyond maxEntries', async () => {
    const inner = new FakeDns({ a: { a: ['192.0.2.1'], b: ['192.0.2.2'], c: ['192.0.2.3'] } });
    const cache = new CachingDnsClient(inner, { maxEntries: 2 });
    for (const name of ['a', 'b', 'c', 'a']) await cache.resolve4(name, { ttl: true });
    expect(inner.queries).toEqual(['A a', 'A b', 'A c', 'A a']);
    expect(cache.size).toBe(2);
  });
});
