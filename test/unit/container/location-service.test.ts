import { describe, expect, it } from 'vitest';
import { StoreLocationService } from '../../../src/container/index.js';
import { SipUri, parseUri } from '../../../src/sip/message/index.js';
import { createMemoryDataStore } from '../../../src/store/index.js';

async function service() {
  const store = createMemoryDataStore();
  await store.users.addRealm('example.com');
  await store.users.addUser('alice', 'example.com', 'pw');
  // This server: 127.0.0.1:5060 and the configured domain sip.example.net.
  const locations = new StoreLocationService({
    store,
    isLocalDomain: (uri: SipUri) => uri.hostname === 'sip.example.net' || (uri.host === '127.0.0.1' && (uri.port ?? 5060) === 5060),
  });
  return { store, locations };
}

describe('StoreLocationService', () => {
  it('isLocal: its realms (read live), configured domains and own address; only sip and sips', async () => {
    const { store, locations } = await service();
    expect(await locations.isLocal('sip:bob@EXAMPLE.com')).toBe(true);
    expect(await locations.isLocal('sips:bob@example.com:5061')).toBe(true);
    expect(await locations.isLocal('sip:bob@sip.example.net')).toBe(true);
    expect(await locations.isLocal(parseUri('sip:bob@127.0.0.1:5060')!)).toBe(true);
    expect(await locations.isLocal('sip:bob@127.0.0.1:5070')).toBe(false);
    expect(await locations.isLocal('sip:bob@other.example')).toBe(false);
    expect(await locations.isLocal('sip:bob@[2001:db8::1]')).toBe(false);
    expect(await locations.isLocal('sip:bob@under_score.example')).toBe(false);
    expect(await locations.isLocal('tel:+15551234567')).toBe(false);
    await store.users.addRealm('other.example');
    expect(await locations.isLocal('sip:bob@other.example')).toBe(true);
  });

  it('isKnown: a user of the realm of the host, of any realm for a host that is none, or anyone with bindings', async () => {
    const { store, locations } = await service();
    expect(await locations.isKnown('sip:alice@example.com')).toBe(true);
    expect(await locations.isKnown('sip:bob@example.com')).toBe(false);
    expect(await locations.isKnown('sip:alice@127.0.0.1:5060')).toBe(true);
    expect(await locations.isKnown('sip:bob@127.0.0.1:5060')).toBe(false);
    expect(await locations.isKnown('sip:example.com')).toBe(false);
    const now = Date.now();
    await store.location.put({ aor: 'sip:bob@example.com', uri: 'sip:bob@10.0.0.2', contact: '<sip:bob@10.0.0.2>', expires: now + 60_000, q: 1, callId: 'c', cseq: 1, path: [], updatedAt: now });
    expect(await locations.isKnown('sip:bob@example.com')).toBe(true);
  });

  it('looks up and updates bindings by normalised address of record; no bindings for other schemes', async () => {
    const { locations } = await service();
    const now = Date.now();
    const binding = { aor: 'sip:alice@example.com', uri: 'sip:alice@10.0.0.1', contact: '<sip:alice@10.0.0.1>', expires: now + 60_000, q: 1, callId: 'c', cseq: 1, path: [], updatedAt: now };
    expect(await locations.update('sip:alice@Example.com;transport=tcp', { put: [binding] })).toEqual([binding]);
    expect(await locations.lookup(parseUri('sip:alice@EXAMPLE.COM')!)).toEqual([binding]);
    expect(await locations.lookup('tel:+15551234567')).toEqual([]);
    expect(locations.aorOf('sip:alice@EXAMPLE.com;user=phone')).toBe('sip:alice@example.com');
    expect(locations.aorOf('tel:+1')).toBeUndefined();
  });
});
