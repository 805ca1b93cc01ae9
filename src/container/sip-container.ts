import {
  IllegalStateError,
  NOT_HANDLED_ATTRIBUTE,
  SipError,
  type Address,
  type B2buaHelper,
  type HttpHandler,
  type LocationService,
  type Proxy,
} from '../api/index.js';
import type { ApplicationRouter, RouterRequest, RoutingRegion } from '../router/index.js';
import { answerWithoutApplication, checkRequest, isKnownMethod, KNOWN_METHODS, newTag, SUPPORTED_OPTION_TAGS } from '../sip/core/index.js';
import { createResponse, NameAddress, parseNameAddress, parseUri, SipUri, type SipRequest, type SipResponse, type Uri } from '../sip/message/index.js';
import type { ServerTransaction, TransactionLayer } from '../sip/transaction/index.js';
import type { MessageSource } from '../sip/transport/index.js';
import type { AppDataStore } from '../store/index.js';
import { SipletError, type Logger } from '../util/index.js';
import { StoreAppData } from './app-data.js';
import { DigestAuthenticator, type AuthCounters, type AuthVerdict, type CredentialSource, type DigestAuthSettings } from './auth/index.js';
import { LegHelper, LegRegistry, type LegHost } from './b2bua/index.js';
import { ConvergedApp } from './converged/index.js';
import type { CoreHost } from './core-host.js';
import {
  parseSessionRef,
  popOurRoute,
  ProxyImpl,
  ROUTER_PARAM,
  RouterStateCodec,
  SESSION_PARAM,
  SubsequentForwarder,
  ourUri,
  type ProxyHost,
  type RoutedState,
} from './proxy/index.js';
import { DeployedApp } from './deployed-app.js';
import { loadAppFolder, loadAppModule, watchAppConfig, type LoadAppFolderOptions, type LoadAppFolderResult, type LoadedApplication } from './deploy/index.js';
import type { DescriptorShape } from './model/index.js';
import {
  IncomingRequest,
  type IncomingResponse,
  type MessageRuntime,
  type OutgoingRequest,
  type OutgoingResponse,
} from './message/index.js';
import type { SipNetwork } from './network.js';
import {
  APP_SESSION_URI_PARAM,
  SessionManager,
  SipSessionImpl,
  type ApplicationSessionImpl,
  type SessionCounts,
  type SessionEvents,
  type SessionRequestFactory,
} from './session/index.js';
import { SessionsUtilImpl, SipFactoryImpl } from './sip-factory.js';
import { TimerServiceImpl } from './timer/index.js';
import { UacCore } from './uac-core.js';
import { UasCore } from './uas-core.js';

export interface SipContainerOptions {
  transactions: TransactionLayer;
  network: SipNetwork;
  router: ApplicationRouter;
  logger: Logger;
  /** Bound as `LOCATION_SERVICE` in every app (none when absent). */
  locationService?: LocationService;
  t1?: number;
  t2?: number;
  /** The users of digest authentication; without it, requests a security constraint covers get 500. */
  credentials?: CredentialSource;
  /** Nonce lifetime, ban policy and default realm; see `DEFAULT_DIGEST_AUTH_SETTINGS`. */
  auth?: Partial<DigestAuthSettings>;
  /** How long an undeployed (or replaced) version may serve its live sessions before they are ended. Default 300 000 ms. */
  drainTimeoutMs?: number;
  /** Where apps' own data is kept (`APP_DATA`); without it, apps get no `APP_DATA`. */
  appData?: AppDataStore;
}

/**
 * Where converged apps' HTTP routes go (the HTTP server's dispatch table): the container mounts
 * the active version's routes under the app's name, swaps them on redeploy and unmounts them on
 * undeploy. `mount` may refuse a name (throw); the app then runs without HTTP routes.
 */
export interface HttpMounts {
  mount(name: string, handler: HttpHandler): void;
  unmount(name: string): void;
}

/** How a version leaves: `force` ends its dialogs at once instead of letting them finish first. */
export interface UndeployOptions {
  /** End live dialogs now (BYE, CANCEL, 503) instead of waiting for them. Default false. */
  force?: boolean;
  /** Overrides the container's drain timeout for this undeploy (ms). */
  drainTimeoutMs?: number;
}

/** How a deployment treats an app of the same name already deployed. */
export interface DeployOptions {
  /** Replace it: the new version takes new initial requests, the old one drains. Default false: refuse. */
  replace?: boolean;
  /** See `LoadAppFolderOptions.moduleKey`. */
  moduleKey?: string;
  /** Names what is deployed in failure messages. */
  label?: string;
}

const APP = 'container.app';
const OPEN: AuthVerdict = { kind: 'open' };

/** What the router chose for an initial request. */
interface Selected {
  app: DeployedApp;
  subscriberUri?: Uri;
  region?: RoutingRegion;
  /** The router's state, handed back to it when the app proxies the request (CONTINUE). */
  state: unknown;
}

/** What the application router sees of a request: read-only, public data. */
function routerView(request: SipRequest, origin: 'NETWORK' | 'APPLICATION'): RouterRequest {
  return {
    method: request.method,
    requestUri: request.uriText,
    from: request.from.uri.toString(),
    to: request.to.uri.toString(),
    header: (name) => request.get(name),
    isInitial: true,
    origin,
  };
}

export interface ContainerCounters {
  /** Requests that reached the container (ACK for 2xx not included). */
  requests: number;
  initial: number;
  /** Initial requests no application took. */
  noApplication: number;
  /** Handler errors caught by fault isolation. */
  handlerErrors: number;
}

/**
 * The SIP servlet container: the transaction user above the transaction layer.
 * It deploys applications, asks the application router which one takes each
 * initial request, keeps their sessions, and runs their servlets one event at
 * a time per application session, turning a thrown error into a 500 for that
 * request only (fault isolation).
 *
 *   request ─► CANCEL? ─► UasCore (200 + 487, then doCancel)
 *           ─► To tag? ─► session by dialog ─► servlet (subsequent request)
 *           ─► initial ─► stateless checks ─► router ─► app session ─► servlet
 */
export class SipContainer implements CoreHost, MessageRuntime, ProxyHost, LegHost {
  readonly transactions: TransactionLayer;
  readonly network: SipNetwork;
  readonly sessions = new SessionManager();
  readonly runtime: MessageRuntime = this;
  readonly log: Logger;
  readonly t1: number;
  readonly t2: number;
  readonly #router: ApplicationRouter;
  readonly #locationService: LocationService | undefined;
  /** The active version of each application: the one new initial requests go to. */
  readonly #apps = new Map<string, DeployedApp>();
  /** Versions undeployed or replaced, still serving their live sessions; each with its drain. */
  readonly #draining = new Map<DeployedApp, Drain>();
  /** Requests each session received that may still need an answer when its version is ended. */
  readonly #received = new WeakMap<SipSessionImpl, Set<IncomingRequest>>();
  /** INVITEs each session sent that may still need a CANCEL when its version is ended. */
  readonly #sent = new WeakMap<SipSessionImpl, Set<OutgoingRequest>>();
  /** BYEs and CANCELs the container sent to end a version's dialogs: their responses are not the app's. */
  readonly #ending = new WeakSet<OutgoingRequest>();
  readonly #drainTimeoutMs: number;
  readonly #uas: UasCore;
  readonly #uac: UacCore;
  readonly #forwarder: SubsequentForwarder;
  /** B2BUA legs: links, pending messages, routing of new legs (JSR 289 §12). */
  readonly #legs = new LegRegistry();
  readonly #b2bua: LegHelper;
  readonly #routerStates = new RouterStateCodec();
  readonly #auth: DigestAuthenticator;
  /** The proxy of each initial request an app proxies. */
  readonly #proxies = new WeakMap<IncomingRequest, ProxyImpl>();
  /** Router state of each initial request delivered to an app (for CONTINUE when it proxies). */
  readonly #routing = new WeakMap<IncomingRequest, { state: unknown; region?: RoutingRegion }>();
  /** Subsequent requests of proxied dialogs: forwarded once the app's handler returned. */
  readonly #toForward = new WeakSet<IncomingRequest>();
  readonly #counters: ContainerCounters = { requests: 0, initial: 0, noApplication: 0, handlerErrors: 0 };
  /** What the SIP sessions of each app report to it: one object per app, not per session (STYLE.md habit 11). */
  readonly #sessionEvents = new WeakMap<DeployedApp, SessionEvents>();
  /** How every SIP session creates its in-dialog requests: one object for all of them. */
  readonly #sessionRequests: SessionRequestFactory = { createInDialogRequest: (s, method) => this.#uac.createInDialogRequest(s, method) };
  readonly #appData: AppDataStore | undefined;
  #http: HttpMounts | undefined;

  constructor(options: SipContainerOptions) {
    this.transactions = options.transactions;
    this.network = options.network;
    this.#router = options.router;
    this.#locationService = options.locationService;
    this.log = options.logger;
    this.t1 = options.t1 ?? 500;
    this.t2 = options.t2 ?? 4000;
    this.#drainTimeoutMs = options.drainTimeoutMs ?? 300_000;
    this.#appData = options.appData;
    this.#uas = new UasCore(this);
    this.#uac = new UacCore(this);
    this.#forwarder = new SubsequentForwarder(this);
    this.#b2bua = new LegHelper(this, this.#legs);
    this.#auth = new DigestAuthenticator({ credentials: options.credentials, settings: options.auth, logger: this.log });
    this.transactions.onRequest((request, tx, source) => this.#onRequest(request, tx, source));
    this.transactions.onAck((ack, source) => this.#onAck(ack, source));
    this.transactions.onStrayResponse((response) => this.#strayResponse(response));
  }

  // ---- deployment -----------------------------------------------------------------

  /**
   * Loads and starts the app in `folder`; refuses (changing nothing) when it does not load, or when
   * its name is taken and `replace` is not set. With `replace`, the version running so far drains.
   */
  async deployFolder(folder: string, deploy: DeployOptions = {}): Promise<DeployedApp> {
    const app = await this.#deploy((options) => loadAppFolder(folder, { ...options, moduleKey: deploy.moduleKey, label: deploy.label }), deploy.replace ?? false);
    // config.json changes take effect without a redeploy.
    app.watch(watchAppConfig(folder, app.loaded.config, app.log));
    return app;
  }

  /** Deploys an application from module exports in memory (tests, embedding). */
  deployModule(moduleExports: Record<string, unknown>, source: { label: string; descriptor?: Partial<DescriptorShape>; config?: Record<string, unknown> }): Promise<DeployedApp> {
    return this.#deploy((options) => loadAppModule(moduleExports, source, options), false);
  }

  async #deploy(load: (options: LoadAppFolderOptions) => Promise<LoadAppFolderResult>, replace: boolean): Promise<DeployedApp> {
    const app = new DeployedApp(this.log);
    const host = this;
    let factory: SipFactoryImpl | undefined;
    const sipFactory = (): SipFactoryImpl => (factory ??= new SipFactoryImpl(app, host));
    const result = await load({
      logger: this.log,
      services: {
        sipFactory: sipFactory(),
        timerService: new TimerServiceImpl(app),
        sipSessionsUtil: new SessionsUtilImpl(app, host.sessions, sipFactory()),
        locationService: this.#locationService,
        appData: this.#appData === undefined ? undefined : (name) => new StoreAppData(this.#appData as AppDataStore, name),
      },
    });
    if (!result.ok) throw new SipletError('SIPLET_DEPLOY_FAILED', result.failure.message, { cause: result.failure.cause });
    return this.#activate(app, result.app, replace);
  }

  async #activate(app: DeployedApp, loaded: LoadedApplication, replace: boolean): Promise<DeployedApp> {
    const name = loaded.model.name;
    const previous = this.#apps.get(name);
    if (previous !== undefined && !replace) {
      await loaded.destroy();
      throw new SipletError('SIPLET_DEPLOY_FAILED', `An application named ${name} is already deployed: undeploy it first or give the new one another name.`);
    }
    app.attach(loaded);
    app.converged = this.#convergedSide(app);
    app.state = 'active';
    this.#apps.set(name, app);
    this.#mountHttp(app);
    if (previous === undefined) this.#router.applicationDeployed([name]);
    this.log.info({ app: name, version: loaded.model.version, servlets: loaded.model.servlets.map((s) => s.name) }, previous === undefined ? 'application deployed' : 'application redeployed');
    // The version replaced keeps its live dialogs until they end or the drain timeout.
    if (previous !== undefined) this.#drain(previous, {}).catch((error: unknown) => this.log.error({ err: error, app: name }, 'ending the replaced version failed'));
    return app;
  }

  /**
   * Undeploys an application. At once, the router sends it no new initial request (they get the
   * answers of a server without that app: 404 for our domains, 403 otherwise). Gracefully (the
   * default), its live dialogs go on reaching it until they end or the drain timeout passes;
   * `force` ends them now. Ending means BYE for confirmed dialogs, CANCEL for INVITEs it sent
   * still pending, 503 for requests it has not answered, and every branch cancelled for requests
   * it proxies. Then it is destroyed. Resolves once that is done (the app stops taking new
   * requests before the first await). Also ends versions of that name still draining; with
   * `force`, at once.
   */
  async undeploy(name: string, options: UndeployOptions = {}): Promise<void> {
    const app = this.#apps.get(name);
    const draining = [...this.#draining.keys()].filter((d) => d.name === name);
    if (app === undefined && draining.length === 0) {
      throw new SipletError('SIPLET_DEPLOY_FAILED', `No application named ${name} is deployed: list them with "siplet apps".`, { details: { name, notFound: true } });
    }
    if (app !== undefined) {
      this.#apps.delete(name);
      this.#router.applicationUndeployed([name]);
      this.#unmountHttp(name);
    }
    await Promise.all([...(app === undefined ? [] : [app]), ...draining].map((version) => this.#drain(version, options)));
  }

  /** The active version of every application. */
  applications(): DeployedApp[] {
    return [...this.#apps.values()];
  }

  /** Every version still loaded: the active ones, then those draining. */
  versions(): DeployedApp[] {
    return [...this.#apps.values(), ...this.#draining.keys()];
  }

  /**
   * Gives converged apps' HTTP routes a place to go (the HTTP server's dispatch table): the
   * routes of every active version are mounted now, and kept in step with deployments from here on.
   */
  attachHttp(mounts: HttpMounts): void {
    this.#http = mounts;
    for (const app of this.#apps.values()) this.#mountHttp(app);
  }

  /** The HTTP side of a version whose app declares `http.router`. */
  #convergedSide(app: DeployedApp): ConvergedApp | undefined {
    const routes = app.loaded.http;
    if (routes === undefined) return undefined;
    const model = app.loaded.model;
    // As for SIP requests joining one: an application session of any version still running (a
    // call placed before a redeploy stays reachable from the new version's routes).
    const find = (id: string): ApplicationSessionImpl | undefined => {
      const s = this.sessions.getApplicationSession(id);
      return s !== undefined && s.isValid() && s.getApplicationName() === app.name && stillServed(s) ? s : undefined;
    };
    return new ConvergedApp({
      name: model.name,
      routes,
      log: app.log,
      sessionTimeoutMinutes: model.sessionTimeout,
      find,
      lookup: (id) => this.sessions.getApplicationSession(id),
      create: () => {
        const s = this.sessions.createApplicationSession({ applicationName: app.name, timeoutMinutes: model.sessionTimeout, events: app });
        s.internal.set(APP, app);
        return s;
      },
    });
  }

  /** The active version's routes under its name, or none when this version has none (a redeploy may drop them). */
  #mountHttp(app: DeployedApp): void {
    if (this.#http === undefined) return;
    if (app.converged === undefined) {
      this.#unmountHttp(app.name);
      return;
    }
    try {
      this.#http.mount(app.name, app.converged.handler);
      this.log.info({ app: app.name, path: `/${app.name}/` }, 'HTTP routes mounted');
    } catch (error) {
      this.log.error({ err: error, app: app.name }, `the HTTP routes of ${app.name} could not be mounted; it runs without them`);
    }
  }

  #unmountHttp(name: string): void {
    this.#http?.unmount(name);
  }

  /**
   * Drains a version no longer active (its drain is started once; a later call with `force`
   * hurries it): waits until its application sessions are gone or the timeout passes, ends what
   * is left, then destroys it.
   */
  #drain(app: DeployedApp, options: UndeployOptions): Promise<void> {
    let drain = this.#draining.get(app);
    if (drain === undefined) {
      app.state = 'draining';
      let hurry = (): void => undefined;
      const hurried = new Promise<void>((resolve) => (hurry = resolve));
      const timeoutMs = options.drainTimeoutMs ?? this.#drainTimeoutMs;
      const created: Drain = { hurry, done: Promise.resolve() };
      drain = created;
      this.#draining.set(app, created);
      this.log.info({ app: app.name, version: app.loaded.model.version, sessions: app.liveSessions.length, timeoutMs: options.force ? 0 : timeoutMs }, options.force ? 'ending the application\'s dialogs now' : 'application draining');
      created.done = (async () => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
          timer.unref?.();
        });
        try {
          if (!options.force) await Promise.race([app.whenIdle(), timedOut, hurried]);
          clearTimeout(timer);
          await this.#end(app);
        } finally {
          clearTimeout(timer);
          this.#draining.delete(app);
        }
      })();
    }
    if (options.force) drain.hurry();
    return drain.done;
  }

  /**
   * Ends a version's remaining dialogs and transactions (see `undeploy`), gives the peers a short
   * while to answer, then invalidates what is left and destroys the version.
   */
  async #end(app: DeployedApp): Promise<void> {
    const left = app.liveSessions.length;
    if (left > 0) {
      for (const appSession of app.liveSessions) {
        for (const session of (appSession as ApplicationSessionImpl).getSessions()) this.#endSession(session);
      }
      // The BYEs and CANCELs get their answers (or time out) meanwhile; sessions so ended go by themselves.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([app.whenIdle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(16 * this.t1, 4000))))]);
      clearTimeout(timer);
      for (const appSession of app.liveSessions) appSession.invalidate();
    }
    app.unwatch();
    app.converged?.close();
    await app.loaded.destroy();
    app.state = 'undeployed';
    this.log.info({ app: app.name, version: app.loaded.model.version, endedSessions: left }, 'application undeployed');
  }

  /** Ends one SIP session of a version being removed. */
  #endSession(session: SipSessionImpl): void {
    if (!session.isValid()) return;
    for (const request of this.#received.get(session) ?? []) {
      // A subsequent request of a proxied dialog is the peer's to answer: it was forwarded.
      if (request.isCommitted() || this.#toForward.has(request)) continue;
      const proxy = this.#proxies.get(request);
      // RFC 3261 §16.10: a proxy cancels its branches; their 487 goes upstream as the best response.
      if (proxy !== undefined) proxy.cancel();
      else this.#reject(request, 503, 'Service Unavailable (application undeployed)');
    }
    for (const invite of this.#sent.get(session) ?? []) {
      if (invite.finalResponse !== undefined || invite.transaction === undefined) continue;
      try {
        const cancel = invite.createCancel() as OutgoingRequest;
        this.#ending.add(cancel);
        cancel.send().catch((error: unknown) => this.log.debug({ err: error }, 'could not cancel an INVITE of an undeployed application'));
      } catch (error) {
        this.log.debug({ err: error }, 'could not cancel an INVITE of an undeployed application');
      }
    }
    if (session.role !== 'PROXY' && session.getState() === 'CONFIRMED' && session.dialog !== undefined) {
      try {
        const bye = session.createRequest('BYE') as OutgoingRequest;
        this.#ending.add(bye);
        bye.send().catch((error: unknown) => this.log.debug({ err: error }, 'could not send BYE for an undeployed application'));
      } catch (error) {
        this.log.debug({ err: error }, 'could not send BYE for an undeployed application');
      }
    }
  }

  stats(): { counters: ContainerCounters; sessions: SessionCounts; applications: string[]; auth: AuthCounters } {
    return { counters: { ...this.#counters }, sessions: this.sessions.counts(), applications: [...this.#apps.keys()], auth: { ...this.#auth.counters } };
  }

  /** Drops every version and its sessions at once (no BYE: the server is going away). */
  async close(): Promise<void> {
    const versions = this.versions();
    for (const name of this.#apps.keys()) this.#unmountHttp(name);
    this.#apps.clear();
    for (const app of versions) {
      this.#draining.get(app)?.hurry();
      for (const s of app.liveSessions) s.invalidate();
      if (!this.#draining.has(app)) {
        app.unwatch();
        app.converged?.close();
        await app.loaded.destroy();
        app.state = 'undeployed';
      }
    }
    await Promise.all([...this.#draining.values()].map((d) => d.done));
  }

  // ---- CoreHost ----------------------------------------------------------------------

  appOf(session: SipSessionImpl): DeployedApp | undefined {
    return session.getApplicationSession().internal.get(APP) as DeployedApp | undefined;
  }

  /** The events object the SIP sessions of `app` share: the app's handlers, and the index dropping a destroyed session. */
  #sessionEventsOf(app: DeployedApp): SessionEvents {
    let events = this.#sessionEvents.get(app);
    if (events === undefined) {
      const sessions = this.sessions;
      events = {
        ...forward(app),
        sessionDestroyed(s) {
          sessions.forget(s as SipSessionImpl);
          app.sessionDestroyed(s);
        },
      };
      this.#sessionEvents.set(app, events);
    }
    return events;
  }

  createSession(
    app: DeployedApp,
    appSession: ApplicationSessionImpl,
    init: { callId: string; local: Address; remote: Address; role: 'UAC' | 'UAS'; derivedFrom?: SipSessionImpl },
  ): SipSessionImpl {
    appSession.internal.set(APP, app);
    const session = new SipSessionImpl({
      appSession,
      callId: init.callId,
      localParty: init.local,
      remoteParty: init.remote,
      role: init.role,
      handler: app.mainServlet,
      derivedFrom: init.derivedFrom,
      requests: this.#sessionRequests,
      events: this.#sessionEventsOf(app),
    });
    this.sessions.sipSessionCreated();
    app.sessionCreated(session);
    return session;
  }

  dispatchRequest(request: IncomingRequest): void {
    const session = request.getSession();
    this.#legs.received(request);
    if (request.transaction !== undefined) remember(this.#received, session, request, isAnswered);
    const app = this.appOf(session);
    if (app === undefined) {
      this.#reject(request, 500, 'Server Internal Error (no application for this session)');
      return;
    }
    // JSR 289 §6.2.4.1.2: the session is not invalidated under a servlet that has yet to
    // see (or is still handling) an event of it: the dispatch counts as pending work.
    session.transactionStarted();
    void session.getApplicationSession().queue.run(async () => {
      try {
        await this.#serveRequest(app, session, request);
      } finally {
        session.transactionEnded();
      }
    });
  }

  async #serveRequest(app: DeployedApp, session: SipSessionImpl, request: IncomingRequest): Promise<void> {
    session.access();
    const servletName = session.getHandler();
    const servlet = app.loaded.getServlet(servletName);
    try {
      if (servlet === undefined) throw new Error(`the application has no servlet named ${servletName}`);
      await servlet.handleRequest(request);
    } catch (error) {
      this.#counters.handlerErrors++;
      app.log.error({ err: error, app: app.name, servlet: servletName, method: request.getMethod() }, `servlet ${servletName} of ${app.name} failed on ${request.getMethod()}`);
      if (error instanceof SipError) this.#reject(request, error.status, error.reason);
      else this.#reject(request, 500);
      return;
    }
    if (this.#toForward.has(request)) {
      // A subsequent request of a record-routed proxy: it goes on once the app has seen it (JSR 289 §10.2.5).
      if (request.getMethod() === 'ACK') this.#forwarder.relay(request.message, undefined);
      else if (!request.isCommitted()) this.#forwarder.forward(request);
      return;
    }
    if (!request.isCommitted() && request.getAttribute(NOT_HANDLED_ATTRIBUTE) === true) {
      // JSR 289 §2.3.1: what the servlet did not handle is refused. A subsequent request the app has
      // no handler for is refused too, rather than left unanswered.
      if (isKnownMethod(request.getMethod())) this.#reject(request, 500, 'Request not handled by app');
      else this.#reject(request, 501, undefined, [['Allow', KNOWN_METHODS.join(', ')]]);
    }
  }

  dispatchResponse(response: IncomingResponse): void {
    const session = response.getSession();
    this.#legs.responseReceived(response);
    const app = this.appOf(session);
    if (app === undefined || this.#ending.has(response.getRequest())) return;
    session.transactionStarted();
    void session.getApplicationSession().queue.run(async () => {
      session.access();
      const servletName = session.getHandler();
      try {
        const servlet = app.loaded.getServlet(servletName);
        if (servlet === undefined) throw new Error(`the application has no servlet named ${servletName}`);
        await servlet.handleResponse(response);
      } catch (error) {
        this.#counters.handlerErrors++;
        app.log.error({ err: error, app: app.name, servlet: servletName, status: response.getStatus() }, `servlet ${servletName} of ${app.name} failed on a ${response.getStatus()} response`);
      } finally {
        session.transactionEnded();
      }
    });
  }

  // ---- ProxyHost -------------------------------------------------------------------------

  enqueue(session: SipSessionImpl, task: () => Promise<void> | void): void {
    session.transactionStarted();
    void session.getApplicationSession().queue.run(async () => {
      try {
        session.access();
        await task();
      } finally {
        session.transactionEnded();
      }
    });
  }

  async invokeResponse(response: IncomingResponse): Promise<void> {
    const session = response.getSession();
    const app = this.appOf(session);
    if (app === undefined) return;
    const servletName = session.getHandler();
    try {
      const servlet = app.loaded.getServlet(servletName);
      if (servlet === undefined) throw new Error(`the application has no servlet named ${servletName}`);
      await servlet.handleResponse(response);
    } catch (error) {
      this.#counters.handlerErrors++;
      app.log.error({ err: error, app: app.name, servlet: servletName, status: response.getStatus() }, `servlet ${servletName} of ${app.name} failed on a ${response.getStatus()} response`);
    }
  }

  /**
   * JSR 289 §15.4.1: a request an app proxies goes back to the application
   * router (CONTINUE). When it names another application, the request is
   * routed to this server again with the router's state in a Route parameter
   * (§15.6), so the next application gets it as an initial request.
   */
  continueRouting(branchRequest: OutgoingRequest, original: IncomingRequest): NameAddress[] {
    const routed = this.#routing.get(original);
    const msg = branchRequest.message;
    let info;
    try {
      info = this.#router.getNextApplication(routerView(msg, 'APPLICATION'), routed?.region, 'CONTINUE', undefined, routed?.state);
    } catch (error) {
      this.log.error({ err: error }, 'the application router failed; the request goes out without further applications');
      return [];
    }
    const routes: NameAddress[] = [];
    if (info?.routeModifier === 'ROUTE' || info?.routeModifier === 'ROUTE_BACK') {
      for (const r of info.routes ?? []) {
        const a = parseNameAddress(r.startsWith('<') ? r : `<${r}>`);
        if (a !== undefined) routes.push(a);
      }
      if (info.routeModifier === 'ROUTE' || info.nextApplicationName === undefined) return routes;
    }
    const next = info?.nextApplicationName;
    if (next === undefined || !this.#apps.has(next)) return routes;
    const protocol = original.source?.protocol ?? 'udp';
    const uri = ourUri(this.network.sentBy(protocol), protocol);
    uri.params.set(ROUTER_PARAM, this.#routerStates.encode({ app: next, state: info?.stateInfo, region: info?.routingRegion, subscriber: info?.subscriberUri }));
    routes.push(new NameAddress(uri));
    return routes;
  }

  // ---- MessageRuntime ------------------------------------------------------------------

  sendResponse(response: OutgoingResponse): Promise<void> {
    return this.#uas.sendResponse(response);
  }

  sendReliably(response: OutgoingResponse): Promise<void> {
    return this.#uas.sendReliably(response);
  }

  sendRequest(request: OutgoingRequest): Promise<void> {
    if (request.message.method === 'INVITE') remember(this.#sent, request.getSession(), request, isFinished);
    const routedFrom = this.#legs.sending(request);
    if (routedFrom !== undefined) {
      // JSR 289 §15.4.1: a new B2BUA leg continues the routing of the request it copies (CONTINUE).
      for (const route of this.continueRouting(request, routedFrom).reverse()) request.message.add('Route', route.toString(), { first: true });
    }
    return this.#uac.sendRequest(request);
  }

  cancel(invite: OutgoingRequest): Promise<void> {
    return this.#uac.cancel(invite);
  }

  createAck(response: IncomingResponse): OutgoingRequest {
    return this.#uac.createAck(response);
  }

  createPrack(response: IncomingResponse): OutgoingRequest {
    return this.#uac.createPrack(response);
  }

  getProxy(request: IncomingRequest, create: boolean): Proxy {
    const existing = this.#proxies.get(request);
    if (existing !== undefined) return existing;
    if (!request.isInitial()) {
      throw new IllegalStateError('subsequent requests of a proxied dialog are proxied by the container; getProxy() applies to the initial request');
    }
    if (!create) throw new IllegalStateError('this request is not being proxied; call getProxy() (or getProxy(true)) to start');
    if (request.isCommitted()) throw new IllegalStateError('the request was already answered; it cannot be proxied');
    const session = request.getSession();
    if (this.#legs.isLeg(session)) {
      throw new IllegalStateError('the application took this request as a B2BUA (getB2buaHelper()); it cannot proxy it as well (JSR 289 §12)');
    }
    const app = this.appOf(session);
    const proxy = new ProxyImpl(this, request, app?.loaded.model.proxyTimeout ?? 180);
    session.role = 'PROXY';
    this.#proxies.set(request, proxy);
    return proxy;
  }

  getB2buaHelper(request: IncomingRequest | OutgoingRequest): B2buaHelper {
    const session = request.getSession();
    if (session.role === 'PROXY' || (request instanceof IncomingRequest && this.#proxies.has(request))) {
      throw new IllegalStateError('the application proxies this request (getProxy()); it cannot act as a B2BUA for it as well (JSR 289 §12)');
    }
    this.#legs.join(session);
    return this.#b2bua;
  }

  // ---- LegHost -----------------------------------------------------------------------------

  createSessionLike(
    like: SipSessionImpl,
    init: { callId: string; local: Address; remote: Address; role: 'UAC' | 'UAS'; derivedFrom?: SipSessionImpl },
  ): SipSessionImpl {
    const app = this.appOf(like);
    if (app === undefined) throw new IllegalStateError(`the application of SIP session ${like.getId()} is no longer deployed`);
    return this.createSession(app, like.getApplicationSession(), init);
  }

  // ---- transaction user ------------------------------------------------------------------

  #onRequest(request: SipRequest, tx: ServerTransaction, source: MessageSource): void {
    this.#counters.requests++;
    if (request.method === 'CANCEL' && tx.kind === 'server-non-invite') {
      const invite = tx.cancelled ? this.#uas.requestOf(tx.cancelled) : undefined;
      const proxy = invite ? this.#proxies.get(invite) : undefined;
      if (invite !== undefined && proxy !== undefined) {
        // RFC 3261 §16.10: answer the CANCEL, cancel every branch; the 487s come back as the best response.
        tx.respond(createResponse(request, 200));
        proxy.cancel();
        const cancel = new IncomingRequest({ request, session: invite.getSession(), source, runtime: this, initial: false, transaction: tx });
        cancel.commit();
        this.dispatchRequest(cancel);
        return;
      }
      this.#uas.handleCancel(request, tx);
      return;
    }
    if (request.to.tag !== undefined) {
      this.#subsequent(request, tx, source);
      return;
    }
    this.#initial(request, tx, source);
  }

  #subsequent(request: SipRequest, tx: ServerTransaction, source: MessageSource): void {
    const popped = this.#popRoute(request);
    if (popped !== undefined) {
      // RFC 3261 §16.12: routed here by our Record-Route; the proxy application sees it, then it goes on.
      const proxySession = this.#proxySession(popped.uri);
      if (proxySession === undefined) {
        this.#forwarder.relay(request, tx);
        return;
      }
      const auth = this.#authenticate(this.appOf(proxySession), request, tx, source, proxySession.getHandler(), false);
      if (auth === undefined) return;
      proxySession.transactionStarted();
      const wrapped = new IncomingRequest({ request, session: proxySession, source, runtime: this, initial: false, transaction: tx, poppedRoute: popped });
      signIn(wrapped, auth);
      this.#uas.track(wrapped);
      this.#toForward.add(wrapped);
      this.dispatchRequest(wrapped);
      return;
    }
    const session = this.sessions.findByDialog(request.callId, request.to.tag ?? '', request.from.tag ?? '');
    if (session === undefined || !session.isValid() || session.dialog === undefined) {
      tx.respond(createResponse(request, 481));
      return;
    }
    const dialog = session.dialog;
    // RFC 3261 §12.2.2: a lower CSeq than the last one is out of order.
    if (!dialog.acceptRemoteSeq(request)) {
      tx.respond(createResponse(request, 500, { reason: 'Server Internal Error (CSeq out of order)' }));
      return;
    }
    // Before the request changes the dialog (its remote target, a PRACK's answer).
    const auth = this.#authenticate(this.appOf(session), request, tx, source, session.getHandler(), false);
    if (auth === undefined) return;
    if (request.method === 'INVITE' || request.method === 'UPDATE' || request.method === 'SUBSCRIBE' || request.method === 'NOTIFY') {
      dialog.refreshTarget(request);
    }
    // RFC 3262 §3: a PRACK that acknowledges no pending reliable 1xx is answered 481.
    if (request.method === 'PRACK' && !this.#uas.prackReceived(session, request)) {
      tx.respond(createResponse(request, 481, { reason: 'Call/Transaction Does Not Exist (no reliable provisional response to acknowledge)' }));
      return;
    }
    session.transactionStarted();
    const wrapped = new IncomingRequest({ request, session, source, runtime: this, initial: false, transaction: tx });
    signIn(wrapped, auth);
    this.#uas.track(wrapped);
    this.dispatchRequest(wrapped);
  }

  #onAck(ack: SipRequest, source: MessageSource): void {
    const popped = this.#popRoute(ack);
    if (popped !== undefined) {
      const proxySession = this.#proxySession(popped.uri);
      if (proxySession === undefined) {
        this.#forwarder.relay(ack, undefined);
        return;
      }
      const wrapped = new IncomingRequest({ request: ack, session: proxySession, source, runtime: this, initial: false, transaction: undefined, poppedRoute: popped });
      this.#toForward.add(wrapped);
      this.dispatchRequest(wrapped);
      return;
    }
    const session = this.sessions.findByDialog(ack.callId, ack.to.tag ?? '', ack.from.tag ?? '');
    if (session === undefined || !session.isValid()) {
      this.log.debug({ callId: ack.callId }, 'ACK for no dialog dropped');
      return;
    }
    this.#uas.ackReceived(session, ack);
    this.dispatchRequest(new IncomingRequest({ request: ack, session, source, runtime: this, initial: false, transaction: undefined }));
  }

  #initial(request: SipRequest, tx: ServerTransaction, source: MessageSource): void {
    this.#counters.initial++;
    if (request.method === 'ACK') return;
    const popped = this.#popRoute(request);
    const routed = popped?.uri instanceof SipUri ? this.#routerStates.decode(popped.uri.params.get(ROUTER_PARAM)) : undefined;
    const refusal = checkRequest(request, { supported: SUPPORTED_OPTION_TAGS, forwarding: false });
    if (refusal !== undefined) {
      const res = createResponse(request, refusal.status, { reason: refusal.reason, toTag: newTag() });
      for (const [name, value] of refusal.headers ?? []) res.add(name, value);
      tx.respond(res);
      return;
    }
    const selected = routed !== undefined ? this.#continued(routed) : this.#select(request);
    if (selected === undefined) {
      this.#counters.noApplication++;
      this.#withoutApplication(request, tx, popped !== undefined);
      return;
    }
    const { app, subscriberUri, region } = selected;
    const auth = this.#authenticate(app, request, tx, source, app.mainServlet, true);
    if (auth === undefined) return;
    const wrapped = new IncomingRequest({
      request,
      session: undefined,
      source,
      runtime: this,
      initial: true,
      transaction: tx,
      subscriberUri,
      routingRegion: region,
      poppedRoute: popped,
    });
    signIn(wrapped, auth);
    this.#routing.set(wrapped, { state: selected.state, region });
    const appSession = this.#applicationSession(app, wrapped);
    // A request joining an application session (by key or encoded URI) goes to the version that owns
    // it: a service instance started on a version being replaced finishes on it.
    const owner = (appSession.internal.get(APP) as DeployedApp | undefined) ?? app;
    const local = request.to.clone();
    local.tag = newTag();
    const session = this.createSession(owner, appSession, { callId: request.callId, local, remote: request.from.clone(), role: 'UAS' });
    session.transactionStarted();
    wrapped.attach(session);
    this.#uas.track(wrapped);
    this.dispatchRequest(wrapped);
  }

  /**
   * RFC 3261 §22: digest authentication of a request the app's security constraints cover, before a
   * session or servlet sees it. `undefined`: it was answered (challenge, 400, 403, 500) instead.
   */
  #authenticate(app: DeployedApp | undefined, request: SipRequest, tx: ServerTransaction, source: MessageSource, servlet: string, initial: boolean): AuthVerdict | undefined {
    if (app === undefined || app.loaded.model.securityConstraints.length === 0) return OPEN;
    const verdict = this.#auth.authenticate({ request, source, model: app.loaded.model, servlet, initial });
    if (verdict.kind !== 'refused') return verdict;
    tx.respond(verdict.response);
    return undefined;
  }

  /** JSR 289 §15.4: the application router picks the app for an initial request. */
  #select(request: SipRequest): Selected | undefined {
    const routerRequest = routerView(request, 'NETWORK');
    let info;
    try {
      info = this.#router.getNextApplication(routerRequest, undefined, 'NEW', undefined, undefined);
    } catch (error) {
      this.log.error({ err: error }, 'the application router failed; no application selected');
      return undefined;
    }
    const name = info?.nextApplicationName;
    if (name === undefined) return undefined;
    const app = this.#apps.get(name);
    if (app === undefined || app.state !== 'active') return undefined;
    const subscriberUri = info?.subscriberUri ? parseUri(info.subscriberUri) : undefined;
    return { app, subscriberUri, region: info?.routingRegion, state: info?.stateInfo };
  }

  /** An initial request an earlier application proxied to the next one (JSR 289 §15.6). */
  #continued(routed: RoutedState): Selected | undefined {
    const app = this.#apps.get(routed.app);
    if (app === undefined || app.state !== 'active') return undefined;
    return { app, subscriberUri: routed.subscriber ? parseUri(routed.subscriber) : undefined, region: routed.region, state: routed.state };
  }

  /**
   * No application takes the request. Requests for our own domains get the
   * core's UAS answer (404 when nobody serves the address); others are relayed
   * only to the configured relay domains, and refused otherwise: never an open relay.
   */
  #withoutApplication(request: SipRequest, tx: ServerTransaction, routedHere: boolean): void {
    const uri = request.uri;
    const foreign = uri instanceof SipUri && !routedHere && !this.network.isLocalDomain(uri);
    if (foreign && this.network.mayRelay(uri)) {
      this.#forwarder.relay(request, tx);
      return;
    }
    const res = answerWithoutApplication(request);
    if (res === undefined) return;
    // Not ours and not relayed: refused, OPTIONS too (answering 200 for another domain would claim it).
    if (foreign && (res.status === 404 || (request.method === 'OPTIONS' && res.status === 200))) {
      tx.respond(createResponse(request, 403, { reason: 'Forbidden (relaying denied)', toTag: newTag() }));
      return;
    }
    tx.respond(res);
  }

  /** RFC 3261 §16.4: removes the top Route when it is us (and handles a strict-routing previous hop). */
  #popRoute(request: SipRequest): NameAddress | undefined {
    const uri = request.uri;
    if (uri instanceof SipUri && uri.params.has(SESSION_PARAM) && this.network.isOurs(uri)) {
      // A strict router put our Record-Route URI in the Request-URI: restore the real one from the last Route.
      const routes = request.getAll('route');
      const last = routes[routes.length - 1];
      const lastAddress = last === undefined ? undefined : parseNameAddress(last);
      if (lastAddress !== undefined) {
        request.remove('route');
        for (const r of routes.slice(0, -1)) request.add('Route', r);
        request.uri = lastAddress.uri;
        return new NameAddress(uri);
      }
    }
    return popOurRoute(request, (u) => this.network.isOurs(u));
  }

  /** The proxy session a Record-Route URI of ours names, if it is still alive. */
  #proxySession(uri: Uri): SipSessionImpl | undefined {
    if (!(uri instanceof SipUri)) return undefined;
    const ref = parseSessionRef(uri.params.get(SESSION_PARAM));
    if (ref === undefined) return undefined;
    const session = this.sessions.getApplicationSession(ref.appSessionId)?.getSipSession(ref.sessionId);
    return session !== undefined && session.isValid() ? session : undefined;
  }

  /** A response no client transaction matched: a retransmitted 2xx for a UA, or one to relay upstream as a proxy. */
  #strayResponse(response: SipResponse): void {
    if (this.#uac.strayResponse(response)) return;
    const via = response.topVia;
    if (via === undefined || response.via.length < 2) return;
    const sentBy = new SipUri({ host: via.host, port: via.port });
    if (!this.network.isOurs(sentBy)) return;
    // RFC 3261 §16.11 / RFC 6026: a stateful proxy relays a stray 2xx to INVITE statelessly.
    if (response.cseq.method !== 'INVITE' || response.status < 200 || response.status >= 300) return;
    const copy = response.clone();
    copy.removeFirst('via');
    this.network.forwardResponse(copy).catch((error: unknown) => this.log.debug({ err: error }, 'could not relay a stray 2xx'));
  }

  /**
   * The application session an initial request joins (JSR 289 §15.11): the one
   * its @SipApplicationKey names, the one encoded in its Request-URI, or a new one.
   */
  #applicationSession(app: DeployedApp, wrapped: IncomingRequest): ApplicationSessionImpl {
    const model = app.loaded.model;
    const request = wrapped.message;
    const encoded = request.uri instanceof SipUri ? request.uri.params.get(APP_SESSION_URI_PARAM) : undefined;
    if (encoded) {
      const s = this.sessions.getApplicationSession(encoded);
      if (s !== undefined && s.isValid() && s.getApplicationName() === app.name && stillServed(s)) return s;
    }
    let key: string | undefined;
    if (model.applicationKey !== undefined) {
      try {
        key = model.applicationKey(wrapped) ?? undefined;
      } catch (error) {
        app.error(error, '@SipApplicationKey method');
      }
      if (key !== undefined) {
        const existing = this.sessions.getApplicationSessionByKey(app.name, key);
        if (existing !== undefined && existing.isValid() && stillServed(existing)) return existing;
      }
    }
    return this.sessions.createApplicationSession({ applicationName: app.name, timeoutMinutes: model.sessionTimeout, events: app, key });
  }

  /** Answers a request with an error unless it is an ACK or already answered. */
  #reject(request: IncomingRequest, status: number, reason?: string, headers: [string, string][] = []): void {
    if (request.getMethod() === 'ACK' || request.isCommitted()) return;
    try {
      const res = request.createResponse(status, reason) as OutgoingResponse;
      for (const [n, v] of headers) res.message.add(n, v);
      res.send().catch((error: unknown) => this.log.debug({ err: error }, 'could not send an error response'));
    } catch (error) {
      this.log.debug({ err: error }, 'could not answer a failed request');
    }
  }
}

interface Drain {
  /** Ends the wait for live sessions now (a forced undeploy while draining). */
  hurry(): void;
  done: Promise<void>;
}

/** An application session whose version still runs (active or draining) can take new requests. */
function stillServed(session: ApplicationSessionImpl): boolean {
  const owner = session.internal.get(APP) as DeployedApp | undefined;
  return owner === undefined || owner.state === 'active' || owner.state === 'draining';
}

const isAnswered = (request: IncomingRequest): boolean => request.isCommitted();
const isFinished = (request: OutgoingRequest): boolean => request.finalResponse !== undefined;

/** Adds a message to its session's set, first dropping those `done` says need nothing more. */
function remember<T>(map: WeakMap<SipSessionImpl, Set<T>>, session: SipSessionImpl, item: T, done: (item: T) => boolean): void {
  let set = map.get(session);
  if (set === undefined) map.set(session, (set = new Set()));
  for (const old of set) if (done(old)) set.delete(old);
  set.add(item);
}

/** Gives a request the user digest authentication found (getUserPrincipal, isUserInRole). */
function signIn(request: IncomingRequest, verdict: AuthVerdict): void {
  if (verdict.kind !== 'authenticated') return;
  request.userPrincipal = verdict.principal;
  request.roles = verdict.roles;
}

/** Forwards every session event to the app (a plain object the session can hold). */
function forward(app: DeployedApp) {
  return {
    appSessionCreated: app.appSessionCreated.bind(app),
    appSessionDestroyed: app.appSessionDestroyed.bind(app),
    appSessionReadyToInvalidate: app.appSessionReadyToInvalidate.bind(app),
    appSessionExpired: app.appSessionExpired.bind(app),
    appSessionAttribute: app.appSessionAttribute.bind(app),
    sessionCreated: app.sessionCreated.bind(app),
    sessionDestroyed: app.sessionDestroyed.bind(app),
    sessionReadyToInvalidate: app.sessionReadyToInvalidate.bind(app),
    sessionAttribute: app.sessionAttribute.bind(app),
    timerFired: app.timerFired.bind(app),
    error: app.error.bind(app),
  };
}
