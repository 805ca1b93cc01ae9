import { checkBinding, compareBindings, requireAor, type Binding, type BindingChanges, type LocationStore, type LocationStoreOptions } from '../location-store.js';

/**
 * The location store in process memory: for tests and for a Siplet without a data directory.
 * Nothing survives a restart.
 *
 * @example
 * const store = new MemoryLocationStore();
 * await store.put({ aor: 'sip:bob@example.com', uri: 'sip:bob@10.0.0.5', contact: '<sip:bob@10.0.0.5>', expires: Date.now() + 3_600_000, q: 1, callId: 'c1', cseq: 1, path: [], updatedAt: Date.now() });
 */
export class MemoryLocationStore implements LocationStore {
  readonly #now: () => number;
  /** aor → contact URI → binding */
  readonly #bindings = new Map<string, Map<string, Binding>>();

  constructor(options: LocationStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  async lookup(aor: string): Promise<Binding[]> {
    return this.#current(requireAor(aor), this.#now());
  }

  async put(binding: Binding): Promise<void> {
    this.#put(checkBinding(binding));
  }

  async remove(aor: string, uri: string): Promise<boolean> {
    const key = requireAor(aor);
    const of = this.#bindings.get(key);
    const removed = of?.delete(uri) ?? false;
    if (of?.size === 0) this.#bindings.delete(key);
    return removed;
  }

  async removeAll(aor: string): Promise<number> {
    const key = requireAor(aor);
    const n = this.#bindings.get(key)?.size ?? 0;
    this.#bindings.delete(key);
    return n;
  }

  async update(aor: string, changes: BindingChanges): Promise<Binding[]> {
    const key = requireAor(aor);
    // Checked before anything changes: all or none.
    const puts = (changes.put ?? []).map((b) => checkBinding(b, key));
    const of = this.#bindings.get(key);
    for (const uri of changes.remove ?? []) of?.delete(uri);
    if (of?.size === 0) this.#bindings.delete(key);
    for (const b of puts) this.#put(b);
    return this.#current(key, this.#now());
  }

  async aors(): Promise<string[]> {
    const now = this.#now();
    return [...this.#bindings.keys()].filter((aor) => this.#current(aor, now).length > 0).sort();
  }

  async all(): Promise<Binding[]> {
    const now = this.#now();
    return (await this.aors()).flatMap((aor) => this.#current(aor, now));
  }

  async purgeExpired(now: number = this.#now()): Promise<number> {
    let n = 0;
    for (const [aor, of] of this.#bindings) {
      for (const [uri, b] of of) {
        if (b.expires <= now) {
          of.delete(uri);
          n += 1;
        }
      }
      if (of.size === 0) this.#bindings.delete(aor);
    }
    return n;
  }

  #put(binding: Binding): void {
    let of = this.#bindings.get(binding.aor);
    if (of === undefined) this.#bindings.set(binding.aor, (of = new Map()));
    of.set(binding.uri, copy(binding));
  }

  #current(aor: string, now: number): Binding[] {
    const of = this.#bindings.get(aor);
    if (of === undefined) return [];
    return [...of.values()].filter((b) => b.expires > now).map(copy).sort(compareBindings);
  }
}

/** Callers never share the stored objects. */
function copy(b: Binding): Binding {
  return { ...b, path: [...b.path], ...(b.source !== undefined && { source: { ...b.source } }) };
}
