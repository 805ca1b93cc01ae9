import type { IncomingMessage, ServerResponse } from 'node:http';
import { IllegalStateError, type ConvergedHttpSession, type SipApplicationSession } from '../../api/index.js';
import { APP_SESSION_URL_PARAM, type ApplicationSessionImpl } from '../session/index.js';
import type { Logger } from '../../util/index.js';
import type { HttpSessionRecord, HttpSessionTable } from './http-session-table.js';

/** The cookie that carries a converged app's HTTP session id (scoped to the app's path). */
export const HTTP_SESSION_COOKIE = 'siplet-session';

/** What a converged request needs of its app's version in the container. */
export interface ConvergedAppHost {
  readonly name: string;
  readonly log: Logger;
  readonly sessions: HttpSessionTable;
  /** The application session with that id, if it is valid and of this app's version. */
  find(id: string): ApplicationSessionImpl | undefined;
  /** A new application session of this app's version. */
  create(): ApplicationSessionImpl;
  /** Moves an HTTP session to an application session (JSR 289: it keeps that one from being ready to invalidate). */
  link(record: HttpSessionRecord, appSession: ApplicationSessionImpl): void;
  /** How long one request may hold an application session's queue (ms). */
  readonly holdLimitMs: number;
}

/**
 * The `ConvergedHttpSession` of one HTTP request (see its contract in src/api/http.ts): finds the
 * client's HTTP session from the cookie, ties the request to an application session (the
 * `siplet-as` parameter, the HTTP session's link, or a new one), and holds that application
 * session's serial queue from the moment it is joined until the response has gone.
 */
export class ConvergedRequestSession implements ConvergedHttpSession {
  readonly #host: ConvergedAppHost;
  readonly #res: ServerResponse;
  readonly #cookieIds: string[];
  readonly #paramId: string | undefined;
  #record: HttpSessionRecord | undefined;
  #looked = false;
  #created = false;
  readonly #held = new Set<ApplicationSessionImpl>();
  #done: Promise<void> | undefined;

  constructor(host: ConvergedAppHost, req: IncomingMessage, res: ServerResponse) {
    this.#host = host;
    this.#res = res;
    this.#cookieIds = cookieValues(req.headers.cookie, HTTP_SESSION_COOKIE);
    this.#paramId = queryParam(req.url, APP_SESSION_URL_PARAM);
  }

  getId(): string {
    return this.#ensure().id;
  }

  isNew(): boolean {
    return this.#find() === undefined || this.#created;
  }

  getApplicationSession(): Promise<SipApplicationSession>;
  getApplicationSession(create: boolean): Promise<SipApplicationSession | undefined>;
  async getApplicationSession(create = true): Promise<SipApplicationSession | undefined> {
    let appSession = this.#paramId === undefined ? undefined : this.#host.find(this.#paramId);
    if (appSession === undefined) {
      const linked = this.#find()?.appSessionId;
      appSession = linked === undefined ? undefined : this.#host.find(linked);
    }
    if (appSession === undefined) {
      if (!create) return undefined;
      appSession = this.#host.create();
    }
    await this.#join(appSession);
    return appSession;
  }

  async join(appSession: SipApplicationSession): Promise<void> {
    const own = this.#host.find(appSession.getId());
    if (own === undefined || own !== appSession) {
      throw new TypeError(
        appSession.isValid()
          ? `application session ${appSession.getId()} belongs to ${appSession.getApplicationName()} (or to another version of it), not to ${this.#host.name}`
          : `application session ${appSession.getId()} was invalidated`,
      );
    }
    await this.#join(own);
  }

  getAttribute<T = unknown>(name: string): T | undefined {
    return this.#find()?.attributes.get(name) as T | undefined;
  }

  setAttribute(name: string, value: unknown): void {
    this.#ensure().attributes.set(name, value);
  }

  removeAttribute(name: string): void {
    this.#find()?.attributes.delete(name);
  }

  getAttributeNames(): string[] {
    return [...(this.#find()?.attributes.keys() ?? [])];
  }

  invalidate(): void {
    const record = this.#find();
    if (record === undefined) return;
    this.#host.sessions.delete(record.id);
    this.#record = undefined;
    this.#created = false;
    this.#setCookie('', 0);
  }

  async #join(appSession: ApplicationSessionImpl): Promise<void> {
    this.#host.link(this.#ensure(), appSession);
    if (this.#held.has(appSession)) return;
    this.#held.add(appSession);
    appSession.access();
    let enter = (): void => undefined;
    const entered = new Promise<void>((resolve) => (enter = resolve));
    const done = this.#whenDone();
    void appSession.queue.run(() => {
      enter();
      return done;
    });
    await entered;
    if (!appSession.isValid()) throw new IllegalStateError(`application session ${appSession.getId()} of ${this.#host.name} was invalidated while this request waited for it`);
  }

  /**
   * Settles once the response has been sent or the client went away, or after the hold limit
   * (logged: a handler that keeps a response open keeps SIP events of its application session waiting).
   */
  #whenDone(): Promise<void> {
    if (this.#done !== undefined) return this.#done;
    const res = this.#res;
    this.#done = new Promise<void>((resolve) => {
      if (res.writableEnded || res.destroyed) {
        // Held after the response went: until the handler's current step has run.
        setImmediate(resolve);
        return;
      }
      const timer = setTimeout(() => {
        this.#host.log.error(
          { app: this.#host.name, holdLimitMs: this.#host.holdLimitMs },
          'an HTTP request held its application session longer than the limit without answering; SIP events of that session run again now',
        );
        finish();
      }, this.#host.holdLimitMs);
      timer.unref();
      const finish = (): void => {
        clearTimeout(timer);
        res.off('finish', finish);
        res.off('close', finish);
        resolve();
      };
      res.once('finish', finish);
      res.once('close', finish);
    });
    return this.#done;
  }

  /** The client's live HTTP session, if its cookie names one. */
  #find(): HttpSessionRecord | undefined {
    if (this.#record !== undefined || this.#looked) return this.#record;
    this.#looked = true;
    for (const id of this.#cookieIds) {
      const record = this.#host.sessions.get(id);
      if (record !== undefined) return (this.#record = record);
    }
    return undefined;
  }

  /** The client's HTTP session, created (with its cookie) when it has none. */
  #ensure(): HttpSessionRecord {
    const found = this.#find();
    if (found !== undefined) return found;
    const record = this.#host.sessions.create();
    this.#record = record;
    this.#created = true;
    this.#setCookie(record.id);
    return record;
  }

  #setCookie(value: string, maxAge?: number): void {
    if (this.#res.headersSent) {
      this.#host.log.debug({ app: this.#host.name }, 'the HTTP session cookie could not be set: the response headers were sent already');
      return;
    }
    const attributes = [`${HTTP_SESSION_COOKIE}=${value}`, `Path=/${this.#host.name}`, 'HttpOnly', 'SameSite=Lax'];
    if (maxAge !== undefined) attributes.push(`Max-Age=${maxAge}`);
    this.#res.appendHeader('Set-Cookie', attributes.join('; '));
  }
}

/** Every value of the named cookie in a Cookie header (RFC 6265 §5.4), in order. */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (header === undefined || !header.includes(name)) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (value !== '') values.push(value);
  }
  return values;
}

/** One query parameter of a request target, or `undefined`. */
export function queryParam(url: string | undefined, name: string): string | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  if (q < 0 || !url.includes(name, q)) return undefined;
  const hash = url.indexOf('#', q);
  const value = new URLSearchParams(url.slice(q + 1, hash < 0 ? undefined : hash)).get(name);
  return value === null || value === '' ? undefined : value;
}
