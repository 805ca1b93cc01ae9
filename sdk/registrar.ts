/**
 * The registrar (RFC 3261 §10.3) as a servlet base class: subclass it, decorate the subclass, and
 * inject the location service. It adds, refreshes and removes bindings in the server's data store
 * (so they survive a restart), with Path (RFC 3327) and `+sip.instance` / `reg-id` (RFC 5626)
 * stored; it answers 200 with every current binding, or the one status the rule broken calls for
 * (`REGISTRAR_REFUSALS`).
 *
 *   UA                               Siplet: registrar                 data store
 *   | REGISTER sip:example.com           |                                 |
 *   |   To: sip:alice@example.com        | AOR ours? contacts valid?        |
 *   |   Contact: <sip:alice@ua>;expires  | Call-ID/CSeq in order?           |
 *   | ---------------------------------> | update(aor, put/remove) -------> |
 *   | <-- 200 OK, Contact: every binding;expires=remaining (Path, Date)     |
 */
import { SipServlet, type ContactBinding, type LocationService, type SipServletRequest } from '../src/api/index.js';
import { NameAddress, parseNameAddress, parseUri, SipUri, unquote, uriEquals, type Uri } from '../src/sip/message/index.js';

/**
 * A registrar's policy; every field has a default (`DEFAULT_REGISTRAR_OPTIONS`).
 *
 * @example
 * new MyRegistrar(locations, { minExpires: 300, maxExpires: 7200 });
 */
export interface RegistrarOptions {
  /** Shortest expiry accepted (s); a shorter non-zero one gets `423 Interval Too Brief` with Min-Expires (§10.3 step 7). Default 60. */
  minExpires: number;
  /** Longest expiry granted (s); a longer one is cut down to it. Default 3600. */
  maxExpires: number;
  /** Expiry of a contact that asks for none, neither by its `expires` parameter nor by an Expires header (s). Default 3600. */
  defaultExpires: number;
}

export const DEFAULT_REGISTRAR_OPTIONS: Readonly<RegistrarOptions> = Object.freeze({ minExpires: 60, maxExpires: 3600, defaultExpires: 3600 });

/**
 * Every way a REGISTER is refused, with its status and reason phrase: one table, as Kamailio's
 * registrar keeps (`rerrno`).
 */
export const REGISTRAR_REFUSALS = {
  /** RFC 3261 §10.3 step 5; RFC 4475 §3.3.14 (unksm2): a To that is no sip or sips URI. */
  aorNotSip: { status: 400, reason: 'Bad Request (address of record must be a sip or sips URI)' },
  /** §10.3 steps 1 and 5: a Request-URI or an address of record outside the domains this server serves. */
  notOurDomain: { status: 404, reason: 'Not Found (not a domain of this registrar)' },
  /** §10.3 step 6: `Contact: *` needs `Expires: 0`. */
  wildcardWithoutExpiresZero: { status: 400, reason: 'Bad Request (Contact: * needs Expires: 0)' },
  /** §10.3 step 6: `Contact: *` must be the only Contact. */
  wildcardNotAlone: { status: 400, reason: 'Bad Request (Contact: * must be the only Contact)' },
  /** A Contact value that does not parse. */
  badContact: { status: 400, reason: 'Bad Request (malformed Contact)' },
  /** §20.10: q is a number from 0 to 1 with at most three decimals. */
  badQ: { status: 400, reason: 'Bad Request (q must be from 0 to 1)' },
  /** RFC 5626 §4.2: reg-id is a positive integer. */
  badRegId: { status: 400, reason: 'Bad Request (reg-id must be a positive integer)' },
  /** §10.3 step 7: expiry below the minimum. */
  intervalTooBrief: { status: 423, reason: 'Interval Too Brief' },
  /** §10.3 step 7: same Call-ID and a CSeq not higher than the binding's: the update is aborted. */
  outOfOrder: { status: 500, reason: 'Server Internal Error (out of order CSeq for this Call-ID)' },
} as const satisfies Record<string, { status: number; reason: string }>;

/** What `onRegistered` learns. */
export interface RegistrationEvent {
  /** The normalised address of record. */
  readonly aor: string;
  /** Its bindings after the request, as the 200 lists them. */
  readonly bindings: readonly ContactBinding[];
  /** How many bindings the request added or refreshed, and how many it removed. */
  readonly updated: number;
  readonly removed: number;
  readonly request: SipServletRequest;
}

/** A REGISTER refused before anything changed. */
class Refusal extends Error {
  readonly status: number;
  readonly reason: string;
  readonly headers: Record<string, string>;
  constructor(refusal: { status: number; reason: string }, headers: Record<string, string> = {}) {
    super(`${refusal.status} ${refusal.reason}`);
    this.status = refusal.status;
    this.reason = refusal.reason;
    this.headers = headers;
  }
}

/**
 * A registrar servlet (RFC 3261 §10.3). Subclass it, inject `LOCATION_SERVICE` and pass it to
 * `super`; route REGISTER to the app. It handles:
 *
 * - add, refresh and remove bindings; expiry from the contact's `expires` parameter, else the
 *   Expires header, else `defaultExpires`; below `minExpires` → 423 with Min-Expires; above
 *   `maxExpires` → cut down to it; `0` removes;
 * - `Contact: *` with `Expires: 0` removes every binding (400 otherwise);
 * - Call-ID/CSeq ordering: same Call-ID and a CSeq not higher than a binding's → 500, nothing
 *   changed (all bindings of a request change together or not at all);
 * - q-values, ordering the 200 (highest first); a REGISTER without Contact just lists bindings;
 * - Path (RFC 3327): stored, and returned in the 200 when the UA sent `Supported: path`;
 * - `+sip.instance` and `reg-id` (RFC 5626): stored; a contact with the same pair as a binding
 *   replaces it even at another URI;
 * - only addresses of record (To, §10.3 step 5) in this server's domains (`isLocal`: its realms,
 *   `--domains`, its own addresses): 404 otherwise, 400 for a To that is no sip/sips URI.
 *
 * Override `registrarOptions` (e.g. to read live configuration), `acceptsAor` (which addresses
 * of record this registrar takes) and `onRegistered` (after a change). Authentication is not its
 * business: a security constraint on the app asks for it before `doRegister` runs.
 *
 * Hazard: bindings of one address of record are changed one request at a time within this
 * servlet instance; two Siplet processes sharing a store do not coordinate.
 *
 * @example
 * import { inject, LOCATION_SERVICE, RegistrarServlet, SipApplication, SipServlet, type LocationService } from 'siplet/sdk';
 * @SipApplication({ name: 'registrar' })
 * @SipServlet({ name: 'registrar', loadOnStartup: 1 })
 * export class Registrar extends RegistrarServlet {
 *   constructor(@inject(LOCATION_SERVICE) locations: LocationService) {
 *     super(locations, { minExpires: 120 });
 *   }
 * }
 */
export class RegistrarServlet extends SipServlet {
  protected readonly locations: LocationService;
  readonly #options: RegistrarOptions;
  /** The request being processed for each address of record, so that their changes do not interleave. */
  readonly #busy = new Map<string, Promise<void>>();

  constructor(locations: LocationService, options: Partial<RegistrarOptions> = {}) {
    super();
    this.locations = locations;
    this.#options = checkOptions({ ...DEFAULT_REGISTRAR_OPTIONS, ...options });
  }

  /** The policy for this request. Default: the constructor's options. Override to read live configuration. */
  protected registrarOptions(_request: SipServletRequest): RegistrarOptions {
    return this.#options;
  }

  /** Whether this registrar takes bindings for the address of record. Default: `locations.isLocal(aor)`. */
  protected acceptsAor(aor: SipUri, _request: SipServletRequest): Promise<boolean> | boolean {
    return this.locations.isLocal(aor);
  }

  /** Runs after bindings changed, before the 200 goes. Default: nothing. A throw answers 500 (the change stays). */
  protected onRegistered(_event: RegistrationEvent): void | Promise<void> {}

  override async doRegister(request: SipServletRequest): Promise<void> {
    let aor: string;
    try {
      aor = await this.#addressOfRecord(request);
    } catch (error) {
      if (error instanceof Refusal) return this.#refuse(request, error);
      throw error;
    }
    // One request at a time per address of record: read, decide, write.
    const previous = this.#busy.get(aor) ?? Promise.resolve();
    const turn = previous.then(() => this.#register(request, aor));
    const settled = turn.catch(() => undefined);
    this.#busy.set(aor, settled);
    try {
      await turn;
    } finally {
      if (this.#busy.get(aor) === settled) this.#busy.delete(aor);
    }
  }

  async #addressOfRecord(request: SipServletRequest): Promise<string> {
    const ruri = request.getRequestURI();
    if (!(ruri instanceof SipUri) || !(await this.locations.isLocal(ruri))) throw new Refusal(REGISTRAR_REFUSALS.notOurDomain);
    // RFC 3261 §10.3 step 5: the address of record is the To URI, nothing else.
    const to = request.getTo().uri;
    const aor = this.locations.aorOf(to);
    if (!(to instanceof SipUri) || aor === undefined) throw new Refusal(REGISTRAR_REFUSALS.aorNotSip);
    if (!(await this.acceptsAor(to, request))) throw new Refusal(REGISTRAR_REFUSALS.notOurDomain);
    return aor;
  }

  async #register(request: SipServletRequest, aor: string): Promise<void> {
    const options = this.registrarOptions(request);
    const now = Date.now();
    let changes: { put: ContactBinding[]; remove: string[] } | undefined;
    try {
      const contacts = parseContacts(request);
      changes = contacts.length === 0 ? undefined : this.#changes(request, aor, contacts, await this.locations.lookup(aor), options, now);
    } catch (error) {
      if (error instanceof Refusal) return this.#refuse(request, error);
      throw error;
    }
    const bindings = changes === undefined ? await this.locations.lookup(aor) : await this.locations.update(aor, changes);
    if (changes !== undefined) await this.onRegistered({ aor, bindings, updated: changes.put.length, removed: changes.remove.length, request });

    // RFC 3261 §10.3 step 8: every current binding, each with its remaining expiry.
    const response = request.createResponse(200);
    const at = Date.now();
    for (const b of bindings) {
      const contact = parseNameAddress(b.contact) ?? new NameAddress(parseUri(b.uri) as Uri);
      contact.params.set('expires', String(Math.max(1, Math.ceil((b.expires - at) / 1000))));
      response.addHeader('Contact', contact.toString());
    }
    // RFC 3327 §5.3: the Path stored, returned when the UA supports it.
    if (supports(request, 'path')) for (const p of request.getHeaders('Path')) response.addHeader('Path', p);
    response.setHeader('Date', new Date(at).toUTCString());
    await response.send();
  }

  /** RFC 3261 §10.3 steps 6 and 7: every change the request asks for, or a Refusal (nothing changes then). */
  #changes(
    request: SipServletRequest,
    aor: string,
    contacts: NameAddress[],
    existing: ContactBinding[],
    options: RegistrarOptions,
    now: number,
  ): { put: ContactBinding[]; remove: string[] } {
    const callId = request.getCallId();
    const cseq = request.getCSeq();
    const headerExpires = parseDelta(request.getHeader('Expires'));
    // Same Call-ID with a CSeq not higher: a retransmission or an old request overtaken (§10.3 step 7).
    const checkOrder = (b: ContactBinding): void => {
      if (b.callId === callId && b.cseq >= cseq) throw new Refusal(REGISTRAR_REFUSALS.outOfOrder);
    };

    if (contacts.some((c) => c.wildcard)) {
      if (contacts.length > 1) throw new Refusal(REGISTRAR_REFUSALS.wildcardNotAlone);
      if (headerExpires !== 0) throw new Refusal(REGISTRAR_REFUSALS.wildcardWithoutExpiresZero);
      existing.forEach(checkOrder);
      return { put: [], remove: existing.map((b) => b.uri) };
    }

    const path = request.getHeaders('Path');
    const source = sourceOf(request);
    const put = new Map<string, ContactBinding>();
    const remove = new Set<string>();
    for (const contact of contacts) {
      const q = parseQ(contact.params.get('q'));
      const instanceParam = contact.params.get('+sip.instance');
      const instance = instanceParam ? unquoteParam(instanceParam) : undefined;
      const regIdParam = contact.params.get('reg-id');
      const regId = regIdParam === undefined ? undefined : parseRegId(regIdParam);
      const requested = parseDelta(contact.params.get('expires')) ?? headerExpires ?? options.defaultExpires;
      if (requested > 0 && requested < options.minExpires) throw new Refusal(REGISTRAR_REFUSALS.intervalTooBrief, { 'Min-Expires': String(options.minExpires) });
      const expires = Math.min(requested, options.maxExpires);

      // RFC 5626 §6: the same instance and reg-id name the same flow, whatever the URI; else URI equality (§10.3 step 7).
      const match = existing.find((b) =>
        instance !== undefined && regId !== undefined && b.instance === instance && b.regId === regId ? true : sameUri(b.uri, contact.uri),
      );
      if (match !== undefined) checkOrder(match);
      const uri = contact.uri.toString();
      if (match !== undefined && match.uri !== uri) remove.add(match.uri);
      if (expires === 0) {
        if (match !== undefined) remove.add(match.uri);
        put.delete(uri);
        continue;
      }
      const stored = contact.clone();
      stored.params.delete('expires');
      put.set(uri, {
        aor,
        uri,
        contact: stored.toString(),
        expires: now + expires * 1000,
        q: q ?? 1,
        callId,
        cseq,
        path,
        ...(instance !== undefined && { instance }),
        ...(regId !== undefined && { regId }),
        ...(source !== undefined && { source }),
        updatedAt: now,
      });
      remove.delete(uri);
    }
    return { put: [...put.values()], remove: [...remove] };
  }

  async #refuse(request: SipServletRequest, refusal: Refusal): Promise<void> {
    const response = request.createResponse(refusal.status, refusal.reason);
    for (const [name, value] of Object.entries(refusal.headers)) response.setHeader(name, value);
    await response.send();
  }
}

function checkOptions(o: RegistrarOptions): RegistrarOptions {
  const ok = (n: number): boolean => Number.isInteger(n) && n >= 1;
  if (!ok(o.minExpires) || !ok(o.maxExpires) || !ok(o.defaultExpires) || o.minExpires > o.maxExpires) {
    throw new TypeError(
      `Registrar options need whole seconds with 1 <= minExpires <= maxExpires (given minExpires ${o.minExpires}, maxExpires ${o.maxExpires}, defaultExpires ${o.defaultExpires}).`,
    );
  }
  return { ...o, defaultExpires: Math.min(Math.max(o.defaultExpires, o.minExpires), o.maxExpires) };
}

/** Every Contact value parsed; one that does not parse refuses the request. */
function parseContacts(request: SipServletRequest): NameAddress[] {
  const raw = request.getHeaders('Contact');
  const parsed = raw.map((v) => parseNameAddress(v, true));
  if (parsed.some((c) => c === undefined)) throw new Refusal(REGISTRAR_REFUSALS.badContact);
  return parsed as NameAddress[];
}

/** delta-seconds (RFC 3261 §25.1); a malformed value counts as absent (§20.19 says treat it as the default). */
function parseDelta(value: string | null | undefined): number | undefined {
  if (value === undefined || value === null) return undefined;
  const text = value.trim();
  if (!/^\d{1,10}$/.test(text)) return undefined;
  return Number(text);
}

/** qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) — RFC 3261 §25.1 */
function parseQ(value: string | null | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === null || !/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value)) throw new Refusal(REGISTRAR_REFUSALS.badQ);
  return Number(value);
}

function parseRegId(value: string | null): number {
  if (value === null || !/^[1-9]\d{0,9}$/.test(value) || Number(value) > 2 ** 31 - 1) throw new Refusal(REGISTRAR_REFUSALS.badRegId);
  return Number(value);
}

/** `"<urn:uuid:…>"` → `<urn:uuid:…>` */
function unquoteParam(value: string): string {
  return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? unquote(value) : value;
}

function sameUri(stored: string, uri: Uri): boolean {
  const parsed = parseUri(stored);
  return parsed !== undefined && uriEquals(parsed, uri);
}

function supports(request: SipServletRequest, tag: string): boolean {
  return request.getHeaders('Supported').some((t) => t.trim().toLowerCase() === tag);
}

function sourceOf(request: SipServletRequest): ContactBinding['source'] {
  const address = request.getRemoteAddr();
  const port = request.getRemotePort();
  const protocol = request.getTransport();
  return address === undefined || port === undefined ? undefined : { address, port, protocol: protocol ?? 'udp' };
}

