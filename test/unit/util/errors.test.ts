import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, SipletError } from '../../../src/util/index.js';

describe('SipletError', () => {
  it('carries the code, the given message and the catalog status', () => {
    const error = new SipletError('SIPLET_INTERNAL', 'boom: report it');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SipletError');
    expect(error.code).toBe('SIPLET_INTERNAL');
    expect(error.message).toBe('boom: report it');
    expect(error.sipStatus).toBe(500);
  });

  it('falls back to the catalog message and lets the caller override the status', () => {
    const error = new SipletError('SIPLET_LISTEN_FAILED', undefined, { sipStatus: 503, cause: new Error('EADDRINUSE') });
    expect(error.message).toBe(ERROR_CATALOG.SIPLET_LISTEN_FAILED.message);
    expect(error.sipStatus).toBe(503);
    expect((error.cause as Error).message).toBe('EADDRINUSE');
  });

  it('is recognised by code', () => {
    const error = new SipletError('SIPLET_CONFIG_INVALID');
    expect(SipletError.is(error)).toBe(true);
    expect(SipletError.is(error, 'SIPLET_CONFIG_INVALID')).toBe(true);
    expect(SipletError.is(error, 'SIPLET_INTERNAL')).toBe(false);
    expect(SipletError.is(new Error('x'))).toBe(false);
  });
});

describe('the catalog', () => {
  it('uses SIPLET_ codes and lists exactly the codes docs/errors.md lists', () => {
    const codes = Object.keys(ERROR_CATALOG).sort();
    for (const code of codes) expect(code).toMatch(/^SIPLET_[A-Z0-9_]+$/);
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `(SIPLET_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(codes);
  });
});
