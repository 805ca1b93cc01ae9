import { NO_PARAMS, Parameters, copyParams, matchAt, parseParams, scanToken, skipWs } from './scanner.js';

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
  // NO_PARAMS until `params` is first read (a Via is rarely without a branch)
  #params: Parameters;

  constructor(init: { transport: string; host: string; port?: number; params?: Parameters; protocol?: string; version?: string }) {
    this.protocol = init.protocol ?? 'SIP';
    this.version = init.version ?? '2.0';
    const t = init.transport;
    // the usual tokens are upper case already: skip the runtime call on the per-message path
    this.transport = t === 'UDP' || t === 'TCP' || t === 'TLS' ? t : t.toUpperCase();
    this.host = init.host;
    this.port = init.port;
    this.#params = init.params ?? NO_PARAMS;
  }

  /** The Via parameters (`;branch=z9hG4bK…;rport`), to read or change in place. */
  get params(): Parameters {
    let p = this.#params;
    if (p === NO_PARAMS) p = this.#params = new Parameters();
    return p;
  }

  get branch(): string | undefined {
    return this.#params.get('branch') ?? undefined;
  }

  /** `received` without IPv6 brackets, if present. */
  get received(): string | undefined {
    const r = this.#params.get('received');
    if (!r) return undefined;
    return r.charCodeAt(0) === 91 ? r.slice(1, -1) : r;
  }

  /** `null` when rport is present without a value (a request asking for it), a number once filled in. */
  get rport(): number | null | undefined {
    const r = this.#params.get('rport');
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
      params: copyParams(this.#params),
    });
  }

  toString(): string {
    return (
      this.protocol + '/' + this.version + '/' + this.transport + ' ' + this.host +
      (this.port !== undefined ? ':' + this.port : '') +
      this.#params.toString()
    );
  }
}

const IPV6_REFERENCE_RE = /^\[[0-9A-Fa-f:.]+\]$/;

/**
 * Parses one Via value (already split at commas), or the range `s[start, end)`
 * of a longer text as if it had been sliced out. Returns `undefined` when malformed.
 */
export function parseVia(s: string, start = 0, end = s.length): Via | undefined {
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport, LWS allowed around the slashes
  let i = skipWs(s, start, end);
  let e: number;
  let protocol: string;
  let version: string;
  if (i + 8 <= end && matchAt(s, i, 'SIP/2.0/')) {
    // the form every RFC 3261 element sends
    protocol = 'SIP';
    version = '2.0';
    i = skipWs(s, i + 8, end);
  } else {
    e = scanToken(s, i, end);
    if (e === i) return undefined;
    protocol = s.slice(i, e);
    i = skipWs(s, e, end);
    if (i >= end || s.charCodeAt(i) !== 47) return undefined;
    i = skipWs(s, i + 1, end);
    e = scanToken(s, i, end);
    if (e === i) return undefined;
    version = s.slice(i, e);
    i = skipWs(s, e, end);
    if (i >= end || s.charCodeAt(i) !== 47) return undefined;
    i = skipWs(s, i + 1, end);
  }
  e = scanToken(s, i, end);
  if (e === i) return undefined;
  const transport = transportName(s, i, e);
  i = skipWs(s, e, end);
  const before = s.charCodeAt(i - 1);
  if (before !== 32 && before !== 9) return undefined;
  let host: string;
  if (i < end && s.charCodeAt(i) === 91) {
    const close = s.indexOf(']', i);
    if (close < 0 || close >= end) return undefined;
    host = s.slice(i, close + 1);
    if (!IPV6_REFERENCE_RE.test(host)) return undefined;
    i = close + 1;
  } else {
    e = scanHost(s, i, end);
    if (e === i) return undefined;
    host = s.slice(i, e);
    i = e;
  }
  i = skipWs(s, i, end);
  let port: number | undefined;
  if (i < end && s.charCodeAt(i) === 58) {
    i = skipWs(s, i + 1, end);
    let n = 0;
    e = i;
    for (; e < end; e++) {
      const c = s.charCodeAt(e);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
    }
    if (e === i || e - i > 5 || n > 65535) return undefined;
    port = n;
    i = e;
  }
  const params = new Parameters();
  const stop = parseParams(s, i, params, end);
  if (stop < 0 || skipWs(s, stop, end) !== end) return undefined;
  return new Via({ protocol, version, transport, host, port, params });
}

/** The transport token, as the upper-case constant for the usual ones. */
function transportName(s: string, i: number, e: number): string {
  switch (e - i) {
    case 3:
      if (matchAt(s, i, 'UDP')) return 'UDP';
      if (matchAt(s, i, 'TCP')) return 'TCP';
      if (matchAt(s, i, 'TLS')) return 'TLS';
      break;
    case 2:
      if (matchAt(s, i, 'WS')) return 'WS';
      break;
  }
  return s.slice(i, e);
}

function scanHost(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95) i++;
    else break;
  }
  return i;
}
