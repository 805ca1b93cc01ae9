import { afterEach, describe, expect, it } from 'vitest';
import { MAX_APP_DATA_VALUE, type AppDataStore } from '../../../src/store/index.js';
import { SipletError } from '../../../src/util/index.js';

export type AppDataStoreFactory = (clock: () => number) => { store: AppDataStore; close?: () => void | Promise<void> };

const invalid = (e: unknown): boolean => SipletError.is(e, 'SIPLET_STORE_INVALID_INPUT');

/**
 * The behaviour every AppDataStore shows. Run it from each implementation's test file:
 * `appDataStoreContract('memory', (clock) => ({ store: new MemoryAppDataStore({ now: clock }) }))`.
 */
export function appDataStoreContract(name: string, factory: AppDataStoreFactory): void {
  describe(`AppDataStore contract: ${name}`, () => {
    const closers: (() => void | Promise<void>)[] = [];
    let now = 1_000;
    const make = (): AppDataStore => {
      const made = factory(() => now);
      if (made.close) closers.push(made.close);
      return made.store;
    };

    afterEach(async () => {
      for (const close of closers.splice(0)) await close();
    });

    it('writes, reads back a copy, replaces and deletes JSON values per application', async () => {
      const data = make();
      const value = { list: [1, 'two'], nested: { ok: true } };
      await data.set('app-a', 'k', value);
      const read = await data.get('app-a', 'k');
      expect(read).toEqual({ key: 'k', value, updatedAt: 1_000 });
      (read?.value as { list: unknown[] }).list.push('changed');
      expect((await data.get('app-a', 'k'))?.value).toEqual(value);
      expect(await data.get('app-b', 'k')).toBeUndefined();
      now = 2_000;
      await data.set('app-a', 'k', 'replaced');
      expect(await data.get('app-a', 'k')).toEqual({ key: 'k', value: 'replaced', updatedAt: 2_000 });
      expect(await data.delete('app-a', 'k')).toBe(true);
      expect(await data.delete('app-a', 'k')).toBe(false);
      expect(await data.get('app-a', 'k')).toBeUndefined();
      for (const v of [null, 0, false, '', []]) {
        await data.set('app-a', 'v', v);
        expect((await data.get('app-a', 'v'))?.value).toEqual(v);
      }
    });

    it('lists by exact key prefix, sorted, with no LIKE wildcards', async () => {
      const data = make();
      for (const key of ['blocked:bob', 'blocked:alice', 'blocked_x', 'blocked%', 'other', 'Blocked:carol']) await data.set('app', key, key);
      await data.set('another', 'blocked:zed', 1);
      expect((await data.list('app', 'blocked:')).map((e) => e.key)).toEqual(['blocked:alice', 'blocked:bob']);
      expect((await data.list('app', 'blocked%')).map((e) => e.key)).toEqual(['blocked%']);
      expect((await data.list('app')).map((e) => e.key)).toEqual(['Blocked:carol', 'blocked%', 'blocked:alice', 'blocked:bob', 'blocked_x', 'other']);
      expect(await data.list('nobody')).toEqual([]);
      expect(await data.apps()).toEqual(['another', 'app']);
    });

    it('refuses bad application names, keys and values with SIPLET_STORE_INVALID_INPUT', async () => {
      const data = make();
      await expect(data.set('', 'k', 1)).rejects.toSatisfy(invalid);
      await expect(data.set('../x', 'k', 1)).rejects.toSatisfy(invalid);
      await expect(data.set('app', '', 1)).rejects.toSatisfy(invalid);
      await expect(data.set('app', 'k'.repeat(257), 1)).rejects.toSatisfy(invalid);
      await expect(data.set('app', 'k', undefined)).rejects.toSatisfy(invalid);
      await expect(data.set('app', 'k', () => 1)).rejects.toSatisfy(invalid);
      await expect(data.set('app', 'k', 10n)).rejects.toSatisfy(invalid);
      const cyclic: Record<string, unknown> = {};
      cyclic['self'] = cyclic;
      await expect(data.set('app', 'k', cyclic)).rejects.toSatisfy(invalid);
      await expect(data.set('app', 'k', 'x'.repeat(MAX_APP_DATA_VALUE))).rejects.toSatisfy(invalid);
      await data.set('app', 'k', 'x'.repeat(MAX_APP_DATA_VALUE - 2));
      expect(await data.list('app')).toHaveLength(1);
    });
  });
}
