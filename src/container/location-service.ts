import type { ContactBinding, ContactBindingChanges, LocationService } from '../api/index.js';
import { parseUri, SipUri, type Uri } from '../sip/message/index.js';
import { normalizeAor, requireAor, type DataStore } from '../store/index.js';
import { SipletError } from '../util/index.js';

export interface StoreLocationServiceOptions {
  /** Where bindings, realms and users are kept. */
  store: Pick<DataStore, 'location' | 'users'>;
  /** True for a URI of a configured domain or of this server's own address and port (`SipNetwork.isLocalDomain`). */
  isLocalDomain(uri: SipUri): boolean;
}

/**
 * The `LOCATION_SERVICE` every app gets: the data store's bindings, and the server's domains —
 * its realms (read from the store each time, so a realm added by `siplet realms add` while the
 * server runs counts at once), its configured domains and its own addresses.
 */
export class StoreLocationService implements LocationService {
  readonly #store: Pick<DataStore, 'location' | 'users'>;
  readonly #isLocalDomain: (uri: SipUri) => boolean;

  constructor(options: StoreLocationServiceOptions) {
    this.#store = options.store;
    this.#isLocalDomain = options.isLocalDomain;
  }

  aorOf(uri: Uri | string): string | undefined {
    return normalizeAor(uri);
  }

  async lookup(aor: Uri | string): Promise<ContactBinding[]> {
    const key = normalizeAor(aor);
    return key === undefined ? [] : this.#store.location.lookup(key);
  }

  async isLocal(uri: Uri | string): Promise<boolean> {
    const sip = toSipUri(uri);
    if (sip === undefined) return false;
    if (this.#isLocalDomain(sip)) return true;
    return this.#hasRealm(sip.hostname);
  }

  async isKnown(aor: Uri | string): Promise<boolean> {
    const sip = toSipUri(aor);
    const user = sip?.user;
    if (sip === undefined || user === undefined) return false;
    if ((await this.lookup(sip)).length > 0) return true;
    const host = sip.hostname.toLowerCase();
    if (await this.#hasRealm(host)) return this.#store.users.credentials(host, user) !== undefined;
    // A host that is no realm (this server's address, a configured domain): a user of any realm.
    for (const realm of await this.#store.users.realms()) if (this.#store.users.credentials(realm, user) !== undefined) return true;
    return false;
  }

  /** False for a host that cannot be a realm name (an IPv6 reference, a name with '_'), rather than an error. */
  async #hasRealm(host: string): Promise<boolean> {
    try {
      return await this.#store.users.hasRealm(host);
    } catch (error) {
      if (SipletError.is(error, 'SIPLET_STORE_INVALID_INPUT')) return false;
      throw error;
    }
  }

  update(aor: Uri | string, changes: ContactBindingChanges): Promise<ContactBinding[]> {
    return this.#store.location.update(requireAor(typeof aor === 'string' ? aor : aor.toString()), changes);
  }
}

function toSipUri(uri: Uri | string): SipUri | undefined {
  const parsed = typeof uri === 'string' ? parseUri(uri.trim()) : uri;
  return parsed instanceof SipUri ? parsed : undefined;
}
