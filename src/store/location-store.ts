import { SipletError } from '../util/index.js';
import { normalizeAor } from './aor.js';

/** Where a REGISTER came from: what a later outbound connection reuse (RFC 5626) needs. */
export interface BindingSource {
  readonly address: string;
  readonly port: number;
  readonly protocol: string;
}

/**
 * One binding of an address of record to a contact (RFC 3261 §10): what the registrar stores and
 * the location service hands to proxies.
 */
export interface Binding {
  /** The address of record, normalised (`normalizeAor`); the store normalises what it is given. */
  readonly aor: string;
  /** The contact URI, as text: with `aor`, the binding's key. */
  readonly uri: string;
  /** The whole Contact value with its parameters (q, +sip.instance, reg-id, …), without `expires`. */
  readonly contact: string;
  /** When the binding expires, epoch milliseconds. */
  readonly expires: number;
  /** Preference, 0 to 1 (RFC 3261 §20.10); 1 when the contact gave none. */
  readonly q: number;
  readonly callId: string;
  readonly cseq: number;
  /** The Path header values of the REGISTER (RFC 3327), first hop first; used as Route towards the contact. */
  readonly path: readonly string[];
  /** The `+sip.instance` contact parameter (RFC 5626 §4.1), unquoted: `<urn:uuid:…>`. */
  readonly instance?: string;
  /** The `reg-id` contact parameter (RFC 5626 §4.2). */
  readonly regId?: number;
  readonly source?: BindingSource;
  /** When the binding was last written, epoch milliseconds. */
  readonly updatedAt: number;
}

/** Several changes to the bindings of one address of record, applied all or none (RFC 3261 §10.3 step 7). */
export interface BindingChanges {
  /** Bindings added or replaced (same `uri`); every one must be of the address of record updated. */
  readonly put?: readonly Binding[];
  /** Contact URIs (a binding's `uri`, exactly) whose bindings are removed. */
  readonly remove?: readonly string[];
}

/**
 * The location service's storage (RFC 3261 §10): bindings of addresses of record to contacts.
 * An address of record given to any method is normalised first (`normalizeAor`), so
 * `sip:Bob@EXAMPLE.com;transport=tcp` and `sip:Bob@example.com` are one; one that is not a sip or
 * sips URI is refused with `SIPLET_STORE_INVALID_INPUT`.
 *
 * Reads never return an expired binding (`expires <= now`), whether or not `purgeExpired` has run.
 * Every method is asynchronous so that a networked store (Redis, for cluster mode) can implement it.
 *
 * Implementations: `MemoryLocationStore` (tests, a single process without a disk),
 * `SqliteLocationStore` (`<dataDir>/siplet.db`, survives restarts). Both pass the contract suite
 * in test/unit/store/location-store.contract.ts.
 */
export interface LocationStore {
  /** The current bindings of an address of record, highest q first, then the most recently updated. */
  lookup(aor: string): Promise<Binding[]>;
  /** Adds a binding, or replaces the one with the same address of record and contact URI. */
  put(binding: Binding): Promise<void>;
  /** Removes one binding; false when there was none. */
  remove(aor: string, uri: string): Promise<boolean>;
  /** Removes every binding of an address of record; returns how many there were. */
  removeAll(aor: string): Promise<number>;
  /** Applies several changes to one address of record atomically; returns its bindings after them. */
  update(aor: string, changes: BindingChanges): Promise<Binding[]>;
  /** The addresses of record with at least one current binding, sorted. */
  aors(): Promise<string[]>;
  /** Every current binding, by address of record, then as `lookup` orders them. */
  all(): Promise<Binding[]>;
  /** Deletes the bindings expired at `now` (default: the store's clock); returns how many. */
  purgeExpired(now?: number): Promise<number>;
}

/** Options every location store takes. */
export interface LocationStoreOptions {
  /** The clock deciding what has expired. Default: `Date.now`. */
  now?: () => number;
}

/** `lookup`'s order: q descending, then the newest first, then the URI (so the order is total). */
export function compareBindings(a: Binding, b: Binding): number {
  return b.q - a.q || b.updatedAt - a.updatedAt || (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0);
}

/** The normalised address of record, or a `SIPLET_STORE_INVALID_INPUT` error. */
export function requireAor(aor: string): string {
  const normal = normalizeAor(aor);
  if (normal === undefined) {
    throw new SipletError('SIPLET_STORE_INVALID_INPUT', `"${aor}" is not an address of record: give a sip: or sips: URI such as sip:alice@example.com.`, {
      details: { aor },
    });
  }
  return normal;
}

/** Checks a binding before it is stored and returns it with its address of record normalised. */
export function checkBinding(binding: Binding, aor?: string): Binding {
  const normal = requireAor(binding.aor);
  const bad = (what: string): never => {
    throw new SipletError('SIPLET_STORE_INVALID_INPUT', `Binding of ${normal} to ${binding.uri}: ${what}.`, { details: { aor: normal, uri: binding.uri } });
  };
  if (aor !== undefined && normal !== aor) bad(`it belongs to ${normal}, not to ${aor} being updated`);
  if (typeof binding.uri !== 'string' || binding.uri === '') bad('the contact URI is empty');
  if (typeof binding.contact !== 'string' || binding.contact === '') bad('the Contact value is empty');
  if (!Number.isFinite(binding.expires)) bad('expires must be a time in epoch milliseconds');
  if (!(binding.q >= 0 && binding.q <= 1)) bad('q must be between 0 and 1');
  if (!Number.isInteger(binding.cseq) || binding.cseq < 0) bad('cseq must be a non-negative integer');
  if (typeof binding.callId !== 'string' || binding.callId === '') bad('the Call-ID is empty');
  if (!Array.isArray(binding.path)) bad('path must be an array of Path values');
  if (binding.regId !== undefined && !Number.isInteger(binding.regId)) bad('reg-id must be an integer');
  if (!Number.isFinite(binding.updatedAt)) bad('updatedAt must be a time in epoch milliseconds');
  return normal === binding.aor ? binding : { ...binding, aor: normal };
}
