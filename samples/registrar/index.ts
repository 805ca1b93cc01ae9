/**
 * registrar: a SIP registrar (RFC 3261 §10.3) for the domains Siplet serves — its realms
 * (`siplet realms add example.com`), its `--domains` and its own addresses — built on the SDK's
 * `RegistrarServlet`. Bindings go to the server's data store (`<dataDir>/siplet.db`), so they
 * survive a restart, and reach every app through `LOCATION_SERVICE` (call-screening forks calls
 * to them).
 *
 *   UA                          Siplet: registrar                     data store
 *   | REGISTER sip:example.com ---> | (container) security constraint:   |
 *   | <---- 401 WWW-Authenticate -- |   SHA-256 and MD5, realm = domain  |
 *   | REGISTER + Authorization ---> | HA1 of alice@example.com? <------- |
 *   |   To: sip:alice@example.com   | To = AOR in our domains?           |
 *   |   Contact: <sip:alice@ua>     | expiry >= minExpires? CSeq order?  |
 *   |                               | bindings of the AOR updated -----> |
 *   | <---- 200 OK (every binding with its remaining expiry; Path) ----- |
 *   | <---- 423 Min-Expires / 404 not ours / 400 / 500 out of order ---- |
 *
 * Configuration (config.json, live): minExpires, maxExpires, defaultExpires (seconds).
 */
import {
  APP_CONFIG,
  APP_LOGGER,
  DEFAULT_REGISTRAR_OPTIONS,
  inject,
  LOCATION_SERVICE,
  RegistrarServlet,
  SipApplication,
  SipServlet,
  type AppConfig,
  type AppLogger,
  type LocationService,
  type RegistrarOptions,
  type RegistrationEvent,
  type SipServletRequest,
} from 'siplet/sdk';

@SipApplication({
  name: 'registrar',
  description: 'Registrar for the domains Siplet serves (RFC 3261 §10.3)',
  sessionTimeout: 1,
  // RFC 3261 §22: nobody binds an address of record without its password. No realm here: the
  // challenge names --auth-realm when set, else the domain of the REGISTER (each realm's own users).
  securityConstraints: [{ name: 'register', methods: ['REGISTER'] }],
})
@SipServlet({ name: 'registrar', loadOnStartup: 1 })
export class Registrar extends RegistrarServlet {
  readonly #config: AppConfig;
  readonly #log: AppLogger;

  constructor(@inject(LOCATION_SERVICE) locations: LocationService, @inject(APP_CONFIG) config: AppConfig, @inject(APP_LOGGER) log: AppLogger) {
    super(locations);
    this.#config = config;
    this.#log = log;
  }

  /** The expiry policy from config.json, read on every request so that an edit applies at once. */
  protected override registrarOptions(_request: SipServletRequest): RegistrarOptions {
    const read = (key: keyof RegistrarOptions): number => {
      const value = this.#config.get<unknown>(key);
      return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : DEFAULT_REGISTRAR_OPTIONS[key];
    };
    const minExpires = read('minExpires');
    const maxExpires = Math.max(read('maxExpires'), minExpires);
    return { minExpires, maxExpires, defaultExpires: Math.min(Math.max(read('defaultExpires'), minExpires), maxExpires) };
  }

  protected override onRegistered(event: RegistrationEvent): void {
    this.#log.info({ aor: event.aor, bindings: event.bindings.length, updated: event.updated, removed: event.removed }, 'registration');
  }
}
