import { createConfig, type SipletConfig } from '../../src/config/index.js';
import type { CredentialSource, DeployedApp } from '../../src/container/index.js';
import type { DescriptorShape } from '../../src/container/model/index.js';
import { HttpServer } from '../../src/http/index.js';
import { DefaultApplicationRouter } from '../../src/router/index.js';
import { createSipStack, type SipStack } from '../../src/server.js';
import { MemoryNetwork, type Endpoint } from '../../src/sip/transport/index.js';
import { createMemoryDataStore, type DataStore } from '../../src/store/index.js';
import { silentLogger, type Logger } from '../../src/util/index.js';
import { ScriptedUa } from './scripted-ua.js';

export interface TestApp {
  /** The app's classes, as its entry module would export them. */
  exports: Record<string, unknown>;
  /** The app's configuration (what config.json would hold). */
  config?: Record<string, unknown>;
  descriptor?: Partial<DescriptorShape>;
  label?: string;
}

export interface TestSipletOptions {
  apps?: TestApp[];
  /** DAR rules (dar.properties text) for the default application router. */
  dar?: string;
  /** Stream-like memory transport (default true): no retransmissions to script around. */
  reliable?: boolean;
  config?: Partial<SipletConfig>;
  logger?: Logger;
  /**
   * Registrations, realms and users behind `LOCATION_SERVICE`. Default: a fresh memory store. A
   * store given here (an SQLite one from `openDataStore`, to test a restart) is not closed by `close()`.
   */
  store?: DataStore;
  /** The users digest authentication checks, for apps with security constraints. */
  credentials?: CredentialSource;
  /**
   * Also run the HTTP side on 127.0.0.1 (an ephemeral port): converged apps' routes are served at
   * `siplet.httpUrl + '/<app name>/'`, mounted and removed as apps deploy and undeploy. Default false.
   */
  http?: boolean;
}

/**
 * A complete Siplet (transport, transactions, container, router) on an
 * in-memory network, with scripted user agents to drive it: how app writers
 * test their servlets without sockets.
 *
 * @example
 * const siplet = await createTestSiplet({ apps: [{ exports: { Hello } }], dar: 'INVITE: ("hello", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")' });
 * const alice = await siplet.ua('alice');
 * const invite = alice.createRequest('INVITE', { to: 'sip:bob@127.0.0.1' });
 * await alice.send(invite);
 * expect((await alice.expectResponse(invite)).status).toBe(486);
 * await siplet.close();
 */
export class TestSiplet {
  readonly network: MemoryNetwork;
  readonly stack: SipStack;
  readonly address: Endpoint;
  readonly router: DefaultApplicationRouter;
  readonly #reliable: boolean;
  readonly #uas: ScriptedUa[] = [];
  #http: HttpServer | undefined;

  constructor(network: MemoryNetwork, stack: SipStack, router: DefaultApplicationRouter, address: Endpoint, reliable: boolean) {
    this.network = network;
    this.stack = stack;
    this.router = router;
    this.address = address;
    this.#reliable = reliable;
  }

  /** `http://127.0.0.1:<port>` of the HTTP side (`http: true`); converged apps are under `/<app name>/`. */
  get httpUrl(): string {
    if (this.#http === undefined) throw new Error('this TestSiplet runs no HTTP side: create it with { http: true }');
    return `http://127.0.0.1:${this.#http.port}`;
  }

  /** Starts the HTTP side (what `http: true` does). */
  async startHttp(): Promise<void> {
    if (this.#http !== undefined) return;
    const http = new HttpServer({ host: '127.0.0.1', port: 0, logger: this.stack.container.log, health: this.stack.stats });
    this.stack.container.attachHttp(http.apps);
    await http.listen();
    this.#http = http;
  }

  get container() {
    return this.stack.container;
  }

  /** The data store behind `LOCATION_SERVICE`: add realms and users, read bindings. */
  get store(): DataStore {
    return this.stack.store;
  }

  /** A scripted UA on its own loopback address of the memory network. */
  async ua(name: string, options: { reliable?: boolean } = {}): Promise<ScriptedUa> {
    const ua = new ScriptedUa(this.network, {
      name,
      address: `127.0.0.${this.#uas.length + 2}`,
      port: 5060,
      target: this.address,
      reliable: options.reliable ?? this.#reliable,
    });
    await ua.start();
    this.#uas.push(ua);
    return ua;
  }

  deploy(app: TestApp): Promise<DeployedApp> {
    return this.stack.container.deployModule(app.exports, { label: app.label ?? 'test app', config: app.config, descriptor: app.descriptor });
  }

  /** Replaces the DAR rules; throws with the parser's messages when they are malformed. */
  setDar(text: string): void {
    const r = this.router.reload(text, { source: 'test dar' });
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  }

  async close(): Promise<void> {
    for (const ua of this.#uas) await ua.close();
    await this.#http?.close();
    await this.stack.close();
  }
}

export async function createTestSiplet(options: TestSipletOptions = {}): Promise<TestSiplet> {
  const reliable = options.reliable ?? true;
  const network = new MemoryNetwork();
  const address: Endpoint = { address: '127.0.0.1', port: 5060, family: 4 };
  const logger = options.logger ?? silentLogger();
  const router = new DefaultApplicationRouter({ logger });
  const config = createConfig({ host: address.address, sipPort: address.port, trying100: 'delayed', ...options.config });
  const store = options.store ?? createMemoryDataStore();
  const stack = createSipStack({ config, logger, router, store, credentials: options.credentials, transports: [network.transport({ address: address.address, port: address.port, reliable })] });
  await stack.listen();
  const siplet = new TestSiplet(network, stack, router, address, reliable);
  try {
    if (options.http === true) await siplet.startHttp();
    for (const app of options.apps ?? []) await siplet.deploy(app);
    if (options.dar !== undefined) siplet.setDar(options.dar);
  } catch (error) {
    await siplet.close();
    throw error;
  }
  return siplet;
}
