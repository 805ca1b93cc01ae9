import { promises as dns } from 'node:dns';
import { CachingDnsClient } from './caching-dns-client.js';
import type { DnsClient, NaptrRecord } from './dns-client.js';
import { ipFamily, unbracket } from './ip-address.js';
import { orderSrv } from './srv-order.js';
import { silentLogger, type TransportLogger } from './transport-logger.js';
import type { Destination, Protocol } from './transport.js';

/** The parts of a SIP or SIPS URI that decide where a request goes (RFC 3263 §4). */
export interface ResolveTarget {
  /** URI host: a name, an IPv4 address, or an IPv6 reference with or without brackets. */
  host: string;
  /** URI port, when present. */
  port?: number;
  /** The URI's `transport` parameter, any case (`udp`, `tcp`, `tls`, `ws`, `wss`). */
  transport?: string;
  /** True for a SIPS URI: only TLS (or WSS) destinations (RFC 3261 §26.2.2). */
  secure?: boolean;
  /** The `maddr` parameter, which replaces the host when present (RFC 3263 §4.1). */
  maddr?: string;
}

export interface ResolverOptions {
  /** DNS queries. Default: Node's resolver behind a {@link CachingDnsClient}. */
  dns?: DnsClient;
  /** Protocols this server can send with, in order of preference. Default `['udp', 'tcp']`. */
  protocols?: readonly Protocol[];
  /** Address families to return, in order of preference. Default `[4, 6]`. */
  families?: readonly (4 | 6)[];
  /** Random source for SRV weights, [0, 1). Default `Math.random`. */
  random?: () => number;
  logger?: TransportLogger;
}

/** Default ports when neither the URI nor SRV gives one (RFC 3261 §19.1.2; RFC 6455 §3 for WebSocket). */
const DEFAULT_PORT: Record<Protocol, number> = { udp: 5060, tcp: 5060, tls: 5061, ws: 80, wss: 443 };

/** NAPTR service fields and the protocol each names (RFC 3263 §4.1, RFC 7118 §5). */
const NAPTR_SERVICE: Record<string, Protocol> = {
  'SIP+D2U': 'udp',
  'SIP+D2T': 'tcp',
  'SIPS+D2T': 'tls',
  'SIP+D2W': 'ws',
  'SIPS+D2W': 'wss',
};

/** SRV service prefixes per protocol (RFC 3263 §4.1, RFC 7118 §5). */
const SRV_PREFIX: Record<Protocol, string> = {
  udp: '_sip._udp.',
  tcp: '_sip._tcp.',
  tls: '_sips._tcp.',
  ws: '_sip._ws.',
  wss: '_sips._ws.',
};

const SECURE: ReadonlySet<Protocol> = new Set<Protocol>(['tls', 'wss']);

/**
 * RFC 3263 client resolution: turns a SIP URI's host, port, transport and scheme into the ordered
 * list of destinations to try (§4.3: on failure, the next one). Numeric hosts need no DNS; an
 * explicit port means A/AAAA only (§4.2); an explicit transport means SRV for it, then A/AAAA;
 * otherwise NAPTR (§4.1), then SRV for each supported protocol, then A/AAAA with the default port.
 *
 * Bad input is a value: a target that cannot be resolved (unknown name, unsupported transport, SIPS
 * over UDP) gives an empty list; the caller answers 503 or reports a transport error.
 */
export class Resolver {
  #dns: DnsClient;
  #protocols: readonly Protocol[];
  #families: readonly (4 | 6)[];
  #random: () => number;
  #log: TransportLogger;

  constructor(options: ResolverOptions = {}) {
    this.#dns = options.dns ?? new CachingDnsClient(new dns.Resolver());
    this.#protocols = options.protocols ?? ['udp', 'tcp'];
    this.#families = options.families ?? [4, 6];
    this.#random = options.random ?? Math.random;
    this.#log = options.logger ?? silentLogger;
  }

  async resolve(target: ResolveTarget): Promise<Destination[]> {
    const host = unbracket(target.maddr ?? target.host).toLowerCase();
    const secure = target.secure ?? false;
    const transport = target.transport === undefined ? undefined : transportParam(target.transport, secure);
    if (transport === null || (transport !== undefined && !this.#protocols.includes(transport))) {
      this.#log.debug({ target }, 'transport not usable for this target');
      return [];
    }
    const fallback = transport ?? (secure ? 'tls' : 'udp');

    const family = ipFamily(host);
    if (family !== 0) {
      // RFC 3263 §4.1 / §4.2: a numeric host is used as is, UDP for SIP and TLS for SIPS by default.
      if (!this.#families.includes(family) || !this.#protocols.includes(fallback)) return [];
      return [{ address: host, port: target.port ?? DEFAULT_PORT[fallback], protocol: fallback }];
    }
    if (target.port !== undefined) {
      // RFC 3263 §4.2: a port in the URI means no SRV lookup.
      return this.#protocols.includes(fallback) ? this.#addresses(host, target.port, fallback) : [];
    }
    if (transport !== undefined) {
      // RFC 3263 §4.2: transport chosen, port not: SRV for that transport, then A/AAAA.
      const viaSrv = await this.#srv(SRV_PREFIX[transport] + host, transport);
      return viaSrv.length > 0 ? viaSrv : this.#addresses(host, DEFAULT_PORT[transport], transport);
    }

    const viaNaptr = await this.#naptr(host, secure);
    if (viaNaptr.length > 0) return dedupe(viaNaptr);
    // RFC 3263 §4.1: no NAPTR: an SRV query per supported transport (SIPS: secure ones only).
    const usable = this.#protocols.filter((p) => !secure || SECURE.has(p));
    const perProtocol = await Promise.all(usable.map((p) => this.#srv(SRV_PREFIX[p] + host, p)));
    const viaSrv = perProtocol.flat();
    if (viaSrv.length > 0) return dedupe(viaSrv);
    // RFC 3263 §4.2: no SRV: A/AAAA on the host, UDP for SIP, TLS for SIPS (§4.1 last paragraph).
    return this.#protocols.includes(fallback) ? this.#addresses(host, DEFAULT_PORT[fallback], fallback) : [];
  }

  /** NAPTR records usable here, best first, each expanded through its SRV replacement. */
  async #naptr(host: string, secure: boolean): Promise<Destination[]> {
    const records = await this.#query(() => this.#dns.resolveNaptr(host), 'NAPTR', host);
    const usable: { record: NaptrRecord; protocol: Protocol }[] = [];
    for (const record of records) {
      const protocol = NAPTR_SERVICE[record.service.toUpperCase()];
      if (protocol === undefined || !this.#protocols.includes(protocol)) continue;
      // RFC 3263 §4.1: for a SIPS URI, discard records that are not SIPS+.
      if (secure && !SECURE.has(protocol)) continue;
      if (record.flags.toLowerCase() !== 's' || record.replacement === '') continue;
      usable.push({ record, protocol });
    }
    // RFC 3403 §4.1: lowest order first, then lowest preference.
    usable.sort((a, b) => a.record.order - b.record.order || a.record.preference - b.record.preference);
    const expanded = await Promise.all(usable.map(({ record, protocol }) => this.#srv(record.replacement, protocol)));
    return expanded.flat();
  }

  /** SRV records of `name`, ordered per RFC 2782, each target expanded to its addresses. */
  async #srv(name: string, protocol: Protocol): Promise<Destination[]> {
    const records = await this.#query(() => this.#dns.resolveSrv(name), 'SRV', name);
    // RFC 2782: a lone target of "." means the service is decidedly not available.
    const live = records.filter((r) => r.name !== '' && r.name !== '.');
    const ordered = orderSrv(live, this.#random);
    const expanded = await Promise.all(ordered.map((r) => this.#addresses(r.name.toLowerCase(), r.port, protocol)));
    return expanded.flat();
  }

  /** A and AAAA records of `name` in family preference order. */
  async #addresses(name: string, port: number, protocol: Protocol): Promise<Destination[]> {
    const perFamily = await Promise.all(
      this.#families.map((family) =>
        this.#query(() => (family === 4 ? this.#dns.resolve4(name, { ttl: true }) : this.#dns.resolve6(name, { ttl: true })), family === 4 ? 'A' : 'AAAA', name),
      ),
    );
    return perFamily.flat().map((record) => ({ address: record.address, port, protocol }));
  }

  /** Runs one query; no answer, of any kind, is an empty list. */
  async #query<T>(run: () => Promise<T[]>, type: string, name: string): Promise<T[]> {
    try {
      return await run();
    } catch (err) {
      const code = (err as { code?: string } | null)?.code;
      if (code !== 'ENODATA' && code !== 'ENOTFOUND') this.#log.warn({ err, type, name }, 'DNS query failed');
      return [];
    }
  }
}

/**
 * The protocol a URI `transport` parameter asks for; for a SIPS URI the secure variant (RFC 3261
 * §26.2.2: SIPS over TCP means TLS). null when it cannot be honoured (unknown, SIPS over UDP).
 */
function transportParam(value: string, secure: boolean): Protocol | null {
  switch (value.toLowerCase()) {
    case 'udp':
      return secure ? null : 'udp';
    case 'tcp':
      return secure ? 'tls' : 'tcp';
    case 'tls':
      return 'tls';
    case 'ws':
      return secure ? 'wss' : 'ws';
    case 'wss':
      return 'wss';
    default:
      return null;
  }
}

function dedupe(destinations: Destination[]): Destination[] {
  const seen = new Set<string>();
  return destinations.filter((d) => {
    const key = `${d.protocol}|${d.address}|${d.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
