/** Most distinct method names counted one by one; others (a peer inventing methods) share `OTHER`. */
const MAX_METHODS = 32;

/**
 * Counts SIP messages by method or by status code, as Kamailio's core and sl statistics do, at the
 * cost of one map or array increment per message. Bounded: status codes are 100-699 (the parser
 * refuses others), and at most `MAX_METHODS` method names are kept apart.
 */
export class MethodCounter {
  readonly #counts = new Map<string, number>();

  add(method: string): void {
    const n = this.#counts.get(method);
    if (n !== undefined) this.#counts.set(method, n + 1);
    else if (this.#counts.size < MAX_METHODS) this.#counts.set(method, 1);
    else this.#counts.set('OTHER', (this.#counts.get('OTHER') ?? 0) + 1);
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.#counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

export class StatusCounter {
  readonly #counts = new Uint32Array(700);

  add(status: number): void {
    if (status >= 100 && status < 700) this.#counts[status]!++;
  }

  /** Every status seen, by code (`"200": 12`). */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let status = 100; status < 700; status++) if (this.#counts[status]! > 0) out[status] = this.#counts[status]!;
    return out;
  }
}
