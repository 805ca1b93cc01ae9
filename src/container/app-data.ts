import type { AppData } from '../api/index.js';
import type { AppDataStore } from '../store/index.js';
import { SipletError } from '../util/index.js';

/**
 * The `AppData` of one application (`APP_DATA`, `HttpContext.data`) over the server's data store:
 * the app sees only its own keys. Bad keys and values are `TypeError`s, as the API says.
 */
export class StoreAppData implements AppData {
  readonly #store: AppDataStore;
  readonly #app: string;

  constructor(store: AppDataStore, app: string) {
    this.#store = store;
    this.#app = app;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    return (await guard(() => this.#store.get(this.#app, key)))?.value as T | undefined;
  }

  set(key: string, value: unknown): Promise<void> {
    return guard(() => this.#store.set(this.#app, key, value));
  }

  delete(key: string): Promise<boolean> {
    return guard(() => this.#store.delete(this.#app, key));
  }

  async list<T = unknown>(prefix?: string): Promise<{ key: string; value: T }[]> {
    return (await guard(() => this.#store.list(this.#app, prefix))).map((e) => ({ key: e.key, value: e.value as T }));
  }
}

async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (SipletError.is(error) && error.code === 'SIPLET_STORE_INVALID_INPUT') throw new TypeError(error.message);
    throw error;
  }
}
