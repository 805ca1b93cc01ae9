import { randomBytes } from 'node:crypto';
import type { RoutingRegion } from '../../router/index.js';

/** Where an initial request goes next inside this server (JSR 289 §15.6): the app and the router's state for it. */
export interface RoutedState {
  app: string;
  state: unknown;
  region?: RoutingRegion;
  subscriber?: string;
}

const MAX_INLINE = 600;
const MAX_KEPT = 10_000;
const KEEP_MS = 64_000;

/**
 * Carries application-router state in a Route parameter of a request this
 * server sends to itself (composition). Plain state travels inline
 * (base64url JSON), so nothing is kept for it; state that cannot be
 * serialised stays in a small map bounded in size and age.
 */
export class RouterStateCodec {
  readonly #kept = new Map<string, { value: RoutedState; until: number }>();

  encode(value: RoutedState): string {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch {
      json = undefined;
    }
    if (json !== undefined && json.length <= MAX_INLINE && roundTrips(value)) return 'j' + Buffer.from(json).toString('base64url');
    this.#prune();
    const key = randomBytes(9).toString('base64url');
    this.#kept.set(key, { value, until: Date.now() + KEEP_MS });
    return 'k' + key;
  }

  decode(text: string | null | undefined): RoutedState | undefined {
    if (!text) return undefined;
    if (text.startsWith('j')) {
      try {
        const v = JSON.parse(Buffer.from(text.slice(1), 'base64url').toString('utf8')) as RoutedState;
        return typeof v === 'object' && v !== null && typeof v.app === 'string' ? v : undefined;
      } catch {
        return undefined;
      }
    }
    if (text.startsWith('k')) {
      const kept = this.#kept.get(text.slice(1));
      this.#kept.delete(text.slice(1));
      return kept && kept.until >= Date.now() ? kept.value : undefined;
    }
    return undefined;
  }

  #prune(): void {
    const now = Date.now();
    for (const [k, v] of this.#kept) if (v.until < now) this.#kept.delete(k);
    while (this.#kept.size >= MAX_KEPT) {
      const oldest = this.#kept.keys().next().value as string;
      this.#kept.delete(oldest);
    }
  }
}

/** True when the state survives JSON (a custom router's class instances may not). */
function roundTrips(value: RoutedState): boolean {
  const s = value.state;
  if (s === undefined || s === null || typeof s !== 'object') return true;
  if (typeof (s as { toJSON?: unknown }).toJSON === 'function') return true;
  return Object.getPrototypeOf(s) === Object.prototype || Array.isArray(s);
}
