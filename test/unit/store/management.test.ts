import { describe, expect, it } from 'vitest';
import { createMemoryDataStore, Management, parseUserAddress } from '../../../src/store/index.js';
import { SipletError } from '../../../src/util/index.js';

const failsWith = (code: string) => (e: unknown) => SipletError.is(e) && e.code === code;

describe('Management', () => {
  it('manages realms and users, with user counts and roles', async () => {
    const store = createMemoryDataStore();
    const manage = new Management(store);
    expect(await manage.addRealm({ realm: 'Example.com' })).toBe('example.com');
    await manage.addRealm({ realm: 'other.example' });
    expect(await manage.addUser({ user: 'alice', realm: 'EXAMPLE.com', password: 'pw', roles: ['b', 'a'] })).toEqual({ username: 'alice', realm: 'example.com', roles: ['a', 'b'] });
    await manage.addUser({ user: 'bob', realm: 'example.com', password: 'pw' });
    expect(await manage.listRealms()).toEqual([
      { realm: 'example.com', users: 2 },
      { realm: 'other.example', users: 0 },
    ]);
    expect((await manage.listUsers({ realm: 'example.com' })).map((u) => u.username)).toEqual(['alice', 'bob']);
    await manage.setPassword({ user: 'bob', realm: 'example.com', password: 'new' });
    await manage.removeUser({ user: 'bob', realm: 'example.com' });
    expect(await manage.removeRealm({ realm: 'example.com' })).toEqual({ realm: 'example.com', usersRemoved: 1 });
    expect(await manage.listUsers()).toEqual([]);
  });

  it('checks a user before a password is asked for', async () => {
    const manage = new Management(createMemoryDataStore());
    await expect(manage.checkUser({ user: 'alice', realm: 'example.com', exists: false })).rejects.toSatisfy(failsWith('SIPLET_STORE_UNKNOWN_REALM'));
    await manage.addRealm({ realm: 'example.com' });
    await manage.checkUser({ user: 'alice', realm: 'example.com', exists: false });
    await expect(manage.checkUser({ user: 'alice', realm: 'example.com', exists: true })).rejects.toSatisfy(failsWith('SIPLET_STORE_UNKNOWN_USER'));
    await manage.addUser({ user: 'alice', realm: 'example.com', password: 'pw' });
    await manage.checkUser({ user: 'alice', realm: 'example.com', exists: true });
    await expect(manage.checkUser({ user: 'alice', realm: 'example.com', exists: false })).rejects.toSatisfy(failsWith('SIPLET_STORE_DUPLICATE_USER'));
  });

  it('lists and removes registrations', async () => {
    const store = createMemoryDataStore();
    const manage = new Management(store);
    const now = Date.now();
    for (const uri of ['sip:a@10.0.0.1', 'sip:a@10.0.0.2']) {
      await store.location.put({ aor: 'sip:a@example.com', uri, contact: `<${uri}>`, expires: now + 60_000, q: 1, callId: 'c', cseq: 1, path: [], updatedAt: now });
    }
    await store.location.put({ aor: 'sip:b@example.com', uri: 'sip:b@10.0.0.3', contact: '<sip:b@10.0.0.3>', expires: now + 60_000, q: 1, callId: 'c', cseq: 1, path: [], updatedAt: now });
    expect(await manage.listRegistrations()).toHaveLength(3);
    expect(await manage.listRegistrations({ aor: 'sip:a@EXAMPLE.com' })).toHaveLength(2);
    expect(await manage.removeRegistrations({ aor: 'sip:a@example.com', uri: 'sip:a@10.0.0.1' })).toBe(1);
    expect(await manage.removeRegistrations({ aor: 'sip:a@example.com', uri: 'sip:a@10.0.0.1' })).toBe(0);
    expect(await manage.removeRegistrations({ aor: 'sip:a@example.com' })).toBe(1);
    expect((await manage.listRegistrations()).map((b) => b.aor)).toEqual(['sip:b@example.com']);
    await expect(manage.removeRegistrations({ aor: 'tel:+1555' })).rejects.toSatisfy(failsWith('SIPLET_STORE_INVALID_INPUT'));
  });

  it('parses user@realm', () => {
    expect(parseUserAddress('alice@Example.COM')).toEqual({ user: 'alice', realm: 'example.com' });
    for (const bad of ['alice', '@example.com', 'alice@', 'a b@example.com', 'alice@bad realm']) {
      expect(() => parseUserAddress(bad), bad).toThrow(SipletError);
    }
  });
});
