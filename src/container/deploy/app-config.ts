import type { AppConfig } from '../../api/index.js';
import type { Logger } from '../../util/index.js';

/**
 * The `AppConfig` an app gets through `APP_CONFIG`: a live view of its `config.json`. The deploy
 * layer owns the values; `replace` swaps them (a later issue calls it when the file changes) and
 * then tells every `onChange` listener.
 */
export class LiveAppConfig implements AppConfig {
  #values: Readonly<Record<string, unknown>>;
  readonly #listeners = new Set<(config: AppConfig) => void>();
  readonly #logger: Logger;

  constructor(values: Record<string, unknown>, logger: Logger) {
    this.#values = deepFreeze(values);
    this.#logger = logger;
  }

  get<T = unknown>(key: string): T | undefined;
  get<T>(key: string, defaultValue: T): T;
  get<T>(key: string, defaultValue?: T): T | undefined {
    const value = lookup(this.#values, key);
    return value === undefined ? defaultValue : (value as T);
  }

  all(): Readonly<Record<string, unknown>> {
    return this.#values;
  }

  onChange(listener: (config: AppConfig) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Swaps in new values and calls the `onChange` listeners; a listener that throws is logged and the others still run. */
  replace(values: Record<string, unknown>): void {
    this.#values = deepFreeze(values);
    for (const listener of [...this.#listeners]) {
      try {
        listener(this);
      } catch (err) {
        this.#logger.error({ err }, 'An AppConfig onChange listener threw; the new configuration is in place regardless.');
      }
    }
  }

  /** Drops every listener (on undeploy), so an undeployed app's objects can be collected. */
  close(): void {
    this.#listeners.clear();
  }
}

function lookup(values: Readonly<Record<string, unknown>>, key: string): unknown {
  if (Object.hasOwn(values, key)) return values[key];
  if (!key.includes('.')) return undefined;
  let current: unknown = values;
  for (const part of key.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
