/**
 * The loopback-only rule of /admin: the TCP peer's address decides (injected here as the socket's
 * remoteAddress), never a forwarding header; --admin-allow adds networks.
 */
import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { AddressFilter, addressGuard } from '../../../src/admin/index.js';
import { silentLogger } from '../../../src/util/index.js';

interface Answer {
  status?: number;
  type?: string;
  body?: unknown;
  passed: boolean;
}

/** Runs the guard on a request from `remoteAddress` for `path`; what it answered, or that it passed. */
function guard(filter: AddressFilter, remoteAddress: string | undefined, path: string, headers: Record<string, string> = {}): Answer {
  const answer: Answer = { passed: false };
  const req = { socket: { remoteAddress }, path, originalUrl: `/admin${path}`, method: 'GET', headers } as unknown as Request;
  const res = {
    status(code: number) {
      answer.status = code;
      return this;
    },
    type(t: string) {
      answer.type = t;
      return this;
    },
    json(body: unknown) {
      answer.body = body;
      return this;
    },
    send(body: unknown) {
      answer.body = body;
      return this;
    },
  } as unknown as Response;
  addressGuard(filter, silentLogger())(req, res, () => {
    answer.passed = true;
  });
  return answer;
}

describe('AddressFilter', () => {
  it('allows loopback (IPv4, IPv6, IPv4-mapped) and nothing else by default', () => {
    const filter = new AddressFilter();
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(filter.allows(a), a).toBe(true);
    for (const a of ['10.0.0.1', '192.168.1.20', '::ffff:10.0.0.1', 'fd00::1', '2001:db8::1', 'localhost', '', undefined]) expect(filter.allows(a), String(a)).toBe(false);
  });

  it('adds the networks of --admin-allow', () => {
    const filter = new AddressFilter(['10.0.0.0/8', '192.168.1.20/32', 'fd00::/8']);
    expect(filter.allows('10.200.3.4')).toBe(true);
    expect(filter.allows('::ffff:10.200.3.4')).toBe(true);
    expect(filter.allows('192.168.1.20')).toBe(true);
    expect(filter.allows('192.168.1.21')).toBe(false);
    expect(filter.allows('fd12::7')).toBe(true);
    expect(filter.allows('11.0.0.1')).toBe(false);
    expect(filter.networks).toEqual(['10.0.0.0/8', '192.168.1.20/32', 'fd00::/8']);
  });

  it('refuses a malformed network', () => {
    expect(() => new AddressFilter(['10.0.0/8'])).toThrow(/not a network/);
  });
});

describe('the /admin address guard', () => {
  it('passes loopback clients', () => {
    expect(guard(new AddressFilter(), '127.0.0.1', '/api/apps').passed).toBe(true);
    expect(guard(new AddressFilter(), '::1', '/').passed).toBe(true);
  });

  it('refuses other clients with 403 saying how to allow them, JSON for the API and text for the console', () => {
    const api = guard(new AddressFilter(), '192.0.2.7', '/api/apps');
    expect(api.passed).toBe(false);
    expect(api.status).toBe(403);
    expect(api.body).toEqual({
      error: {
        code: 'SIPLET_ADMIN_FORBIDDEN',
        message: expect.stringMatching(/answers only loopback addresses; 192\.0\.2\.7 is not allowed\..*--admin-allow <CIDR list>/),
      },
    });
    const page = guard(new AddressFilter(), '192.0.2.7', '/');
    expect(page).toMatchObject({ passed: false, status: 403, type: 'text/plain' });
    expect(String(page.body)).toContain('--admin-allow');
  });

  it('is not fooled by X-Forwarded-For or Forwarded', () => {
    const answer = guard(new AddressFilter(), '198.51.100.9', '/api/apps', { 'x-forwarded-for': '127.0.0.1', forwarded: 'for=127.0.0.1' });
    expect(answer).toMatchObject({ passed: false, status: 403 });
  });

  it('passes clients of an allowed network and names the networks when refusing others', () => {
    const filter = new AddressFilter(['10.0.0.0/8']);
    expect(guard(filter, '::ffff:10.1.1.1', '/api/stats').passed).toBe(true);
    const refused = guard(filter, '172.16.0.1', '/api/stats');
    expect((refused.body as { error: { message: string } }).error.message).toContain('loopback addresses and 10.0.0.0/8');
  });
});
