/**
 * The block list of call-screening, kept in the server's data store (`APP_DATA`) so that it
 * survives restarts and redeployments, shared by the SIP servlet (which checks every INVITE) and
 * the HTTP routes (which change it). One key per entry, `blocked:<entry>`, so that two changes
 * at once never lose one another.
 *
 * config.json's `blocked` list is the seed: the entries it holds when the app first starts are
 * blocked, and later edits of the file are applied as edits (an entry added to the file is
 * blocked, one removed from it is unblocked); what the HTTP API changed otherwise stays.
 */
import { APP_CONFIG, APP_DATA, APP_LOGGER, inject, SipUri, type AppConfig, type AppData, type AppLogger } from 'siplet/sdk';

const PREFIX = 'blocked:';
/** The config.json list last applied, to turn the next version of the file into edits. */
const SEEN = 'config:blocked';

/** RFC 3261 §25.1 user (without ':' and '@'), and a host name, IPv4 address or IPv6 reference. */
const USER = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;

export class InvalidEntryError extends Error {}

/**
 * A block-list entry as stored: `user@host` with the host lower-cased, or a bare `user`. Accepts a
 * leading `sip:`/`sips:`. Throws `InvalidEntryError` saying what is expected.
 */
export function normalizeEntry(value: unknown): string {
  if (typeof value !== 'string') throw new InvalidEntryError('"caller" must be a string: user@host, or a bare user');
  const text = value.trim().replace(/^sips?:/i, '');
  const at = text.lastIndexOf('@');
  const user = at < 0 ? text : text.slice(0, at);
  const host = at < 0 ? undefined : text.slice(at + 1);
  if (text.length > 256 || !USER.test(user) || (host !== undefined && !HOST.test(host))) {
    throw new InvalidEntryError(`${JSON.stringify(value)} is not a caller: give user@host (e.g. alice@example.com) or a bare user (e.g. robocall)`);
  }
  return host === undefined ? user : `${user}@${host.toLowerCase()}`;
}

export class BlockList {
  readonly #data: AppData;
  readonly #config: AppConfig;
  readonly #log: AppLogger;
  #sync: Promise<void> = Promise.resolve();
  #unsubscribe: (() => void) | undefined;

  constructor(@inject(APP_DATA) data: AppData, @inject(APP_CONFIG) config: AppConfig, @inject(APP_LOGGER) log: AppLogger) {
    this.#data = data;
    this.#config = config;
    this.#log = log;
  }

  /** Applies config.json (the seed, then its edits) now and whenever it is reloaded. */
  async start(): Promise<void> {
    this.#unsubscribe ??= this.#config.onChange(() => void this.#applyConfig());
    await this.#applyConfig();
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Whether the caller (a From URI) matches `user@host` or the bare `user`. */
  async isBlocked(caller: SipUri): Promise<boolean> {
    const user = caller.user ?? '';
    if (user === '') return false;
    return (await this.#data.get(PREFIX + `${user}@${caller.host.toLowerCase()}`)) !== undefined || (await this.#data.get(PREFIX + user)) !== undefined;
  }

  /** Every entry, sorted. */
  async list(): Promise<string[]> {
    return (await this.#data.list(PREFIX)).map((e) => e.key.slice(PREFIX.length));
  }

  /** Blocks a caller; false when it was blocked already. */
  async add(value: unknown): Promise<{ entry: string; added: boolean }> {
    const entry = normalizeEntry(value);
    if ((await this.#data.get(PREFIX + entry)) !== undefined) return { entry, added: false };
    await this.#data.set(PREFIX + entry, { since: new Date().toISOString() });
    this.#log.info({ entry }, 'caller blocked');
    return { entry, added: true };
  }

  /** Unblocks a caller; false when it was not blocked. */
  async remove(value: unknown): Promise<{ entry: string; removed: boolean }> {
    const entry = normalizeEntry(value);
    const removed = await this.#data.delete(PREFIX + entry);
    if (removed) this.#log.info({ entry }, 'caller unblocked');
    return { entry, removed };
  }

  /** One at a time: a reload while the previous one is applied waits for it. */
  #applyConfig(): Promise<void> {
    this.#sync = this.#sync.then(
      () => this.#applyConfigNow(),
      () => this.#applyConfigNow(),
    );
    return this.#sync;
  }

  async #applyConfigNow(): Promise<void> {
    const wanted = new Set<string>();
    for (const value of this.#config.get<unknown[]>('blocked', [])) {
      try {
        wanted.add(normalizeEntry(value));
      } catch (error) {
        this.#log.warn({ entry: value }, `config.json "blocked": ${(error as Error).message}; skipped`);
      }
    }
    const seen = new Set((await this.#data.get<string[]>(SEEN)) ?? []);
    for (const entry of wanted) if (!seen.has(entry)) await this.#data.set(PREFIX + entry, { since: new Date().toISOString(), from: 'config.json' });
    for (const entry of seen) if (!wanted.has(entry)) await this.#data.delete(PREFIX + entry);
    await this.#data.set(SEEN, [...wanted].sort());
  }
}
