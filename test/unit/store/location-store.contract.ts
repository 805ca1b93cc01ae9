import { afterEach, describe, expect, it } from 'vitest';
import { SipletError } from '../../../src/util/index.js';
import type { Binding, LocationStore } from '../../../src/store/index.js';

/** Makes a store on the given clock; `close` (optional) releases what it holds. */
export type LocationStoreFactory = (clock: () => number) => { store: LocationStore; close?: () => void | Promise<void> };

export const T0 = 1_700_000_000_000;

/** A binding of `aor` to `uri`, expiring in an hour, with the rest defaulted. */
export function binding(aor: string, uri: string, extra: Partial<Binding> = {}): Binding {
  return { aor, uri, contact: `<${uri}>`, expires: T0 + 3_600_000, q: 1, callId: 'call-1', cseq: 1, path: [], updatedAt: T0, ...extra };
}

/**
 * The behaviour every LocationStore shows. Run it from each implementation's test file:
 * `locationStoreContract('memory', (clock) => ({ store: new MemoryLocationStore({ now: clock }) }))`.
 */
export function locationStoreContract(name: string, factory: LocationStoreFactory): void {
  describe(`LocationStore contract: ${name}`, () => {
    let now = T0;
    const clock = (): number => now;
    const closers: (() => void | Promise<void>)[] = [];
    const make = (): LocationStore => {
      now = T0;
      const made = factory(clock);
      if (made.close) closers.push(made.close);
      return made.store;
    };

    afterEach(async () => {
      for (const close of closers.splice(0)) await close();
    });

    it('stores a binding with every field and returns it from lookup', async () => {
      const store = make();
      const full = binding('sip:alice@example.com', 'sip:alice@10.0.0.1:5060;transport=tcp', {
        contact: '<sip:alice@10.0.0.1:5060;transport=tcp>;q=0.7;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000a95a0e128>";reg-id=1',
        q: 0.7,
        callId: 'abc@10.0.0.1',
        cseq: 42,
        path: ['<sip:edge1.example.com;lr>', '<sip:edge2.example.com;lr>'],
        instance: '<urn:uuid:00000000-0000-1000-8000-000a95a0e128>',
        regId: 1,
        source: { address: '10.0.0.1', port: 5060, protocol: 'tcp' },
      });
      await store.put(full);
      expect(await store.lookup('sip:alice@example.com')).toEqual([full]);
    });

    it('leaves optional fields out when they were not given', async () => {
      const store = make();
      await store.put(binding('sip:bob@example.com', 'sip:bob@10.0.0.2'));
      const [b] = await store.lookup('sip:bob@example.com');
      expect(b).toEqual(binding('sip:bob@example.com', 'sip:bob@10.0.0.2'));
      expect(b && 'instance' in b).toBe(false);
      expect(b && 'regId' in b).toBe(false);
      expect(b && 'source' in b).toBe(false);
    });

    it('normalises addresses of record: scheme, user, lower-cased host and port, no parameters', async () => {
      const store = make();
      await store.put(binding('sip:Alice@EXAMPLE.com;transport=tcp', 'sip:alice@10.0.0.1'));
      const found = await store.lookup('sip:Alice@example.COM');
      expect(found.map((b) => b.aor)).toEqual(['sip:Alice@example.com']);
      expect(await store.lookup('sip:alice@example.com')).toEqual([]); // the user part is case-sensitive
      expect(await store.lookup('sips:Alice@example.com')).toEqual([]); // so is the scheme
      expect(await store.lookup('sip:Alice@example.com:5060')).toEqual([]); // a written port counts
      await store.put(binding('sip:carol@example.com:5070', 'sip:carol@10.0.0.3'));
      expect(await store.aors()).toEqual(['sip:Alice@example.com', 'sip:carol@example.com:5070']);
    });

    it('refuses an address of record that is not a sip or sips URI, and malformed bindings', async () => {
      const store = make();
      await expect(store.lookup('tel:+15551234567')).rejects.toSatisfy((e) => SipletError.is(e, 'SIPLET_STORE_INVALID_INPUT'));
      await expect(store.put(binding('mailto:a@example.com', 'sip:a@10.0.0.1'))).rejects.toSatisfy((e) => SipletError.is(e, 'SIPLET_STORE_INVALID_INPUT'));
      await expect(store.put(binding('sip:a@example.com', 'sip:a@10.0.0.1', { q: 1.5 }))).rejects.toSatisfy((e) => SipletError.is(e, 'SIPLET_STORE_INVALID_INPUT'));
      await expect(store.put(binding('sip:a@example.com', ''))).rejects.toSatisfy((e) => SipletError.is(e, 'SIPLET_STORE_INVALID_INPUT'));
      await expect(store.put(binding('sip:a@example.com', 'sip:a@10.0.0.1', { cseq: -1 }))).rejects.toSatisfy((e) => SipletError.is(e, 'SIPLET_STORE_INVALID_INPUT'));
      expect(await store.all()).toEqual([]);
    });

    it('replaces the binding with the same address of record and contact URI', async () => {
      const store = make();
      await store.put(binding('sip:alice@example.com', 'sip:alice@10.0.0.1', { cseq: 1 }));
      await store.put(binding('sip:alice@example.com', 'sip:alice@10.0.0.1', { cseq: 2, expires: T0 + 60_000, updatedAt: T0 + 1 }));
      const found = await store.lookup('sip:alice@example.com');
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ cseq: 2, expires: T0 + 60_000, updatedAt: T0 + 1 });
    });

    it('orders lookup by q descending, then the newest first', async () => {
      const store = make();
      await store.put(binding('sip:alice@example.com', 'sip:a@10.0.0.1', { q: 0.5, updatedAt: T0 + 3 }));
      await store.put(binding('sip:alice@example.com', 'sip:b@10.0.0.2', { q: 1, updatedAt: T0 + 1 }));
      await store.put(binding('sip:alice@example.com', 'sip:c@10.0.0.3', { q: 0.5, updatedAt: T0 + 5 }));
      await store.put(binding('sip:alice@example.com', 'sip:d@10.0.0.4', { q: 0.9, updatedAt: T0 + 2 }));
      expect((await store.lookup('sip:alice@example.com')).map((b) => b.uri)).toEqual(['sip:b@10.0.0.2', 'sip:d@10.0.0.4', 'sip:c@10.0.0.3', 'sip:a@10.0.0.1']);
    });

    it('never returns an expired binding, before or after purgeExpired, which deletes them', async () => {
      const store = make();
      await store.put(binding('sip:alice@example.com', 'sip:a@10.0.0.1', { expires: T0 + 1000 }));
      await store.put(binding('sip:alice@example.com', 'sip:b@10.0.0.2', { expires: T0 + 5000 }));
      await store.put(binding('sip:bob@example.com', 'sip:bob@10.0.0.3', { expires: T0 + 1000 }));
      now = T0 + 1000; // expires <= now is expired
      expect((await store.lookup('sip:alice@example.com')).map((b) => b.uri)).toEqual(['sip:b@10.0.0.2']);
      expect(await store.aors()).toEqual(['sip:alice@example.com']);
      expect((await store.all()).map((b) => b.uri)).toEqual(['sip:b@10.0.0.2']);
      expect(await store.purgeExpired()).toBe(2);
      expect(await store.purgeExpired()).toBe(0);
      expect(await store.purgeExpired(T0 + 5000)).toBe(1);
      now = T0;
      expect(await store.all()).toEqual([]);
    });

    it('removes one binding, or all bindings of an address of record', async () => {
      const store = make();
      await store.put(binding('sip:alice@example.com', 'sip:a@10.0.0.1'));
      await store.put(binding('sip:alice@example.com', 'sip:b@10.0.0.2'));
      await store.put(binding('sip:alice@example.com', 'sip:c@10.0.0.3'));
      await store.put(binding('sip:bob@example.com', 'sip:bob@10.0.0.4'));
      expect(await store.remove('sip:alice@EXAMPLE.com', 'sip:a@10.0.0.1')).toBe(true);
      expect(await store.remove('sip:alice@example.com', 'sip:a@10.0.0.1')).toBe(false);
      expect((await store.lookup('sip:alice@example.com')).map((b) => b.uri).sort()).toEqual(['sip:b@10.0.0.2', 'sip:c@10.0.0.3']);
      expect(await store.removeAll('sip:alice@example.com')).toBe(2);
      expect(await store.removeAll('sip:alice@example.com')).toBe(0);
      expect(await store.aors()).toEqual(['sip:bob@example.com']);
    });

    it('applies an update atomically and returns the bindings after it', async () => {
      const store = make();
      await store.put(binding('sip:alice@example.com', 'sip:a@10.0.0.1'));
      await store.put(binding('sip:alice@example.com', 'sip:b@10.0.0.2'));
      const after = await store.update('sip:alice@example.com', {
        remove: ['sip:a@10.0.0.1'],
        put: [binding('sip:alice@example.com', 'sip:c@10.0.0.3', { q: 0.5 }), binding('sip:alice@example.com', 'sip:b@10.0.0.2', { cseq: 2 })],
      });
      expect(after.map((b) => [b.uri, b.cseq])).toEqual([
        ['sip:b@10.0.0.2', 2],
        ['sip:c@10.0.0.3', 1],
      ]);
      // A bad binding in the batch changes nothing.
      await expect(
        store.update('sip:alice@example.com', { remove: ['sip:b@10.0.0.2'], put: [binding('sip:alice@example.com', 'sip:d@10.0.0.4', { q: 2 })] }),
      ).rejects.toSatisfy((e) => SipletError.is(e, 'SIPLET_STORE_INVALID_INPUT'));
      // So does a binding of another address of record.
      await expect(store.update('sip:alice@example.com', { remove: ['sip:b@10.0.0.2'], put: [binding('sip:bob@example.com', 'sip:d@10.0.0.4')] })).rejects.toSatisfy((e) =>
        SipletError.is(e, 'SIPLET_STORE_INVALID_INPUT'),
      );
      expect((await store.lookup('sip:alice@example.com')).map((b) => b.uri)).toEqual(['sip:b@10.0.0.2', 'sip:c@10.0.0.3']);
    });

    it('lists every current binding by address of record', async () => {
      const store = make();
      await store.put(binding('sip:zoe@example.com', 'sip:z@10.0.0.9'));
      await store.put(binding('sip:alice@example.com', 'sip:a2@10.0.0.2', { q: 0.1 }));
      await store.put(binding('sip:alice@example.com', 'sip:a1@10.0.0.1', { q: 0.9 }));
      expect((await store.all()).map((b) => `${b.aor} ${b.uri}`)).toEqual([
        'sip:alice@example.com sip:a1@10.0.0.1',
        'sip:alice@example.com sip:a2@10.0.0.2',
        'sip:zoe@example.com sip:z@10.0.0.9',
      ]);
    });

    it('hands out copies: changing a returned binding changes nothing stored', async () => {
      const store = make();
      await store.put(binding('sip:alice@example.com', 'sip:a@10.0.0.1', { path: ['<sip:p1;lr>'] }));
      const [b] = await store.lookup('sip:alice@example.com');
      (b?.path as string[]).push('<sip:evil;lr>');
      expect((await store.lookup('sip:alice@example.com'))[0]?.path).toEqual(['<sip:p1;lr>']);
    });
  });
}
