import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { SipletError } from '../util/index.js';

export interface AdminClientOptions {
  /** The server's HTTP base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** HTTP Basic credentials of the admin account; none sent when `user` is absent. */
  user?: string;
  password?: string;
}

/** One deployed version as `GET /admin/api/apps` lists it (the fields the CLI prints; others are kept). */
export interface AppListing {
  name: string;
  version?: string;
  state?: string;
  sessions?: number;
  [field: string]: unknown;
}

/**
 * The client side of the admin API that `siplet deploy`, `undeploy` and `apps` use:
 *
 * - `POST /admin/api/apps`, multipart/form-data with the archive in the field `archive`;
 * - `DELETE /admin/api/apps/:name` (`?force=true` to end live calls at once);
 * - `GET /admin/api/apps`: a JSON array of deployments (or `{ "apps": [...] }`).
 *
 * Every request carries HTTP Basic credentials when a user is given. A refused request throws
 * `SIPLET_ADMIN_REQUEST_FAILED` with the server's message (a JSON `{ "error": { "message" } }`,
 * `{ "message" }`, or the text of the body).
 *
 * @example
 * const client = new AdminClient({ url: 'http://127.0.0.1:8080', user: 'admin', password: process.env.SIPLET_ADMIN_PASSWORD });
 * await client.deploy('call-screening.sar');
 */
export class AdminClient {
  readonly #base: string;
  readonly #auth: string | undefined;

  constructor(options: AdminClientOptions) {
    this.#base = options.url.replace(/\/+$/, '');
    this.#auth = options.user === undefined ? undefined : `Basic ${Buffer.from(`${options.user}:${options.password ?? ''}`).toString('base64')}`;
  }

  /** Uploads an archive; resolves with the server's answer (the deployment it made). */
  async deploy(file: string): Promise<unknown> {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      throw new SipletError('SIPLET_ADMIN_REQUEST_FAILED', `Cannot read ${file}: ${(err as Error).message}. Give the path of a .sar archive (siplet pack builds one).`, { cause: err });
    }
    const form = new FormData();
    form.append('archive', new Blob([bytes], { type: 'application/zip' }), basename(file));
    return this.#request('POST', '/admin/api/apps', form);
  }

  /** Undeploys an app: gracefully, or ending its calls at once with `force`. */
  undeploy(name: string, options: { force?: boolean } = {}): Promise<unknown> {
    return this.#request('DELETE', `/admin/api/apps/${encodeURIComponent(name)}${options.force ? '?force=true' : ''}`);
  }

  async list(): Promise<AppListing[]> {
    const body = await this.#request('GET', '/admin/api/apps');
    const apps = Array.isArray(body) ? body : (body as { apps?: unknown } | undefined)?.apps;
    if (!Array.isArray(apps)) throw new SipletError('SIPLET_ADMIN_REQUEST_FAILED', `GET ${this.#base}/admin/api/apps did not answer a list of applications.`);
    return apps as AppListing[];
  }

  async #request(method: string, path: string, body?: FormData): Promise<unknown> {
    const url = this.#base + path;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#auth !== undefined) headers['authorization'] = this.#auth;
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(120_000) });
    } catch (err) {
      const inner = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = inner?.code ?? inner?.message ?? (err as Error).message;
      throw new SipletError('SIPLET_ADMIN_REQUEST_FAILED', `Cannot reach the admin API at ${this.#base} (${cause}). Is siplet running? Give its HTTP address with --url.`, { cause: err });
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    if (!response.ok) {
      const hint = response.status === 401 || response.status === 403 ? ' Check --user / SIPLET_ADMIN_USER and SIPLET_ADMIN_PASSWORD.' : '';
      throw new SipletError('SIPLET_ADMIN_REQUEST_FAILED', `${method} ${url} failed: ${response.status} ${withPeriod(serverMessage(parsed) ?? response.statusText)}${hint}`, {
        details: { status: response.status, body: parsed },
      });
    }
    return parsed;
  }
}

/** Ends a message with one period, whether or not the server's text had one. */
function withPeriod(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function serverMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() === '' ? undefined : body.trim().slice(0, 2000);
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') return (error as { message: string }).message;
  const message = (body as { message?: unknown }).message;
  return typeof message === 'string' ? message : undefined;
}
