/**
 * The composition root: the one place that constructs Siplet's layers and
 * wires them together, lower layers reporting upward through the handlers the
 * layer above registers.
 *
 *   transports ─► TransportLayer ─► MessageTransport (parse, §18)
 *     ─► TransactionLayer (§17) ─► SipContainer (router, sessions, servlets)
 *   express ─► /health (the admin console and converged apps mount here later)
 *   store (<dataDir>/siplet.db) ─► LOCATION_SERVICE of every app
 */
import { join } from 'node:path';
import type { SipletConfig } from './config/index.js';
import { Deployer, SipContainer, StoreLocationService, type CredentialSource, type SipNetwork } from './container/index.js';
import { HttpServer } from './http/index.js';
import { DarFile, DefaultApplicationRouter, loadRouter, type ApplicationRouter } from './router/index.js';
import { TransactionLayer } from './sip/transaction/index.js';
import {
  MessageTransport,
  TcpTransport,
  TransportLayer,
  UdpTransport,
  type Protocol,
  type Transport,
} from './sip/transport/index.js';
import { createMemoryDataStore, openDataStore, startPurging, type DataStore } from './store/index.js';
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
      return config.domains.includes(host) || (uri.port === undefined ? messages.isLocalHost(uri.host) : messages.isLocal(uri.host, uri.port));
    },
    mayRelay: (uri) => matchesDomain(uri.hostname.toLowerCase(), config.relayDomains),
    forwardResponse: (response) => messages.forwardResponse(response),
  };
  const router = options.router ?? new DefaultApplicationRouter({ logger: forLayer(logger, 'router') });
  const store = options.store ?? createMemoryDataStore();
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
    credentials: options.credentials ?? store.users,
    auth: {
      nonceLifetime: config.authNonceLifetime,
      maxFailures: config.authMaxFailures,
      failureWindow: config.authFailureWindow,
      banTime: config.authBanTime,
      realm: config.authRealm,
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

/** Starts Siplet as `siplet start` does: listeners, the DAR, every app in the apps folder, HTTP. */
export async function startServer(config: SipletConfig, logger: Logger): Promise<RunningServer> {
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

  const http = new HttpServer({ host: config.httpHost, port: config.httpPort, logger: forLayer(logger, 'http'), health: stack.stats });
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
