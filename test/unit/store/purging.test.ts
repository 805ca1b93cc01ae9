import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryLocationStore, startPurging } from '../../../src/store/index.js';
import { silentLogger } from '../../../src/util/index.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('startPurging', () => {
  it('deletes expired bindings every interval on an unref\'d timer until stopped', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const store = new MemoryLocationStore();
    const spy = vi.spyOn(store, 'purgeExpired');
    const base = { aor: 'sip:a@example.com', contact: '<sip:a@10.0.0.1>', q: 1, callId: 'c', cseq: 1, path: [], updatedAt: 1_000_000 };
    await store.put({ ...base, uri: 'sip:a@10.0.0.1', expires: 1_000_500 });
    await store.put({ ...base, uri: 'sip:a@10.0.0.2', expires: 1_500_000 });
    const unref = vi.spyOn(globalThis, 'setInterval');
    const purging = startPurging(store, { logger: silentLogger(), intervalMs: 1000 });
    expect((unref.mock.results[0]?.value as NodeJS.Timeout).hasRef()).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(await spy.mock.results[0]?.value).toBe(1);
    purging.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(spy).toHaveBeenCalledTimes(1);
  });
});
