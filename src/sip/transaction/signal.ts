/** A listener of one transaction event. */
export type Listener<A extends unknown[]> = (...args: A) => void;

/**
 * One typed event with its listeners: the tiny event interface transactions expose as
 * `onResponse(listener)`, `onTimeout(listener)`…, so no event is named by a string.
 *
 * A listener that throws is reported to `onError` and does not stop the others or the state
 * machine. The listener list is copied on write, so a listener may unsubscribe while it runs.
 */
export class Signal<A extends unknown[]> {
  #listeners: readonly Listener<A>[] = [];
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** Adds a listener; returns the function that removes it. */
  add(listener: Listener<A>): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  emit(...args: A): void {
    for (const listener of this.#listeners) {
      try {
        listener(...args);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  clear(): void {
    this.#listeners = [];
  }
}
