/**
 * Runs the events of one application session one at a time, in arrival order,
 * even when handlers await (JSR 289 §6.4.3 concurrency). A task that throws or
 * rejects does not stop the queue: its error goes to `onError` and the next
 * task runs. A task that never settles holds up only its own queue.
 */
export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** Tasks queued or running. */
  get pending(): number {
    return this.#pending;
  }

  /** Queues a task; the promise settles when the task has run (never rejects). */
  run(task: () => unknown): Promise<void> {
    this.#pending++;
    const next = this.#tail.then(async () => {
      try {
        await task();
      } catch (error) {
        this.#onError(error);
      } finally {
        this.#pending--;
      }
    });
    this.#tail = next;
    return next;
  }
}
