import { isIP } from 'node:net';

/**
 * The family of a numeric IP address (`[::1]` brackets allowed), or 0 for anything else (a host name).
 */
export function ipFamily(address: string): 0 | 4 | 6 {
  const kind = isIP(unbracket(address));
  return kind === 4 || kind === 6 ? kind : 0;
}

/** `[2001:db8::1]` → `2001:db8::1`; anything else unchanged. */
export function unbracket(host: string): string {
  return host.length > 1 && host.charCodeAt(0) === 0x5b && host.charCodeAt(host.length - 1) === 0x5d
    ? host.slice(1, -1)
    : host;
}

/** Map key for a remote endpoint: `address|port`. IPv6 addresses are compared as written. */
export function endpointKey(address: string, port: number): string {
  return `${unbracket(address).toLowerCase()}|${port}`;
}
