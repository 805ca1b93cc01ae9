import { afterEach, describe, expect, it } from 'vitest';
import { cookieValues, HttpSessionTable, queryParam, type HttpSessionRecord } from '../../../../src/container/converged/index.js';

describe('cookieValues', () => {
  it('finds every value of the named cookie (RFC 6265 §5.4), quoted or not, and nothing of similar names', () => {
    expect(cookieValues('a=1; siplet-session=abc; b=2', 'siplet-session')).toEqual(['abc']);
    expect(cookieValues('siplet-session=one;siplet-session="two"', 'siplet-session')).toEqual(['one', 'two']);
    expect(cookieValues('xsiplet-session=no; siplet-sessions=no; siplet-session=', 'siplet-session')).toEqual([]);
    expect(cookieValues(undefined, 'siplet-session')).toEqual([]);
  });
});

describe('queryParam', () => {
  it('reads one parameter of a request target, decoded', () => {
    expect(queryParam('/app/x?siplet-as=ab%2Bc&y=1', 'siplet-as')).toBe('ab+c');
    expect(queryParam('/app/x?y=1&siplet-as=abc#frag', 'siplet-as')).toBe('abc');
    expect(queryParam('/app/x?siplet-as=', 'siplet-as')).toBeUndefined();
    expect(queryParam('/app/siplet-as', 'siplet-as')).toBeUndefined();
    expect(queryParam(undefined, 'siplet-as')).toBeUndefined();
  });
});

describe('HttpSessionTable', () => {
  const tables: HttpSessionTable[] = [];
  afterEach(() => {
    for (const t of tables.splice(0)) t.close();
  });

  function table(options: { timeoutMs?: number; maxSessions?: number } = {}) {
    let now = 0;
    const removed: string[] = [];
    const t = new HttpSessionTable({ timeoutMs: options.timeoutMs ?? 1000, maxSessions: options.maxSessions, now: () => now, onRemoved: (r: HttpSessionRecord) => void removed.push(r.id) });
    tables.push(t);
    return { t, removed, at: (ms: number) => void (now = ms) };
  }

  it('gives unguessable ids and finds a session until it has been idle for the timeout', () => {
    const { t, removed, at } = table();
    const a = t.create();
    expect(a.id).toMatch(/^[\w-]{24}$/);
    expect(t.create().id).not.toBe(a.id);
    at(999);
    expect(t.get(a.id)).toBe(a);
    at(1998);
    expect(t.get(a.id)).toBe(a);
    at(2998);
    expect(t.get(a.id)).toBeUndefined();
    expect(removed).toEqual([a.id]);
  });

  it('sweeps idle sessions, oldest first, and tells of each', () => {
    const { t, removed, at } = table();
    const a = t.create();
    at(500);
    const b = t.create();
    at(1200);
    t.sweep();
    expect(removed).toEqual([a.id]);
    expect(t.size).toBe(1);
    t.delete(b.id);
    t.delete(b.id);
    expect(removed).toEqual([a.id, b.id]);
  });

  it('drops the least recently used session past its size', () => {
    const { t, removed, at } = table({ maxSessions: 2 });
    const a = t.create();
    at(1);
    const b = t.create();
    at(2);
    t.get(a.id);
    const c = t.create();
    expect(removed).toEqual([b.id]);
    expect([t.get(a.id), t.get(c.id)]).toEqual([a, c]);
  });

  it('tells of every session when closed', () => {
    const { t, removed } = table();
    const ids = [t.create().id, t.create().id];
    t.close();
    expect(removed).toEqual(ids);
    expect(t.size).toBe(0);
  });
});
