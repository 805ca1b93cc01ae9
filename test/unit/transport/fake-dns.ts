import type { DnsClient, NaptrRecord, RecordWithTtl, SrvRecord } from '../../../src/sip/transport/index.js';

export interface FakeZone {
  naptr?: Record<string, NaptrRecord[]>;
  srv?: Record<string, SrvRecord[]>;
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  /** Names whose every query fails with this code (e.g. ESERVFAIL). */
  failing?: Record<string, string>;
  ttl?: number;
}

function dnsError(code: string, name: string): Error {
  return Object.assign(new Error(`${code} ${name}`), { code, hostname: name });
}

/** An in-memory DnsClient: answers from a zone, records every query, never touches the network. */
export class FakeDns implements DnsClient {
  readonly queries: string[] = [];
  #zone: FakeZone;

  constructor(zone: FakeZone = {}) {
    this.#zone = zone;
  }

  resolveNaptr(name: string): Promise<NaptrRecord[]> {
    return this.#answer('NAPTR', name, this.#zone.naptr?.[name]);
  }

  resolveSrv(name: string): Promise<SrvRecord[]> {
    return this.#answer('SRV', name, this.#zone.srv?.[name]);
  }

  resolve4(name: string): Promise<RecordWithTtl[]> {
    return this.#answer('A', name, this.#zone.a?.[name]?.map((address) => ({ address, ttl: this.#zone.ttl ?? 300 })));
  }

  resolve6(name: string): Promise<RecordWithTtl[]> {
    return this.#answer('AAAA', name, this.#zone.aaaa?.[name]?.map((address) => ({ address, ttl: this.#zone.ttl ?? 300 })));
  }

  #answer<T>(type: string, name: string, records: T[] | undefined): Promise<T[]> {
    this.queries.push(`${type} ${name}`);
    const failure = this.#zone.failing?.[name];
    if (failure) return Promise.reject(dnsError(failure, name));
    return records && records.length > 0 ? Promise.resolve(records) : Promise.reject(dnsError('ENODATA', name));
  }
}

export const naptr = (order: number, preference: number, service: string, replacement: string): NaptrRecord => ({
  flags: 's',
  service,
  regexp: '',
  replacement,
  order,
  preference,
});

export const srv = (priority: number, weight: number, port: number, name: string): SrvRecord => ({ priority, weight, port, name });
