import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import type { Logger } from '../util/index.js';
import { AppRoutes } from './app-routes.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** What `GET /health` reports (serialised as JSON with status 200). */
  health: () => Record<string, unknown>;
}

/**
 * The HTTP side of Siplet: one express app on one port. It serves `GET /health`, converged
 * applications' routes under `/<app name>/` (the `apps` dispatch table, which the container keeps
 * in step with deployments), and the admin console mounts on `app`.
 */
export class HttpServer {
  readonly app: Express;
  /** Converged applications' routes, by app name (`/<name>/…`). */
  readonly apps: AppRoutes;
  readonly #server: Server;
  readonly #options: HttpServerOptions;

  constructor(options: HttpServerOptions) {
    this.#options = options;
    this.app = express();
    this.app.disable('x-powered-by');
    this.app.get('/health', (_req, res) => {
      res.status(200).json({ status: 'ok', ...options.health() });
    });
    this.apps = new AppRoutes(options.logger);
    this.app.use(this.apps.dispatch);
    this.#server = createServer(this.app);
  }

  /** The bound port (useful when 0 was asked). */
  get port(): number {
    const address = this.#server.address() as AddressInfo | null;
    return address?.port ?? this.#options.port;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once('error', onError);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', onError);
        this.#options.logger.info({ host: this.#options.host, port: this.port }, 'HTTP listening');
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.closeAllConnections?.();
      this.#server.close(() => resolve());
    });
  }
}
