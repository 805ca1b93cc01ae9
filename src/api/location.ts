import type { Uri } from '../sip/message/index.js';

/** One registered contact of an address of record (RFC 3261 §10), as the location service hands it out. */
export interface ContactBinding {
  /** The address of record, normalised: `sip:alice@example.com` (scheme, user, lower-cased host[:port]). */
  readonly aor: string;
  /** The contact URI: where requests for the address of record go. */
  readonly uri: string;
  /** The whole Contact value the UA registered, with its parameters (q, +sip.instance, reg-id), without `expires`. */
  readonly contact: string;
  /** When the binding expires, epoch milliseconds. */
  readonly expires: number;
  /** Preference, 0 to 1; 1 when the UA gave none. */
  readonly q: number;
  /** Call-ID and CSeq of the REGISTER that last wrote the binding (RFC 3261 §10.3 step 7). */
  readonly callId: string;
  readonly cseq: number;
  /** The Path of the REGISTER (RFC 3327), first hop first: push it as Route towards the contact. */
  readonly path: readonly string[];
  /** `+sip.instance` (RFC 5626 §4.1), unquoted, e.g. `<urn:uuid:…>`. */
  readonly instance?: string;
  /** `reg-id` (RFC 5626 §4.2). */
  readonly regId?: number;
  /** Where the REGISTER came from. */
  readonly source?: { readonly address: string; readonly port: number; readonly protocol: string };
  /** When the binding was last written, epoch milliseconds. */
  readonly updatedAt: number;
}

/** What a registrar changes in one step, all or nothing (RFC 3261 §10.3 step 7). */
export interface ContactBindingChanges {
  /** Bindings added, or replacing the one with the same contact `uri`. */
  readonly put?: readonly ContactBinding[];
  /** Contact URIs (a binding's `uri`, exactly as stored) whose bindings go. */
  readonly remove?: readonly string[];
}

/**
 * The location service (RFC 3261 §10): which contacts an address of record is registered at, and
 * which domains this server serves. Apps get it injected as `LOCATION_SERVICE`; proxies read it,
 * a registrar (`RegistrarServlet`) writes it. Bindings persist in the server's data store
 * (`<dataDir>/siplet.db`) across restarts.
 *
 * Hazard: every method is asynchronous (the store may be networked); an address of record that is
 * not a sip or sips URI has no bindings, and `update` refuses it.
 *
 * @example
 * import { inject, LOCATION_SERVICE, type LocationService, type SipServletRequest } from 'siplet/sdk';
 * class Finder {
 *   constructor(@inject(LOCATION_SERVICE) private readonly locations: LocationService) {}
 *   async targets(req: SipServletRequest) {
 *     return (await this.locations.lookup(req.getRequestURI())).map((b) => b.uri);
 *   }
 * }
 */
export interface LocationService {
  /** The current bindings of an address of record: highest q first, then the most recently registered. */
  lookup(aor: Uri | string): Promise<ContactBinding[]>;
  /**
   * True when the URI is a sip or sips URI of a domain this server serves: one of its realms, a
   * configured domain (`--domains`), or its own address and port.
   */
  isLocal(uri: Uri | string): Promise<boolean>;
  /**
   * True when the user of a local address of record is known: it has bindings now, or a user of
   * that name exists in the realm of its host (or, for a host that is no realm, in any realm).
   * A proxy answers 480 for a known user without bindings and 404 for an unknown one.
   */
  isKnown(aor: Uri | string): Promise<boolean>;
  /** The normalised address of record of a URI, or `undefined` when it is not a sip or sips URI. */
  aorOf(uri: Uri | string): string | undefined;
  /** Changes the bindings of one address of record atomically; resolves with its bindings after. */
  update(aor: Uri | string, changes: ContactBindingChanges): Promise<ContactBinding[]>;
}
