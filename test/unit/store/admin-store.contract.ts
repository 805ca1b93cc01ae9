import { afterEach, describe, expect, it } from 'vitest';
import type { AdminStore } from '../../../src/store/index.js';
import { SipletError } from '../../../src/util/index.js';

export type AdminStoreFactory = (clock: () => number) => { store: AdminStore; close?: () => void | Promise<void> };

/**
 * The behaviour every AdminStore shows. Run it from each implementation's test file:
 * `adminStoreContract('memory', (clock) => ({ store: new MemoryAdminStore({ now: clock }) }))`.
 */
export function adminStoreContract(name: string, factory: AdminStoreFactory): void {
  describe(`AdminStore contract: ${name}`, () => {
    const closers: (() => void | Promise<void>)[] = [];
    let now = 1_700_000_000_000;
    const make = (): AdminStore => {
      const made = factory(() => now);
      if (made.close) closers.push(made.close);
      return made.store;
    };

    afterEach(async () => {
      for (const close of closers.splice(0)) await close();
    });

    it('creates an account, verifies its password and nothing else, lists it without any hash', async () => {
      const admins = make();
      expect(await admins.accounts()).toEqual([]);
      await admins.setPassword('admin', 'first password');
      expect(await admins.verify('admin', 'first password')).toBe(true);
      expect(await admins.verify('admin', 'First password')).toBe(false);
      expect(await admins.verify('admin', '')).toBe(false);
      expect(await admins.verify('root', 'first password')).toBe(false);
      expect(await admins.accounts()).toEqual([{ username: 'admin', createdAt: now, updatedAt: now }]);
    });

    it('replaces the password of an existing account, keeping when it was created', async () => {
      const admins = make();
      const created = now;
      await admins.setPassword('admin', 'old one');
      now += 5000;
      await admins.setPassword('admin', 'new one');
      expect(await admins.verify('admin', 'old one')).toBe(false);
      expect(await admins.verify('admin', 'new one')).toBe(true);
      expect(await admins.accounts()).toEqual([{ username: 'admin', createdAt: created, updatedAt: now }]);
    });

    it('keeps several accounts sorted, removes one, refuses unknown ones and bad input', async () => {
      const admins = make();
      await admins.setPassword('ops', 'pw-ops');
      await admins.setPassword('admin', 'pw-admin');
      expect((await admins.accounts()).map((a) => a.username)).toEqual(['admin', 'ops']);
      await admins.remove('ops');
      expect((await admins.accounts()).map((a) => a.username)).toEqual(['admin']);
      await expect(admins.remove('ops')).rejects.toSatisfy((e: unknown) => SipletError.is(e, 'SIPLET_STORE_UNKNOWN_USER'));
      await expect(admins.setPassword('ad min', 'x')).rejects.toSatisfy((e: unknown) => SipletError.is(e, 'SIPLET_STORE_INVALID_INPUT'));
      await expect(admins.setPassword('admin', '')).rejects.toThrow(/password is empty/);
    });
  });
}
