import { Parameters, parseParams, scanToken, skipWs } from './scanner.js';

/** RFC 3261 §8.1.1.7: branches of RFC 3261 transactions start with this. */
export const MAGIC_COOKIE = 'z9hG4bK';

/** One Via value (RFC 3261 §20.42, RFC 3581 rport, RFC 5118 IPv6). */
export class Via {
  protocol: string;
  version: string;
  /** Upper-case transport token: UDP, TCP, TLS, SCTP, WS, WSS or an extension. */
  transport: string;
  /** sent-by host as written; IPv6 references keep their brackets. */
  host: string;
  port: number | undefined;
  readonly params: Parameters;

  constructor(init: { transport: string; host: string; port?: number; params?: Parameters; protocol?: string; version?: string }) {
    this.protocol = init.protocol ?? 'SIP';
    this.version = init.version ?? '2.0';
    this.transport = init.transport.toUpperCase();
    this.host = init.host;
    this.port = init.port;
    this.params = init.params ?? new Parameters();
  }

  get branch(): string | undefined {
    return this.params.get('branch') ?? undefined;
  }

  /** `received` without IPv6 brackets, if present. */
  get received(): string | undefined {
    const r = this.params.get('received');
    if (!r) return undefined;
    return r.charCodeAt(0) === 91 ? r.slice(1, -1) : r;
  }

  /** `null` when rport is present without a value (a request asking for it), a number once filled in. */
  get rport(): number | null | undefined {
    const r = this.params.get('rport');
    if (r === undefined) return undefined;
    if (r === null || r === '') return null;
    const n = Number(r);
    return Number.isInteger(n) ? n : null;
  }

  get hostname(): string {
    return this.host.charCodeAt(0) === 91 ? this.host.slice(1, -1) : this.host;
  }

  /** True when the branch carries the RFC 3261 magic cookie (and something after it). */
  get rfc3261(): boolean {
    const b = this.branch;
    return b !== undefined && b.length > MAGIC_COOKIE.length && b.startsWith(MAGIC_COOKIE);
  }

  clone(): Via {
    return new Via({
      protocol: this.protocol,
      version: this.version,
      transport: this.transport,
      host: this.host,
      port: this.port,
      params: this.params.clone(),
    });
  }

  toString(): string {
    return (
      this.protocol + '/' + this.version + '/' + this.transport + ' ' + this.host +
      (this.port !== undefined ? ':' + this.port : '') +
      this.params.toString()
    );
  }
}

/** Parses one Via value (already split at commas). Returns `undefined` when malformed. */
export function parseVia(s: string): Via | undefined {
  let i = skipWs(s, 0);
  const fields: string[] = [];
  for (let k = 0; k < 3; k++) {
    const e = scanToken(s, i);
    if (e === i) return undefined;
    fields.push(s.slice(i, e));
    i = skipWs(s, e);
    if (k < 2) {
      if (s.charCodeAt(i) !== 47) return undefined;
      i = skipWs(s, i + 1);
    }
  }
  const before = s.charCodeAt(i - 1);
  if (before !== 32 && before !== 9) return undefined;
  let host: string;
  if (s.charCodeAt(i) === 91) {
    const close = s.indexOf(']', i);
    if (close < 0) return undefined;
    host = s.slice(i, close + 1);
    if (!/^\[[0-9A-Fa-f:.]+\]$/.test(host)) return undefined;
    i = close + 1;
  } else {
    const e = scanHost(s, i);
    if (e === i) return undefined;
    host = s.slice(i, e);
    i = e;
  }
  i = skipWs(s, i);
  let port: number | undefined;
  if (s.charCodeAt(i) === 58) {
    i = skipWs(s, i + 1);
    let e = i;
    while (e < s.length && s.charCodeAt(e) >= 48 && s.charCodeAt(e) <= 57) e++;
    if (e === i || e - i > 5) return undefined;
    port = Number(s.slice(i, e));
    if (port > 65535) return undefined;
    i = e;
  }
  const params = new Parameters();
  const end = parseParams(s, i, params);
  if (end < 0 || skipWs(s, end) !== s.length) return undefined;
  const [protocol, version, transport] = fields as [string, string, string];
  return new Via({ protocol, version, transport, host, port, params });
}

function scanHost(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95) i++;
    else break;
  }
  return i;
}
