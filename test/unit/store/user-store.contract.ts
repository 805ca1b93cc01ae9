import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SipletError, type SipletErrorCode } from '../../../src/util/index.js';
import type { UserStore } from '../../../src/store/index.js';

export type UserStoreFactory = () => { store: UserStore; close?: () => void | Promise<void> };

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const failsWith = (code: SipletErrorCode) => (e: unknown) => SipletError.is(e, code);

/**
 * The behaviour every UserStore shows. Run it from each implementation's test file:
 * `userStoreContract('memory', () => ({ store: new MemoryUserStore() }))`.
 */
export function userStoreContract(name: string, factory: UserStoreFactory): void {
  describe(`UserStore contract: ${name}`, () => {
    const closers: (() => void | Promise<void>)[] = [];
    const make = (): UserStore => {
      const made = factory();
      if (made.close) closers.push(made.close);
      return made.store;
    };

    afterEach(async () => {
      for (const close of closers.splice(0)) await close();
    });

    it('adds, lists, checks and removes realms, lower-cased', async () => {
      const users = make();
      await users.addRealm('Example.COM');
      await users.addRealm('10.0.0.1');
      await users.addRealm('a.example.org');
      expect(await users.realms()).toEqual(['10.0.0.1', 'a.example.org', 'example.com']);
      expect(await users.hasRealm('EXAMPLE.com')).toBe(true);
      expect(await users.hasRealm('other.example')).toBe(false);
      expect(await users.removeRealm('a.example.org')).toBe(0);
      expect(await users.realms()).toEqual(['10.0.0.1', 'example.com']);
    });

    it('refuses a duplicate realm, an unknown one, and malformed names', async () => {
      const users = make();
      await users.addRealm('example.com');
      await expect(users.addRealm('EXAMPLE.com')).rejects.toSatisfy(failsWith('SIPLET_STORE_DUPLICATE_REALM'));
      await expect(users.removeRealm('nope.example')).rejects.toSatisfy(failsWith('SIPLET_STORE_UNKNOWN_REALM'));
      for (const bad of ['', ' ', 'exa mple.com', 'example..com', '-example.com', 'alice@example.com', 'example.com:5060']) {
        await expect(users.addRealm(bad), bad).rejects.toSatisfy(failsWith('SIPLET_STORE_INVALID_INPUT'));
      }
    });

    it('stores HA1 hashes, MD5 and SHA-256, and hands them out as credentials with the roles', async () => {
      const users = make();
      await users.addRealm('example.com');
      await users.addUser('alice', 'Example.com', 'wonderland', ['admin', 'operator', 'admin']);
      expect(users.credentials('example.com', 'alice')).toEqual({
        username: 'alice',
        realm: 'example.com',
        ha1Md5: md5('alice:example.com:wonderland'),
        ha1Sha256: sha256('alice:example.com:wonderland'),
        roles: ['admin', 'operator'],
      });
      expect(users.credentials('example.com', 'Alice')).toBeUndefined(); // user names are case-sensitive
      expect(users.credentials('other.example', 'alice')).toBeUndefined();
    });

    it('lists users without their hashes, by realm then name', async () => {
      const users = make();
      await users.addRealm('b.example');
      await users.addRealm('a.example');
      await users.addUser('zed', 'a.example', 'pw1');
      await users.addUser('bob', 'b.example', 'pw2', ['user']);
      await users.addUser('amy', 'a.example', 'pw3');
      expect(await users.users()).toEqual([
        { username: 'amy', realm: 'a.example', roles: [] },
        { username: 'zed', realm: 'a.example', roles: [] },
        { username: 'bob', realm: 'b.example', roles: ['user'] },
      ]);
      expect(await users.users('B.example')).toEqual([{ username: 'bob', realm: 'b.example', roles: ['user'] }]);
      await expect(users.users('c.example')).rejects.toSatisfy(failsWith('SIPLET_STORE_UNKNOWN_REALM'));
    });

    it('refuses a user of an unknown realm, a duplicate user, an empty password and malformed names', async () => {
      const users = make();
      await users.addRealm('example.com');
      await expect(users.addUser('alice', 'nope.example', 'pw')).rejects.toSatisfy(failsWith('SIPLET_STORE_UNKNOWN_REALM'));
      await users.addUser('alice', 'example.com', 'pw');
      await expect(users.addUser('alice', 'example.com', 'other')).rejects.toSatisfy(failsWith('SIPLET_STORE_DUPLICATE_USER'));
      await expect(users.addUser('bob', 'example.com', '')).rejects.toSatisfy(failsWith('SIPLET_STORE_INVALID_INPUT'));
      for (const bad of ['', 'a b', 'a@b', 'a:b', 'a\nb']) {
        await expect(users.addUser(bad, 'example.com', 'pw'), JSON.stringify(bad)).rejects.toSatisfy(failsWith('SIPLET_STORE_INVALID_INPUT'));
      }
      await expect(users.addUser('bob', 'example.com', 'pw', ['bad role'])).rejects.toSatisfy(failsWith('SIPLET_STORE_INVALID_INPUT'));
      expect((await users.users()).map((u) => u.username)).toEqual(['alice']);
    });

    it('changes a password: new hashes, same roles; refuses an unknown user and an empty password', async () => {
      const users = make();
      await users.addRealm('example.com');
      await users.addUser('alice', 'example.com', 'old', ['admin']);
      await users.setPassword('alice', 'example.com', 'new');
      expect(users.credentials('example.com', 'alice')).toMatchObject({ ha1Md5: md5('alice:example.com:new'), ha1Sha256: sha256('alice:example.com:new'), roles: ['admin'] });
      await expect(users.setPassword('bob', 'example.com', 'pw')).rejects.toSatisfy(failsWith('SIPLET_STORE_UNKNOWN_USER'));
      await expect(users.setPassword('alice', 'example.com', '')).rejects.toSatisfy(failsWith('SIPLET_STORE_INVALID_INPUT'));
      await expect(users.setPassword('alice', 'nope.example', 'pw')).rejects.toSatisfy(failsWith('SIPLET_STORE_UNKNOWN_REALM'));
    });

    it('removes a user; removing a realm removes its users', async () => {
      const users = make();
      await users.addRealm('example.com');
      await users.addRealm('other.example');
      await users.addUser('alice', 'example.com', 'pw');
      await users.addUser('bob', 'example.com', 'pw');
      await users.addUser('alice', 'other.example', 'pw');
      await users.removeUser('bob', 'example.com');
      await expect(users.removeUser('bob', 'example.com')).rejects.toSatisfy(failsWith('SIPLET_STORE_UNKNOWN_USER'));
      expect(await users.removeRealm('example.com')).toBe(1);
      expect(users.credentials('example.com', 'alice')).toBeUndefined();
      expect(await users.users()).toEqual([{ username: 'alice', realm: 'other.example', roles: [] }]);
      // A realm added again starts empty.
      await users.addRealm('example.com');
      expect(await users.users('example.com')).toEqual([]);
    });
  });
}
