import type { NaptrRecord, RecordWithTtl, SrvRecord } from 'node:dns';

/**
 * The DNS queries RFC 3263 resolution needs. `new dns.promises.Resolver()` satisfies it; tests pass a
 * fake so they never touch real DNS. Methods reject with a Node DNS error (`code` `ENODATA`,
 * `ENOTFOUND`, …) when there is no answer.
 */
export interface DnsClient {
  resolveNaptr(name: string): Promise<NaptrRecord[]>;
  resolveSrv(name: string): Promise<SrvRecord[]>;
  resolve4(name: string, options: { ttl: true }): Promise<RecordWithTtl[]>;
  resolve6(name: string, options: { ttl: true }): Promise<RecordWithTtl[]>;
}

export type { NaptrRecord, RecordWithTtl, SrvRecord };
