import type { SipServletRequest, SipServletResponse } from '../../api/index.js';
import type { Logger } from '../../util/index.js';
import type { ServletInvoker, ServletModel } from '../model/index.js';
import { diHint, errorText } from './error-text.js';

/**
 * A servlet of a deployed app. Constructed (through the app's DI container) and `init`-ed once:
 * at deployment when `loadOnStartup` is 0 or more, otherwise when its first message arrives.
 *
 * Hazard: a servlet that fails to start keeps failing: every message to it rejects with the same
 * error (JSR 289 permanent unavailability) until the app is redeployed.
 */
export interface DeployedServlet {
  readonly name: string;
  readonly model: ServletModel;
  /** True once constructed and initialised. */
  readonly started: boolean;
  handleRequest(request: SipServletRequest): Promise<void>;
  handleResponse(response: SipServletResponse): Promise<void>;
  /** Constructs and initialises it now if not yet done; rejects as its first message would. */
  ready(): Promise<void>;
}

export interface ManagedServletParts {
  create(): Promise<ServletInvoker>;
  config: { servletName: string; applicationName: string; initParams: Readonly<Record<string, string>> };
  onStarted(servlet: ManagedServlet): Promise<void>;
  logger: Logger;
}

/** Lazily constructs and initialises one servlet, once; then forwards messages to it directly. */
export class ManagedServlet implements DeployedServlet {
  readonly name: string;
  readonly model: ServletModel;
  readonly #parts: ManagedServletParts;
  #invoker: ServletInvoker | undefined;
  #starting: Promise<ServletInvoker> | undefined;
  #undeployed = false;

  constructor(model: ServletModel, parts: ManagedServletParts) {
    this.name = model.name;
    this.model = model;
    this.#parts = parts;
  }

  get started(): boolean {
    return this.#invoker !== undefined;
  }

  handleRequest(request: SipServletRequest): Promise<void> {
    const invoker = this.#invoker;
    if (invoker !== undefined && !this.#undeployed) return invoker.handleRequest(request);
    return this.#start().then((started) => started.handleRequest(request));
  }

  handleResponse(response: SipServletResponse): Promise<void> {
    const invoker = this.#invoker;
    if (invoker !== undefined && !this.#undeployed) return invoker.handleResponse(response);
    return this.#start().then((started) => started.handleResponse(response));
  }

  async ready(): Promise<void> {
    await this.#start();
  }

  /** Resolves once a start in progress has finished, whichever way. */
  async settled(): Promise<void> {
    await this.#starting?.catch(() => undefined);
  }

  /** No message starts it any more. */
  undeploy(): void {
    this.#undeployed = true;
  }

  /** Calls the servlet's destroy; logs, never throws. */
  async stop(logger: Logger): Promise<void> {
    const invoker = this.#invoker;
    this.#invoker = undefined;
    try {
      await invoker?.destroy();
    } catch (err) {
      logger.error({ err, servlet: this.name }, 'A servlet threw in destroy(); undeploying regardless.');
    }
  }

  #start(): Promise<ServletInvoker> {
    if (this.#undeployed) {
      return Promise.reject(new Error(`Servlet '${this.name}' of app '${this.#parts.config.applicationName}' is undeployed; it takes no more messages.`));
    }
    this.#starting ??= this.#construct();
    return this.#starting;
  }

  async #construct(): Promise<ServletInvoker> {
    const { config, logger } = this.#parts;
    try {
      const invoker = await this.#parts.create();
      await invoker.init(config);
      this.#invoker = invoker;
      await this.#parts.onStarted(this);
      return invoker;
    } catch (err) {
      logger.error({ err, servlet: this.name }, 'Servlet failed to start; every message to it fails until the app is redeployed.');
      throw new Error(
        `Servlet '${this.name}' of app '${config.applicationName}' failed to start: ${errorText(err)}${diHint(err)}`,
        { cause: err },
      );
    }
  }
}
