import { describe, expect, it } from 'vitest';
import { randomText } from '../../../src/util/index.js';

describe('randomText', () => {
  it('gives the asked number of bytes in the asked encoding', () => {
    expect(randomText(6, 'hex')).toMatch(/^[0-9a-f]{12}$/);
    expect(randomText(9, 'base64url')).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(randomText(12, 'base64url')).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it('never repeats across many pool refills (each byte is handed out once)', () => {
    const seen = new Set<string>();
    // 6-byte tags: 4096 / 6 per pool, so this crosses about 30 refills, with odd leftovers at each.
    for (let i = 0; i < 20_000; i++) seen.add(randomText(6, 'hex'));
    expect(seen.size).toBe(20_000);
  });

  it('draws requests larger than the pool on their own', () => {
    expect(randomText(5000, 'hex')).toMatch(/^[0-9a-f]{10000}$/);
  });

  it('spreads its bytes: every hex digit shows up about equally often', () => {
    const counts = new Map<string, number>();
    for (const digit of Array.from({ length: 2000 }, () => randomText(16, 'hex')).join('')) counts.set(digit, (counts.get(digit) ?? 0) + 1);
    expect(counts.size).toBe(16);
    // 64,000 digits: 4,000 expected each; a uniform source stays well within ±15%.
    for (const count of counts.values()) expect(Math.abs(count - 4000)).toBeLessThan(600);
  });
});
