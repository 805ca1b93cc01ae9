import {
  NOT_HANDLED_ATTRIBUTE,
  SipError,
  type Address,
  type B2buaHelper,
  type Proxy,
} from '../api/index.js';
import type { ApplicationRouter, RouterRequest } from '../router/index.js';
import { answerWithoutApplication, checkRequest, isKnownMethod, KNOWN_METHODS, newTag, SUPPORTED_OPTION_TAGS } from '../sip/core/index.js';
import { createResponse, parseUri, SipUri, type SipRequest, type Uri } from '../sip/message/index.js';
import type { ServerTransaction, TransactionLayer } from '../sip/transaction/index.js';
import type { MessageSource } from '../sip/transport/index.js';
import { SipletError, type Logger } from '../util/index.js';
import type { CoreHost } from './core-host.js';
import { DeployedApp } from './deployed-app.js';
import { loadAppFolder, loadAppModule, type LoadAppFolderOptions, type LoadAppFolderResult, type LoadedApplication } from './deploy/index.js';
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
  t1?: number;
  t2?: number;
}

const APP = 'container.app';

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
export class SipContainer implements CoreHost, MessageRuntime {
  readonly transactions: TransactionLayer;
  readonly network: SipNetwork;
  readonly sessions = new SessionManager();
  readonly runtime: MessageRuntime = this;
  readonly log: Logger;
  readonly t1: number;
  readonly t2: number;
  readonly #router: ApplicationRouter;
  readonly #apps = new Map<string, DeployedApp>();
  readonly #uas: UasCore;
  readonly #uac: UacCore;
  readonly #counters: ContainerCounters = { requests: 0, initial: 0, noApplication: 0, handlerErrors: 0 };

  constructor(options: SipContainerOptions) {
    this.transactions = options.transactions;
    this.network = options.network;
    this.#router = options.router;
    this.log = options.logger;
    this.t1 = options.t1 ?? 500;
    this.t2 = options.t2 ?? 4000;
    this.#uas = new UasCore(this);
    this.#uac = new UacCore(this);
    this.transactions.onRequest((request, tx, source) => this.#onRequest(request, tx, source));
    this.transactions.onAck((ack, source) => this.#onAck(ack, source));
    this.transactions.onStrayResponse((response) => this.#uac.strayResponse(response));
  }

  // ---- deployment -----------------------------------------------------------------

  /** Loads and starts the app in `folder`; refuses (changing nothing) when it does not load or its name is taken. */
  deployFolder(folder: string): Promise<DeployedApp> {
    return this.#deploy((options) => loadAppFolder(folder, options));
  }

  /** Deploys an application from module exports in memory (tests, embedding). */
  deployModule(moduleExports: Record<string, unknown>, source: { label: string; descriptor?: Partial<DescriptorShape>; config?: Record<string, unknown> }): Promise<DeployedApp> {
    return this.#deploy((options) => loadAppModule(moduleExports, source, options));
  }

  async #deploy(load: (options: LoadAppFolderOptions) => Promise<LoadAppFolderResult>): Promise<DeployedApp> {
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
      },
    });
    if (!result.ok) throw new SipletError('SIPLET_DEPLOY_FAILED', result.failure.message, { cause: result.failure.cause });
    return this.#activate(app, result.app);
  }

  async #activate(app: DeployedApp, loaded: LoadedApplication): Promise<DeployedApp> {
    const name = loaded.model.name;
    if (this.#apps.has(name)) {
      await loaded.destroy();
      throw new SipletError('SIPLET_DEPLOY_FAILED', `An application named ${name} is already deployed: undeploy it first or give the new one another name.`);
    }
    app.attach(loaded);
    app.state = 'active';
    this.#apps.set(name, app);
    this.#router.applicationDeployed([name]);
    this.log.info({ app: name, version: loaded.model.version, servlets: loaded.model.servlets.map((s) => s.name) }, 'application deployed');
    return app;
  }

  /** Stops routing to the app and destroys it (its live sessions are dropped). */
  async undeploy(name: string): Promise<void> {
    const app = this.#apps.get(name);
    if (app === undefined) throw new SipletError('SIPLET_DEPLOY_FAILED', `No application named ${name} is deployed.`);
    this.#apps.delete(name);
    this.#router.applicationUndeployed([name]);
    for (const s of this.sessions.applicationSessionsOf(name)) s.invalidate();
    await app.loaded.destroy();
    this.log.info({ app: name }, 'application undeployed');
  }

  applications(): DeployedApp[] {
    return [...this.#apps.values()];
  }

  stats(): { counters: ContainerCounters; sessions: SessionCounts; applications: string[] } {
    return { counters: { ...this.#counters }, sessions: this.sessions.counts(), applications: [...this.#apps.keys()] };
  }

  async close(): Promise<void> {
    for (const name of [...this.#apps.keys()]) await this.undeploy(name);
  }

  // ---- CoreHost ----------------------------------------------------------------------

  appOf(session: SipSessionImpl): DeployedApp | undefined {
    return session.getApplicationSession().internal.get(APP) as DeployedApp | undefined;
  }

  createSession(
    app: DeployedApp,
    appSession: ApplicationSessionImpl,
    init: { callId: string; local: Address; remote: Address; role: 'UAC' | 'UAS'; derivedFrom?: SipSessionImpl },
  ): SipSessionImpl {
    appSession.internal.set(APP, app);
    const sessions = this.sessions;
    const session = new SipSessionImpl({
      appSession,
      callId: init.callId,
      localParty: init.local,
      remoteParty: init.remote,
      role: init.role,
      handler: app.mainServlet,
      derivedFrom: init.derivedFrom,
      requests: { createInDialogRequest: (s, method) => this.#uac.createInDialogRequest(s, method) },
      events: {
        ...forward(app),
        sessionDestroyed(s) {
          sessions.forget(s as SipSessionImpl);
          app.sessionDestroyed(s);
        },
      },
    });
    this.sessions.sipSessionCreated();
    app.sessionCreated(session);
    return session;
  }

  dispatchRequest(request: IncomingRequest): void {
    const session = request.getSession();
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
    if (request.isInitial() && !request.isCommitted() && request.getAttribute(NOT_HANDLED_ATTRIBUTE) === true) {
      // JSR 289 §2.3.1: what the servlet did not handle is refused.
      if (isKnownMethod(request.getMethod())) this.#reject(request, 500, 'Request not handled by app');
      else this.#reject(request, 501, undefined, [['Allow', KNOWN_METHODS.join(', ')]]);
    }
  }

  dispatchResponse(response: IncomingResponse): void {
    const session = response.getSession();
    const app = this.appOf(session);
    if (app === undefined) return;
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

  // ---- MessageRuntime ------------------------------------------------------------------

  sendResponse(response: OutgoingResponse): Promise<void> {
    return this.#uas.sendResponse(response);
  }

  sendReliably(response: OutgoingResponse): Promise<void> {
    return this.#uas.sendReliably(response);
  }

  sendRequest(request: OutgoingRequest): Promise<void> {
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

  getProxy(_request: IncomingRequest, _create: boolean): Proxy {
    throw new SipletError('SIPLET_NOT_AVAILABLE', 'Proxying is not available in this version of Siplet yet.');
  }

  getB2buaHelper(_request: IncomingRequest | OutgoingRequest): B2buaHelper {
    throw new SipletError('SIPLET_NOT_AVAILABLE', 'The B2buaHelper is not available in this version of Siplet yet.');
  }

  // ---- transaction user ------------------------------------------------------------------

  #onRequest(request: SipRequest, tx: ServerTransaction, source: MessageSource): void {
    this.#counters.requests++;
    if (request.method === 'CANCEL' && tx.kind === 'server-non-invite') {
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
    this.#uas.track(wrapped);
    this.dispatchRequest(wrapped);
  }

  #onAck(ack: SipRequest, source: MessageSource): void {
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
    const refusal = checkRequest(request, { supported: SUPPORTED_OPTION_TAGS, forwarding: false });
    if (refusal !== undefined) {
      const res = createResponse(request, refusal.status, { reason: refusal.reason, toTag: newTag() });
      for (const [name, value] of refusal.headers ?? []) res.add(name, value);
      tx.respond(res);
      return;
    }
    const selected = this.#select(request);
    if (selected === undefined) {
      this.#counters.noApplication++;
      const res = answerWithoutApplication(request);
      if (res !== undefined) tx.respond(res);
      return;
    }
    const { app, subscriberUri, region } = selected;
    const wrapped = new IncomingRequest({
      request,
      session: undefined,
      source,
      runtime: this,
      initial: true,
      transaction: tx,
      subscriberUri,
      routingRegion: region,
    });
    const appSession = this.#applicationSession(app, wrapped);
    const local = request.to.clone();
    local.tag = newTag();
    const session = this.createSession(app, appSession, { callId: request.callId, local, remote: request.from.clone(), role: 'UAS' });
    session.transactionStarted();
    wrapped.attach(session);
    this.#uas.track(wrapped);
    this.dispatchRequest(wrapped);
  }

  /** JSR 289 §15.4: the application router picks the app for an initial request. */
  #select(request: SipRequest): { app: DeployedApp; subscriberUri?: Uri; region?: 'ORIGINATING' | 'TERMINATING' | 'NEUTRAL' } | undefined {
    const routerRequest: RouterRequest = {
      method: request.method,
      requestUri: request.uriText,
      from: request.from.uri.toString(),
      to: request.to.uri.toString(),
      header: (name) => request.get(name),
      isInitial: true,
      origin: 'NETWORK',
    };
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
    return { app, subscriberUri, region: info?.routingRegion };
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
      if (s !== undefined && s.isValid() && s.getApplicationName() === app.name) return s;
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
        if (existing !== undefined && existing.isValid()) return existing;
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
