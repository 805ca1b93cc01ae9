/**
 * The composition root: the one place that constructs Siplet's layers and
 * wires them together, lower layers reporting upward through the handlers the
 * layer above registers.
 *
 *   transports ─► TransportLayer ─► MessageTransport (parse, §18)
 *     ─► TransactionLayer (§17) ─► SipContainer (router, sessions, servlets)
 *   express ─► /health, /<app>/ (converged apps' routes, mounted by the container), the admin console
 *   store (<dataDir>/siplet.db) ─► LOCATION_SERVICE of every app
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { mountAdminConsole, type AdminFacade, type AppView, type DarView, type RegistrationView, type StatsView } from './admin/index.js';
import type { SipletConfig } from './config/index.js';
import { Deployer, SipContainer, StoreLocationService, type CredentialSource, type DeploymentInfo, type SipNetwork } from './container/index.js';
import { HttpServer } from './http/index.js';
import { DarFile, DefaultApplicationRouter, loadRouter, parseDar, type ApplicationRouter, type DarRules } from './router/index.js';
import { TransactionLayer } from './sip/transaction/index.js';
import {
  MessageTransport,
  TcpTransport,
  TransportLayer,
  UdpTransport,
  type Protocol,
  type Transport,
} from './sip/transport/index.js';
import { createMemoryDataStore, Management, openDataStore, startPurging, type AdminStore, type Binding, type DataStore } from './store/index.js';
import { forLayer, SipletError, type Logger } from './util/index.js';

/** Descriptor validation, for `siplet pack` (the CLI reaches the container only through this file). */
export { checkDescriptor } from './container/index.js';

/** The SIP side of Siplet, built but not yet listening: what tests and embedders drive. */
export interface SipStack {
  readonly layer: TransportLayer;
  readonly messages: MessageTransport;
  readonly transactions: TransactionLayer;
  readonly container: SipContainer;
  readonly router: ApplicationRouter;
  /** Registrations, realms and users: the `store` option, or a memory store. */
  readonly store: DataStore;
  stats(): Record<string, unknown>;
  listen(): Promise<void>;
  close(): Promise<void>;
}

export interface SipStackOptions {
  config: SipletConfig;
  logger: Logger;
  transports: Transport[];
  /** Default: the default application router with no rules (load a DAR with `router.reload`). */
  router?: ApplicationRouter;
  /**
   * Where the location service keeps bindings and finds realms and users. Default: a memory store
   * (nothing survives the process). The caller that passes one closes it after the stack.
   */
  store?: DataStore;
  /** The users digest authentication checks (apps' security constraints). Default: the store's users. */
  credentials?: CredentialSource;
}

/** Wires transports, message transport, transactions and the container, without listening. */
export function createSipStack(options: SipStackOptions): SipStack {
  const { config, logger } = options;
  const started = Date.now();
  const transportLog = forLayer(logger, 'transport');
  const layer = new TransportLayer({ logger: transportLog });
  for (const t of options.transports) layer.add(t);
  const messages = new MessageTransport({
    layer,
    limits: {
      maxMessageSize: config.maxMessageSize,
      maxHeaders: config.maxHeaders,
      maxHeaderLineLength: config.maxHeaderLineLength,
      maxVia: config.maxVia,
    },
    logger: transportLog,
  });
  const transactions = new TransactionLayer({
    sender: messages,
    timers: { t1: config.t1, t2: config.t2, t4: config.t4 },
    trying100: config.trying100,
    logger: forLayer(logger, 'transaction'),
  });
  messages.onRequest((request, source) => transactions.receiveRequest(request, source));
  messages.onResponse((response, source) => transactions.receiveResponse(response, source));

  const network: SipNetwork = {
    resolve: (uri) =>
      layer.resolve({ host: uri.host, port: uri.port, transport: uri.transport, secure: uri.secure, maddr: uri.params.get('maddr') ?? undefined }),
    prepareRequest: (request, destination, branch) => messages.prepareRequest(request, destination, branch),
    sendRequest: (request, destination) => messages.sendRequest(request, destination),
    sentBy: (protocol, family) => messages.sentBy(protocol, family),
    isOurs: (uri) => messages.isLocal(uri.host, uri.port, uri.transport as Protocol | undefined),
    isLocalDomain: (uri) => {
      const host = uri.hostname.toLowerCase();
      return config.domains.includes(host) || realms.has(host) || (uri.port === undefined ? messages.isLocalHost(uri.host) : messages.isLocal(uri.host, uri.port));
    },
    mayRelay: (uri) => matchesDomain(uri.hostname.toLowerCase(), config.relayDomains),
    forwardResponse: (response) => messages.forwardResponse(response),
  };
  const router = options.router ?? new DefaultApplicationRouter({ logger: forLayer(logger, 'router') });
  const store = options.store ?? createMemoryDataStore();
  // The realms are domains this server serves too. They are read again every few seconds, so one
  // added with `siplet realms add` (another process) counts without a restart.
  let realms = new Set<string>();
  const readRealms = (): void => {
    store.users.realms().then(
      (list) => (realms = new Set(list.map((r) => r.toLowerCase()))),
      (error: unknown) => logger.warn({ err: error }, 'could not read the realms'),
    );
  };
  readRealms();
  const realmTimer = setInterval(readRealms, 2000);
  realmTimer.unref();
  const locationService = new StoreLocationService({ store, isLocalDomain: (uri) => network.isLocalDomain(uri) });
  const container = new SipContainer({
    transactions,
    network,
    router,
    logger: forLayer(logger, 'container'),
    t1: config.t1,
    t2: config.t2,
    drainTimeoutMs: config.drainTimeout,
    locationService,
    appData: store.appData,
    credentials: options.credentials ?? store.users,
    auth: {
      nonceLifetime: config.authNonceLifetime,
      maxFailures: config.authMaxFailures,
      failureWindow: config.authFailureWindow,
      banTime: config.authBanTime,
      realm: config.authRealm,
      algorithms: config.authAlgorithms.split(',').map((a) => (a === 'md5' ? 'MD5' : 'SHA-256')),
    },
  });

  return {
    layer,
    messages,
    transactions,
    container,
    router,
    store,
    stats: () => ({
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      transport: layer.stats(),
      messages: messages.stats(),
      transactions: { live: transactions.size, ...transactions.counters },
      container: container.stats(),
    }),
    listen: () => layer.listen(),
    async close() {
      clearInterval(realmTimer);
      await container.close();
      transactions.close();
      await layer.close();
      await router.destroy();
    },
  };
}

export interface RunningServer {
  /** The SIP port every listener is bound to. */
  readonly sipPort: number;
  readonly httpPort: number;
  readonly stack: SipStack;
  /** Deploys and undeploys applications (archives, folders): what the admin API calls. */
  readonly deployer: Deployer;
  /** Counters of every layer, as `GET /health` reports them. */
  stats(): Record<string, unknown>;
  close(): Promise<void>;
}

/** How `startServer` sets up the admin account of the console and API. */
export interface StartServerOptions {
  /**
   * Where `SIPLET_ADMIN_USER` (the account's name, default `admin`) and `SIPLET_ADMIN_PASSWORD`
   * are read. Default: `process.env`.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Receives the password generated at the first start (no admin account yet and no
   * `SIPLET_ADMIN_PASSWORD`), once: `siplet start` prints it. Default: a warn-level log line.
   */
  onGeneratedPassword?: (account: { user: string; password: string }) => void;
}

/** Starts Siplet as `siplet start` does: listeners, the DAR, every app in the apps folder, HTTP and the admin console (/admin). */
export async function startServer(config: SipletConfig, logger: Logger, options: StartServerOptions = {}): Promise<RunningServer> {
  const log = forLayer(logger, 'server');
  const transportLog = forLayer(logger, 'transport');
  const transports: Transport[] = [];
  for (const address of config.host.split(',')) {
    transports.push(
      new UdpTransport({
        address,
        port: config.sipPort,
        maxMessageSize: config.maxMessageSize,
        recvBufferSize: config.udpBufferSize || undefined,
        sendBufferSize: config.udpBufferSize || undefined,
        logger: transportLog,
      }),
      new TcpTransport({
        address,
        port: config.sipPort,
        maxConnections: config.tcpMaxConnections,
        maxMessageSize: config.maxMessageSize,
        maxBufferedBytes: config.tcpMaxBuffered,
        idleTimeoutMs: config.tcpIdleTimeout,
        logger: transportLog,
      }),
    );
  }
  const routerLog = forLayer(logger, 'router');
  // A custom application router (JSR 289 SPI) from configuration, or the default one fed by the DAR file.
  let router: ApplicationRouter;
  let dar: DarFile | undefined;
  if (config.router !== '') {
    router = await loadRouter(config.router);
    await router.init({ logger: routerLog });
    routerLog.info({ module: config.router }, 'custom application router loaded');
  } else {
    const defaultRouter = new DefaultApplicationRouter({ logger: routerLog });
    dar = new DarFile({ path: config.dar !== '' ? config.dar : join(config.appsDir, 'dar.properties'), router: defaultRouter, logger: routerLog });
    await dar.load();
    dar.watch();
    router = defaultRouter;
  }
  // Registrations, realms and users: <dataDir>/siplet.db; expired bindings purged in the background.
  const storeLog = forLayer(logger, 'store');
  let store: DataStore;
  try {
    store = openDataStore(config.dataDir, storeLog);
  } catch (error) {
    await dar?.close();
    throw error;
  }
  const purging = startPurging(store.location, { logger: storeLog });
  const closeStore = async (): Promise<void> => {
    purging.stop();
    await store.close();
  };
  const stack = createSipStack({ config, logger, transports, router, store });
  const adminLog = forLayer(logger, 'admin');
  try {
    await prepareAdminAccount(store.admins, { env: options.env ?? process.env, onGenerated: options.onGeneratedPassword, log: adminLog });
  } catch (error) {
    await closeStore();
    await dar?.close();
    throw error;
  }

  const http = new HttpServer({ host: config.httpHost, port: config.httpPort, logger: forLayer(logger, 'http'), health: stack.stats });
  // Converged apps' routes under /<app>/, kept in step with deployments by the container.
  stack.container.attachHttp(http.apps);
  try {
    await stack.listen();
  } catch (error) {
    await dar?.close();
    await closeStore();
    throw new SipletError('SIPLET_LISTEN_FAILED', `Cannot listen for SIP on ${config.host} port ${config.sipPort}: ${String((error as Error).message ?? error)}. Set --sip-port / SIPLET_SIP_PORT to a free port or --host to an address of this machine.`, { cause: error });
  }
  log.info({ host: config.host, sipPort: config.sipPort, transports: stack.layer.transports.map((t) => `${t.protocol}:${t.local.address}:${t.local.port}`) }, 'SIP listening');
  // Every archive and app folder of the apps folder, then the folder is watched; before HTTP, so
  // that nothing (a probe of /health, a test harness) sees the server up without its apps.
  const deployer = new Deployer({
    container: stack.container,
    deployDir: config.appsDir,
    dataDir: config.dataDir,
    logger: forLayer(logger, 'deploy'),
    limits: { maxArchiveBytes: config.archiveMaxSize, maxTotalBytes: config.archiveMaxSize, maxEntryBytes: config.archiveMaxEntrySize, maxEntries: config.archiveMaxEntries },
    settleMs: config.deploySettleTime,
    pollMs: config.deployPollInterval,
  });
  try {
    await deployer.start();
  } catch (error) {
    await deployer.close();
    await stack.close();
    await dar?.close();
    await closeStore();
    throw new SipletError('SIPLET_DEPLOY_FAILED', `Cannot prepare the deployments folder under ${config.dataDir}: ${String((error as Error).message ?? error)}. Point --data / SIPLET_DATA at a writable directory.`, { cause: error });
  }
  // HTTP (health, admin) last: once /health answers, the apps are deployed.
  try {
    await http.listen();
  mountAdminConsole(http.app, {
    facade: createAdminFacade({ stack, deployer, dar, started: Date.now() }),
    logger: adminLog,
    allow: config.adminAllow,
    maxUploadBytes: config.archiveMaxSize,
  });
  } catch (error) {
    await deployer.close();
    await stack.close();
    await dar?.close();
    await closeStore();
    throw new SipletError('SIPLET_LISTEN_FAILED', `Cannot listen for HTTP on ${config.httpHost} port ${config.httpPort}: ${String((error as Error).message ?? error)}. Set --http-port / SIPLET_HTTP_PORT to a free port.`, { cause: error });
  }

  return {
    sipPort: stack.layer.transports[0]?.local.port ?? config.sipPort,
    httpPort: http.port,
    stack,
    deployer,
    stats: stack.stats,
    async close() {
      await deployer.close();
      await dar?.close();
      await http.close();
      await stack.close();
      await closeStore();
      log.info('server closed');
    },
  };
}

/** `example.com` in the list matches example.com and its subdomains (sip.example.com). */
function matchesDomain(host: string, domains: readonly string[]): boolean {
  return domains.some((d) => host === d || host.endsWith('.' + d));
}

// ---- the admin console's view of the server ----------------------------------------------

/**
 * The admin account at start: `SIPLET_ADMIN_PASSWORD` set → its hash is stored (every start, so
 * the variable stays the truth); else, with no account at all, a strong password is generated,
 * its hash stored and the password handed to `onGenerated` once (never logged again, never stored).
 */
async function prepareAdminAccount(
  admins: AdminStore,
  options: { env: Readonly<Record<string, string | undefined>>; onGenerated?: (account: { user: string; password: string }) => void; log: Logger },
): Promise<void> {
  const user = options.env['SIPLET_ADMIN_USER'] || 'admin';
  const given = options.env['SIPLET_ADMIN_PASSWORD'];
  if (given !== undefined && given !== '') {
    await admins.setPassword(user, given);
    options.log.info({ user }, 'admin account password set from SIPLET_ADMIN_PASSWORD');
    return;
  }
  const existing = await admins.accounts();
  if (existing.length > 0) {
    options.log.info({ users: existing.map((a) => a.username) }, 'admin account(s) found in the data store');
    return;
  }
  const password = randomBytes(24).toString('base64url');
  await admins.setPassword(user, password);
  if (options.onGenerated !== undefined) {
    options.onGenerated({ user, password });
  } else {
    options.log.warn(
      { user, password },
      `First start: generated the password of the admin account "${user}". It is shown this once and stored only as a hash: note it now, or set SIPLET_ADMIN_PASSWORD.`,
    );
  }
}

interface AdminFacadeParts {
  stack: SipStack;
  deployer: Deployer;
  /** The DAR file; undefined with a custom router (--router). */
  dar: DarFile | undefined;
  started: number;
}

/** The management facade the admin layer sees, over the deployer, the DAR, the store and the stack's counters. */
function createAdminFacade(parts: AdminFacadeParts): AdminFacade {
  const { stack, deployer, dar } = parts;
  const manage = new Management(stack.store);
  const requireDar = (): DarFile => {
    if (dar === undefined) {
      throw new SipletError('SIPLET_DAR_UNAVAILABLE', 'A custom application router (--router) is configured, so there is no DAR to show or edit: change the custom router\'s own configuration.');
    }
    return dar;
  };
  const darView = async (file: DarFile): Promise<DarView> => {
    const text = await readFile(file.path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    return { path: file.path, text, rules: rulesView((stack.router as DefaultApplicationRouter).rules) };
  };
  const check = (text: string, path: string) => parseDar(text, { source: basename(path) });

  return {
    listApps: () => deployer.list().map(appView),
    async deployArchive(bytes, { fileName }) {
      return appView(await deployer.deployArchive(bytes, { persist: true, label: fileName }));
    },
    async undeployApp(name, { force }) {
      const result = await deployer.undeploy(name, { force });
      // A version with no live session (or a forced undeploy) is gone at once or nearly.
      const finished = await Promise.race([
        result.finished.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), force ? 5000 : 100).unref()),
      ]);
      return { name, state: finished ? 'undeployed' : 'draining', draining: finished ? [] : deployer.list().filter((d) => d.name === name).map(appView) };
    },

    getDar: () => darView(requireDar()),
    checkDar(text) {
      const result = check(text, dar?.path ?? 'dar.properties');
      return result.ok ? { ok: true, methods: [...result.rules.keys()] } : { ok: false, errors: result.errors.map(({ line, problem, message }) => ({ line, problem, message })) };
    },
    async putDar(text) {
      const file = requireDar();
      const parsed = check(text, file.path);
      if (!parsed.ok) {
        const errors = parsed.errors.map(({ line, problem, message }) => ({ line, problem, message }));
        throw new SipletError(
          'SIPLET_DAR_INVALID',
          `The DAR was not saved: ${errors.map((e) => e.message).join('; ')}. Fix ${errors.length === 1 ? 'that line' : 'those lines'}; the rules in force are unchanged.`,
          { details: { errors } },
        );
      }
      // Written beside the file and renamed over it: the watcher and a restart see the old or the new text, never half.
      const temp = join(dirname(file.path), `.${basename(file.path)}.${randomBytes(4).toString('hex')}.tmp`);
      try {
        await mkdir(dirname(file.path), { recursive: true });
        await writeFile(temp, text);
        await rename(temp, file.path);
      } catch (error) {
        await rm(temp, { force: true });
        throw new SipletError('SIPLET_INTERNAL', `Cannot write the DAR file ${file.path}: ${(error as Error).message}. Check that its folder is writable; the rules in force are unchanged.`, { cause: error });
      }
      const loaded = await file.load();
      if (!loaded.ok) throw new SipletError('SIPLET_DAR_INVALID', `The DAR file ${file.path} was written but not loaded: ${loaded.reason}.`, { details: { errors: loaded.errors } });
      return darView(file);
    },

    async stats() {
      return statsView(stack, deployer, await stack.store.location.all(), parts.started);
    },

    async listRegistrations({ aor }) {
      return registrationsView(await manage.listRegistrations({ aor }));
    },
    removeRegistrations: ({ aor, contact }) => manage.removeRegistrations({ aor, uri: contact }),

    listRealms: () => manage.listRealms(),
    addRealm: (realm) => manage.addRealm({ realm }),
    async removeRealm(realm) {
      return (await manage.removeRealm({ realm })).usersRemoved;
    },
    listUsers: ({ realm }) => manage.listUsers({ realm }),
    addUser: (options) => manage.addUser(options),
    removeUser: (options) => manage.removeUser(options),
    setUserPassword: (options) => manage.setPassword(options),

    verifyAdmin: (username, password) => stack.store.admins.verify(username, password),
    setAdminPassword: (username, password) => stack.store.admins.setPassword(username, password),
  };
}

function appView(info: DeploymentInfo): AppView {
  return {
    name: info.name,
    version: info.version,
    state: info.state,
    servlets: info.servlets,
    mainServlet: info.mainServlet,
    description: info.description,
    sessions: info.sessions,
    deployedAt: info.deployedAt,
    source: info.source.kind,
  };
}

function rulesView(rules: DarRules): DarView['rules'] {
  return [...rules].map(([method, chain]) => ({
    method,
    applications: chain.map((rule) => ({
      applicationName: rule.applicationName,
      subscriber: rule.subscriber === undefined ? undefined : 'header' in rule.subscriber ? `DAR:${rule.subscriber.header}` : rule.subscriber.uri,
      routingRegion: rule.routingRegion,
      route: rule.route,
      routeModifier: rule.routeModifier,
      order: rule.order,
      direction: rule.options.direction,
      patterns: rule.options.headerPatterns.map((p) => `${p.header}:${p.pattern.source}`),
      line: rule.line,
    })),
  }));
}

function registrationsView(bindings: readonly Binding[]): RegistrationView[] {
  const now = Date.now();
  const byAor = new Map<string, RegistrationView['contacts'][number][]>();
  for (const b of bindings) {
    let contacts = byAor.get(b.aor);
    if (contacts === undefined) byAor.set(b.aor, (contacts = []));
    contacts.push({
      uri: b.uri,
      contact: b.contact,
      expires: new Date(b.expires).toISOString(),
      expiresIn: Math.max(0, Math.round((b.expires - now) / 1000)),
      q: b.q,
      callId: b.callId,
      cseq: b.cseq,
      path: b.path,
      instance: b.instance,
      regId: b.regId,
      source: b.source === undefined ? undefined : `${b.source.protocol}:${b.source.address}:${b.source.port}`,
      updatedAt: new Date(b.updatedAt).toISOString(),
    });
  }
  return [...byAor].map(([aor, contacts]) => ({ aor, contacts }));
}

function statsView(stack: SipStack, deployer: Deployer, bindings: readonly Binding[], started: number): StatsView {
  const messages = stack.messages.stats();
  const transactions = stack.transactions.counters;
  const container = stack.container.stats();
  const sum = (record: Readonly<Record<string, number>>): number => Object.values(record).reduce((a, b) => a + b, 0);
  const apps = deployer.list();
  return {
    uptimeSeconds: Math.round((Date.now() - started) / 1000),
    messages: {
      requestsIn: messages.requestsIn,
      requestsInByMethod: messages.requestsInByMethod,
      responsesIn: messages.responsesIn,
      responsesInByStatus: messages.responsesInByStatus,
      requestsOut: messages.requestsOut,
      requestsOutByMethod: messages.requestsOutByMethod,
      responsesOut: messages.responsesOut,
      responsesOutByStatus: messages.responsesOutByStatus,
      malformedAnswered: messages.answeredMalformed,
      dropped: sum(messages.dropped),
    },
    transactions: {
      live: stack.transactions.size,
      created: sum(transactions.created),
      retransmissions: transactions.retransmissions,
      timeouts: transactions.timeouts,
      transportErrors: transactions.transportErrors,
    },
    dialogs: { live: container.sessions.dialogs },
    sessions: {
      applicationSessions: container.sessions.applicationSessions,
      sipSessions: container.sessions.sipSessions,
      applicationSessionsCreated: container.sessions.created.applicationSessions,
      sipSessionsCreated: container.sessions.created.sipSessions,
    },
    registrations: { aors: new Set(bindings.map((b) => b.aor)).size, contacts: bindings.length },
    applications: { active: apps.filter((a) => a.state === 'active').length, draining: apps.filter((a) => a.state === 'draining').length },
    layers: stack.stats(),
  };
}
