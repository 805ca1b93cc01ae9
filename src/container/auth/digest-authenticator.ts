import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createResponse, parseUri, SipUri, uriEquals, type SipRequest, type SipResponse } from '../../sip/message/index.js';
import type { MessageSource } from '../../sip/transport/index.js';
import { randomText, type Logger } from '../../util/index.js';
import type { ApplicationModel } from '../model/index.js';
import { formatAuthParams, parseAuthParams } from './auth-params.js';
import type { CredentialSource } from './credential-source.js';
import { digestResponse, parseAlgorithm, usesMd5, type DigestAlgorithm } from './digest.js';
import { FailureTracker } from './failure-tracker.js';
import { Nonces } from './nonces.js';
import { protectionFor, type Protection } from './protection.js';

/** The server settings of digest authentication (`--auth-*`). */
export interface DigestAuthSettings {
  /** Milliseconds a nonce is accepted; a correct response after that gets a new challenge with `stale=true`. */
  nonceLifetime: number;
  /** Failed authentications from one address, within `failureWindow`, that ban it; 0 never bans. */
  maxFailures: number;
  /** Milliseconds over which failures are counted. */
  failureWindow: number;
  /** Milliseconds a banned address is refused with 403. */
  banTime: number;
  /** The realm of apps that name none; empty: the Request-URI host of a REGISTER, else the From host. */
  realm: string;
  /**
   * The challenges offered, one per algorithm, most preferred first (RFC 8760 §2.4), and the only
   * algorithms an answer may use. Default MD5 then SHA-256: SIPp 3.6.1 and sipsak answer only the
   * first challenge and know no SHA-256, and baresip 1.0 refuses a 401 offering anything but MD5
   * (checked on the wire); put SHA-256 first where every client handles it.
   */
  algorithms: readonly DigestAlgorithm[];
}

export const DEFAULT_DIGEST_AUTH_SETTINGS: Readonly<DigestAuthSettings> = Object.freeze({
  nonceLifetime: 300_000,
  maxFailures: 5,
  failureWindow: 60_000,
  banTime: 300_000,
  realm: '',
  algorithms: ['MD5', 'SHA-256'] as readonly DigestAlgorithm[],
});

export interface DigestAuthenticatorOptions {
  /** The users. Without it, a request a constraint covers is answered 500 (and logged). */
  credentials?: CredentialSource;
  settings?: Partial<DigestAuthSettings>;
  logger: Logger;
  /** Most nonces whose nonce-count is remembered (default 65,536). */
  maxNonces?: number;
  /** Most source addresses whose failures are tracked (default 10,000). */
  maxSources?: number;
}

export interface AuthRequest {
  request: SipRequest;
  source: MessageSource;
  model: ApplicationModel;
  /** The servlet that would handle the request. */
  servlet: string;
  initial: boolean;
}

/**
 * `open`: no constraint covers the request. `authenticated`: let it through as this user.
 * `refused`: send `response` (a challenge, 400, 403 or 500) instead of dispatching.
 */
export type AuthVerdict =
  | { readonly kind: 'open' }
  | { readonly kind: 'authenticated'; readonly principal: string; readonly roles: ReadonlySet<string> }
  | { readonly kind: 'refused'; readonly response: SipResponse };

export interface AuthCounters {
  /** 401/407 challenges sent, stale ones included. */
  challenges: number;
  /** Challenges with stale=true (a correct response with an expired or forgotten nonce). */
  stale: number;
  authenticated: number;
  /** Wrong responses and unknown users: what brute-force protection counts. */
  failures: number;
  /** Reused nonce-counts refused. */
  replays: number;
  /** Authenticated users in none of the roles a constraint allows (403). */
  forbidden: number;
  /** Bans started. */
  bans: number;
  /** Requests refused because their source is banned. */
  refusedBanned: number;
}

const OPEN: AuthVerdict = Object.freeze({ kind: 'open' });
const NC = /^[0-9a-f]{8}$/i;
const HEX = /^[0-9a-f]+$/i;

/**
 * Digest authentication in the container (RFC 3261 §22, RFC 8760), run for an initial request after
 * the application router chose its app and before any session or servlet exists, and for requests
 * inside a dialog whose method a constraint lists.
 *
 *   covered? ─no─► open
 *     │ banned source? ─► 403 (no challenge)
 *     │ no credentials for our realm ─► 401/407 challenge: SHA-256 then MD5, qop="auth"
 *     │ malformed / digest-uri ≠ Request-URI ─► 400 (RFC 2617 §3.2.2.5)
 *     │ nonce not ours ─► challenge
 *     │ unknown user or wrong response ─► counted failure ─► challenge (403 when it starts a ban)
 *     │ nonce expired ─► challenge with stale=true
 *     │ nonce-count not higher than before ─► challenge (replay)
 *     │ not in a permitted role ─► 403
 *     └─► authenticated: getUserPrincipal() / isUserInRole()
 *
 * Passwords never appear: responses are verified from the HA1 the `CredentialSource` keeps.
 * The credentials header is left in the request.
 *
 * Ban policy: a banned address gets `403 Forbidden` (no challenge) for every request needing
 * authentication until the ban ends, rather than silence: a final response ends the client's
 * transaction at once, where a dropped request over UDP is retransmitted for 32 s, and a
 * misconfigured phone learns why. Requests that need no authentication still pass.
 */
export class DigestAuthenticator {
  readonly #credentials: CredentialSource | undefined;
  readonly #settings: DigestAuthSettings;
  readonly #log: Logger;
  readonly #nonces: Nonces;
  readonly #failures: FailureTracker;
  readonly #opaque = randomBytes(12).toString('base64url');
  readonly #warnedNoStore = new Set<string>();
  readonly counters: AuthCounters = { challenges: 0, stale: 0, authenticated: 0, failures: 0, replays: 0, forbidden: 0, bans: 0, refusedBanned: 0 };

  constructor(options: DigestAuthenticatorOptions) {
    this.#credentials = options.credentials;
    this.#settings = { ...DEFAULT_DIGEST_AUTH_SETTINGS, ...options.settings };
    this.#log = options.logger;
    this.#nonces = new Nonces({ lifetimeMs: this.#settings.nonceLifetime, maxTracked: options.maxNonces ?? 65_536 });
    this.#failures = new FailureTracker({
      maxFailures: this.#settings.maxFailures,
      windowMs: this.#settings.failureWindow,
      banMs: this.#settings.banTime,
      maxTracked: options.maxSources ?? 10_000,
    });
  }

  /** Entries in the bounded tables, for stats and tests. */
  get tracked(): { nonces: number; sources: number } {
    return { nonces: this.#nonces.tracked, sources: this.#failures.tracked };
  }

  authenticate(input: AuthRequest): AuthVerdict {
    const { request, model } = input;
    const protection = protectionFor(model.securityConstraints, request.method, input.servlet, input.initial);
    if (protection === undefined) return OPEN;
    if (this.#credentials === undefined) {
      if (!this.#warnedNoStore.has(model.name)) {
        this.#warnedNoStore.add(model.name);
        this.#log.error({ app: model.name }, `application ${model.name} has security constraints but no user store is configured: its protected requests are answered 500`);
      }
      return refuse(request, 500, 'Server Internal Error (no user store configured)');
    }
    const now = Date.now();
    const address = input.source.remote.address;
    if (this.#failures.isBanned(address, now)) {
      this.counters.refusedBanned++;
      return refuse(request, 403, 'Forbidden (too many failed authentications)');
    }
    const realm = this.#realmOf(request, model);
    const credentials = this.#credentialsFor(request, protection, realm);
    if (credentials === undefined) return this.#challenge(request, protection, realm, false);
    const p = credentials.params;

    const username = p.get('username');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response')?.toLowerCase();
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined || !HEX.test(response)) {
      return refuse(request, 400, 'Bad Request (digest credentials need username, nonce, uri and response)');
    }
    const qop = p.get('qop')?.toLowerCase();
    // Only qop=auth is offered; anything else (auth-int) is asked again.
    if (qop !== undefined && qop !== 'auth') return this.#challenge(request, protection, realm, false);
    const nc = p.get('nc');
    const cnonce = p.get('cnonce');
    if (qop === 'auth' && (nc === undefined || !NC.test(nc) || cnonce === undefined)) {
      return refuse(request, 400, 'Bad Request (digest credentials with qop=auth need nc and cnonce)');
    }
    if (credentials.algorithm.endsWith('-sess') && cnonce === undefined) {
      return refuse(request, 400, 'Bad Request (a -sess digest algorithm needs cnonce)');
    }
    if (!this.#sameUri(uri, request)) return refuse(request, 400, 'Bad Request (digest uri does not match the Request-URI)');
    const opaque = p.get('opaque');
    const state = this.#nonces.check(nonce, realm, now);
    if (state.kind === 'forged' || (opaque !== undefined && opaque !== this.#opaque)) {
      return this.#challenge(request, protection, realm, false);
    }

    const user = this.#credentials.credentials(realm, username);
    const { algorithm } = credentials;
    const expected =
      user === undefined
        ? ''
        : digestResponse({ algorithm, ha1: (usesMd5(algorithm) ? user.ha1Md5 : user.ha1Sha256).toLowerCase(), nonce, method: request.method, uri, qop: qop === 'auth' ? 'auth' : undefined, nc, cnonce });
    if (user === undefined || !sameHex(expected, response)) {
      return this.#failed(request, protection, realm, address, username, model.name, now);
    }
    if (state.kind === 'expired') return this.#challenge(request, protection, realm, true);
    // RFC 2617 §3.2.2: a client without qop sends no nonce-count, so each nonce serves it once.
    const count = this.#nonces.useCount(nonce, state.issuedAt, qop === 'auth' && nc !== undefined ? parseInt(nc, 16) : 1, now);
    if (count === 'forgotten') return this.#challenge(request, protection, realm, true);
    if (count === 'replay') {
      this.counters.replays++;
      this.#log.info({ app: model.name, source: address, username, realm, nc }, 'digest nonce-count reused: challenged again');
      return this.#challenge(request, protection, realm, false);
    }

    this.#failures.succeeded(address);
    if (protection.roles !== undefined && !protection.roles.some((role) => user.roles.includes(role))) {
      this.counters.forbidden++;
      this.#log.info({ app: model.name, username: user.username, realm, roles: protection.roles }, 'authenticated user in no permitted role: 403');
      return refuse(request, 403, 'Forbidden (not in a permitted role)');
    }
    this.counters.authenticated++;
    return { kind: 'authenticated', principal: user.username, roles: new Set(user.roles) };
  }

  /** RFC 3261 §22.1: the app's realm, the server's, else the domain the request is for (REGISTER) or from. */
  #realmOf(request: SipRequest, model: ApplicationModel): string {
    if (model.realm !== undefined) return model.realm;
    if (this.#settings.realm !== '') return this.#settings.realm;
    const uri = request.method === 'REGISTER' || !(request.from.uri instanceof SipUri) ? request.uri : request.from.uri;
    return uri instanceof SipUri ? uri.hostname.toLowerCase() : 'siplet';
  }

  /**
   * The credentials for our realm (RFC 3261 §22.3: a proxy reads only those whose realm is its own),
   * the first one naming an algorithm we verify, parsed; `undefined` when there is none.
   */
  #credentialsFor(request: SipRequest, protection: Protection, realm: string): { params: ReadonlyMap<string, string>; algorithm: DigestAlgorithm } | undefined {
    for (const value of request.getAll(protection.proxy ? 'proxy-authorization' : 'authorization')) {
      const parsed = parseAuthParams(value);
      if (parsed === undefined || parsed.scheme.toLowerCase() !== 'digest' || parsed.params.get('realm') !== realm) continue;
      const algorithm = parseAlgorithm(parsed.params.get('algorithm'));
      // Only an algorithm this server offers (a -sess variant counts as its base): with
      // --auth-algorithms sha-256, an MD5 answer is not taken.
      if (algorithm !== undefined && this.#settings.algorithms.includes(algorithm.replace('-sess', '') as DigestAlgorithm)) {
        return { params: parsed.params, algorithm };
      }
    }
    return undefined;
  }

  #sameUri(digestUri: string, request: SipRequest): boolean {
    if (digestUri === request.uriText) return true;
    const parsed = parseUri(digestUri);
    return parsed !== undefined && uriEquals(parsed, request.uri);
  }

  #failed(request: SipRequest, protection: Protection, realm: string, address: string, username: string, app: string, now: number): AuthVerdict {
    this.counters.failures++;
    const { failures, banned } = this.#failures.failed(address, now);
    if (banned) {
      this.counters.bans++;
      this.#log.warn(
        { app, source: address, username, realm, failures, banMs: this.#settings.banTime },
        `${address} banned for ${this.#settings.banTime} ms after ${failures} failed digest authentications`,
      );
      return refuse(request, 403, 'Forbidden (too many failed authentications)');
    }
    this.#log.info({ app, source: address, username, realm, failures }, 'digest authentication failed');
    return this.#challenge(request, protection, realm, false);
  }

  /** RFC 8760 §2.4: one challenge per offered algorithm, the preferred first, sharing one nonce. */
  #challenge(request: SipRequest, protection: Protection, realm: string, stale: boolean): AuthVerdict {
    this.counters.challenges++;
    if (stale) this.counters.stale++;
    const res = createResponse(request, protection.proxy ? 407 : 401, { toTag: randomText(6, 'hex') });
    const header = protection.proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
    const nonce = this.#nonces.issue(realm, Date.now());
    for (const algorithm of this.#settings.algorithms) {
      const params: [string, string, 'quoted' | 'token'][] = [
        ['realm', realm, 'quoted'],
        ['nonce', nonce, 'quoted'],
        ['opaque', this.#opaque, 'quoted'],
        ['algorithm', algorithm, 'token'],
        ['qop', 'auth', 'quoted'],
      ];
      if (stale) params.push(['stale', 'true', 'token']);
      res.add(header, formatAuthParams('Digest', params));
    }
    return { kind: 'refused', response: res };
  }
}

function refuse(request: SipRequest, status: number, reason: string): AuthVerdict {
  return { kind: 'refused', response: createResponse(request, status, { reason, toTag: randomText(6, 'hex') }) };
}

/** Constant-time comparison of two lower-case hex digests. */
function sameHex(expected: string, given: string): boolean {
  return expected.length === given.length && timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(given, 'latin1'));
}
