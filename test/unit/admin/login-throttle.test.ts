import { describe, expect, it } from 'vitest';
import { ConsoleSessions, LoginThrottle } from '../../../src/admin/index.js';

describe('LoginThrottle', () => {
  it('locks an address after maxFailures within the window, for lockMs, and a success clears it', () => {
    let now = 0;
    const throttle = new LoginThrottle({ maxFailures: 3, windowMs: 60_000, lockMs: 30_000, now: () => now });
    expect(throttle.fail('10.0.0.1')).toBe(0);
    expect(throttle.fail('10.0.0.1')).toBe(0);
    expect(throttle.retryAfter('10.0.0.1')).toBe(0);
    expect(throttle.fail('10.0.0.1')).toBe(30);
    expect(throttle.retryAfter('10.0.0.1')).toBe(30);
    expect(throttle.retryAfter('10.0.0.2')).toBe(0);
    now = 10_500;
    expect(throttle.retryAfter('10.0.0.1')).toBe(20);
    now = 30_000;
    expect(throttle.retryAfter('10.0.0.1')).toBe(0);
    throttle.fail('10.0.0.1');
    throttle.succeed('10.0.0.1');
    throttle.fail('10.0.0.1');
    throttle.fail('10.0.0.1');
    expect(throttle.retryAfter('10.0.0.1')).toBe(0);
  });

  it('forgets failures older than the window, and keeps at most maxTracked addresses', () => {
    let now = 0;
    const throttle = new LoginThrottle({ maxFailures: 2, windowMs: 1000, lockMs: 5000, maxTracked: 2, now: () => now });
    throttle.fail('a');
    now = 2000;
    expect(throttle.fail('a')).toBe(0);
    throttle.fail('b');
    throttle.fail('c'); // 'a' is forgotten
    expect(throttle.fail('a')).toBe(0);
  });
});

describe('ConsoleSessions', () => {
  it('creates unguessable sessions with a CSRF token, ends them when idle or too old', () => {
    let now = 0;
    const sessions = new ConsoleSessions({ idleMs: 1000, maxAgeMs: 5000, now: () => now });
    const a = sessions.create('admin', '127.0.0.1');
    const b = sessions.create('admin', '127.0.0.1');
    expect(a.id).not.toBe(b.id);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.csrfToken).not.toBe(a.id);
    expect(ConsoleSessions.csrfMatches(a, a.csrfToken)).toBe(true);
    expect(ConsoleSessions.csrfMatches(a, b.csrfToken)).toBe(false);
    expect(ConsoleSessions.csrfMatches(a, undefined)).toBe(false);
    for (let t = 900; t <= 4900; t += 900) {
      now = t;
      expect(sessions.get(a.id)).toBe(a);
    }
    now = 5100;
    expect(sessions.get(a.id)).toBeUndefined();
    expect(sessions.get(b.id)).toBeUndefined(); // idle since 0
    expect(sessions.get(undefined)).toBeUndefined();
  });

  it('ends every other session of an admin whose password changed', () => {
    const sessions = new ConsoleSessions();
    const keep = sessions.create('admin', '::1');
    const other = sessions.create('admin', '::1');
    const someoneElse = sessions.create('ops', '::1');
    sessions.deleteUser('admin', keep.id);
    expect(sessions.get(keep.id)).toBe(keep);
    expect(sessions.get(other.id)).toBeUndefined();
    expect(sessions.get(someoneElse.id)).toBe(someoneElse);
  });
});
