import { SipletError } from '../util/index.js';

/** One entry of an application's data. */
export interface AppDataEntry {
  readonly key: string;
  /** The value as written (parsed JSON). */
  readonly value: unknown;
  /** When it was last written, epoch milliseconds. */
  readonly updatedAt: number;
}

/**
 * Applications' own data (the `AppData` an app gets as `APP_DATA`): one key-value table per
 * application name, values JSON. Deploying, redeploying or undeploying an app never touches it:
 * it is the app's state across restarts and versions.
 *
 * Keys are 1 to `MAX_APP_DATA_KEY` characters; values are JSON-serialisable and at most
 * `MAX_APP_DATA_VALUE` bytes serialised. Errors (`SipletError`): `SIPLET_STORE_INVALID_INPUT` for
 * a bad application name, key or value.
 *
 * Implementations: `MemoryAppDataStore`, `SqliteAppDataStore`; both pass the contract suite in
 * test/unit/store/app-data-store.contract.ts.
 */
export interface AppDataStore {
  get(app: string, key: string): Promise<AppDataEntry | undefined>;
  /** Writes (replaces) the value of a key. */
  set(app: string, key: string, value: unknown): Promise<void>;
  /** False when the key was absent. */
  delete(app: string, key: string): Promise<boolean>;
  /** The app's entries whose key starts with `prefix` (all without one), sorted by key. */
  list(app: string, prefix?: string): Promise<AppDataEntry[]>;
  /** Every application that has data, sorted. */
  apps(): Promise<string[]>;
}

export const MAX_APP_DATA_KEY = 256;
export const MAX_APP_DATA_VALUE = 64 * 1024;
const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function invalid(message: string, details: Record<string, unknown>): SipletError {
  return new SipletError('SIPLET_STORE_INVALID_INPUT', message, { details });
}

export function checkAppName(app: string): string {
  if (typeof app !== 'string' || app.length > 128 || !APP_NAME.test(app)) {
    throw invalid(`"${String(app)}" is not an application name: letters, digits, '.', '_' and '-', starting with a letter or digit.`, { app });
  }
  return app;
}

export function checkAppDataKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_APP_DATA_KEY) {
    throw invalid(`An application data key must be a string of 1 to ${MAX_APP_DATA_KEY} characters, not ${JSON.stringify(key)}.`, { key });
  }
  return key;
}

/** The value as JSON text, checked: JSON-serialisable (not undefined, a function or a symbol) and not too large. */
export function serializeAppDataValue(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw invalid(`An application data value must be JSON-serialisable: ${(error as Error).message}.`, {});
  }
  if (text === undefined) throw invalid('An application data value must be JSON-serialisable (not undefined, a function or a symbol); delete the key instead.', {});
  if (Buffer.byteLength(text) > MAX_APP_DATA_VALUE) {
    throw invalid(`An application data value may hold at most ${MAX_APP_DATA_VALUE} bytes as JSON; this one has ${Buffer.byteLength(text)}. Split it over several keys.`, {});
  }
  return text;
}
