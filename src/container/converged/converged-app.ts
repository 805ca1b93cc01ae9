import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONVERGED_SESSION_KEY, type HttpHandler } from '../../api/index.js';
import type { Logger } from '../../util/index.js';
import type { ApplicationSessionImpl } from '../session/index.js';
import { ConvergedRequestSession, type ConvergedAppHost } from './converged-session.js';
import { HttpSessionTable, type HttpSessionRecord } from './http-session-table.js';

export interface ConvergedAppOptions {
  /** The application's name: its routes are under `/<name>/`, its cookie scoped to that path. */
  name: string;
  /** What the app's `http.router` built. */
  routes: HttpHandler;
  log: Logger;
  /** The app's session timeout (minutes), also its HTTP sessions' idle timeout; 0 or less: 30 minutes. */
  sessionTimeoutMinutes: number;
  find(id: string): ApplicationSessionImpl | undefined;
  create(): ApplicationSessionImpl;
  /** Any live application session by id (whatever its version): to release the HTTP sessions it holds. */
  lookup(id: string): ApplicationSessionImpl | undefined;
  /** Default 30 000 ms. */
  holdLimitMs?: number;
}

/**
 * One deployed version of a converged app, as the HTTP side runs it: `handler` gives every request
 * its `ConvergedHttpSession` (what `getConvergedSession(req)` returns), then runs the app's routes.
 * The HTTP sessions live here, per version; `close()` drops them when the version is destroyed.
 */
export class ConvergedApp {
  readonly handler: HttpHandler;
  readonly #host: ConvergedAppHost;

  constructor(options: ConvergedAppOptions) {
    const minutes = options.sessionTimeoutMinutes > 0 ? options.sessionTimeoutMinutes : 30;
    const release = (record: HttpSessionRecord): void => {
      if (record.appSessionId !== undefined) options.lookup(record.appSessionId)?.unlinkProtocolSession(record.id);
      record.appSessionId = undefined;
    };
    this.#host = {
      name: options.name,
      log: options.log,
      sessions: new HttpSessionTable({ timeoutMs: minutes * 60_000, onRemoved: release }),
      find: options.find,
      create: options.create,
      link: (record, appSession) => {
        if (record.appSessionId === appSession.getId()) return;
        release(record);
        appSession.linkProtocolSession(record.id);
        record.appSessionId = appSession.getId();
      },
      holdLimitMs: options.holdLimitMs ?? 30_000,
    };
    const routes = options.routes;
    const host = this.#host;
    this.handler = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): unknown => {
      (req as unknown as Record<symbol, unknown>)[CONVERGED_SESSION_KEY] = new ConvergedRequestSession(host, req, res);
      return routes(req, res, next);
    };
  }

  /** HTTP sessions alive. */
  get httpSessions(): number {
    return this.#host.sessions.size;
  }

  close(): void {
    this.#host.sessions.close();
  }
}
