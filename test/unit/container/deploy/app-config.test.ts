import { describe, expect, it } from 'vitest';
import { LiveAppConfig } from '../../../../src/container/deploy/index.js';
import { capturingLogger } from './app-fixtures.js';

describe('LiveAppConfig', () => {
  it('reads top-level keys, dotted paths and defaults; a key containing a dot wins over the path', () => {
    const config = new LiveAppConfig({ a: 1, nested: { deep: { value: 'x' } }, 'nested.deep': 'literal' }, capturingLogger().logger);
    expect(config.get('a')).toBe(1);
    expect(config.get('nested.deep.value')).toBe('x');
    expect(config.get('nested.deep')).toBe('literal');
    expect(config.get('nested.missing')).toBeUndefined();
    expect(config.get('nested.missing', 7)).toBe(7);
    expect(config.get('a.b')).toBeUndefined();
  });

  it('hands out frozen values', () => {
    const config = new LiveAppConfig({ list: [1, 2], nested: { x: 1 } }, capturingLogger().logger);
    expect(Object.isFrozen(config.all())).toBe(true);
    expect(Object.isFrozen(config.get('list'))).toBe(true);
    expect(Object.isFrozen(config.get('nested'))).toBe(true);
  });

  it('tells listeners about a reload, logs one that throws, and forgets one that unsubscribed', () => {
    const { logger, records } = capturingLogger();
    const config = new LiveAppConfig({ mode: 'a' }, logger);
    const seen: unknown[] = [];
    config.onChange(() => {
      throw new Error('listener bug');
    });
    const off = config.onChange((c) => seen.push(c.get('mode')));
    config.replace({ mode: 'b' });
    off();
    config.replace({ mode: 'c' });
    expect(seen).toEqual(['b']);
    expect(config.get('mode')).toBe('c');
    expect(records.filter((r) => r['level'] === 50)).toHaveLength(2);
  });
});
