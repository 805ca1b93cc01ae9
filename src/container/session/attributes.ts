/** What attribute changes a session reports to its listeners. */
export type AttributeChange = 'added' | 'replaced' | 'removed';

/**
 * Attributes of a session or an application session: a plain map that reports
 * every change (JSR 289 attribute listeners).
 */
export class Attributes {
  #values = new Map<string, unknown>();
  readonly #onChange: (change: AttributeChange, name: string, value: unknown) => void;

  constructor(onChange: (change: AttributeChange, name: string, value: unknown) => void) {
    this.#onChange = onChange;
  }

  get<T>(name: string): T | undefined {
    return this.#values.get(name) as T | undefined;
  }

  set(name: string, value: unknown): void {
    if (value === undefined || value === null) {
      this.remove(name);
      return;
    }
    const had = this.#values.has(name);
    this.#values.set(name, value);
    this.#onChange(had ? 'replaced' : 'added', name, value);
  }

  remove(name: string): void {
    if (!this.#values.has(name)) return;
    const old = this.#values.get(name);
    this.#values.delete(name);
    this.#onChange('removed', name, old);
  }

  names(): string[] {
    return [...this.#values.keys()];
  }

  /**
   * Removes every attribute, reporting each as removed (the session is being
   * invalidated: JSR 289 unbinds its attributes, as a servlet container does).
   */
  clear(): void {
    const values = this.#values;
    this.#values = new Map();
    for (const [name, value] of values) this.#onChange('removed', name, value);
  }
}
