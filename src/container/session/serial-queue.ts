/**
 * Runs the events of one application session one at a time, in arrival order,
 * even when handlers await (JSR 289 §6.4.3 concurrency). A task that throws or
 * rejects does not stop the queue: its error goes to `onError` and the next
 * task runs. A task that never settles holds up only its own queue.
 *
 * Housekeeping (readiness checks, expiry) runs with `runWhenIdle`: after every
 * event queued before or while it waits, so it never cuts into a handler and
 * never acts on a session that an event still queued is about to use.
 */
export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  /** Event tasks (`run`) queued or running. */
  #events = 0;
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** Tasks queued or running. */
  get pending(): number {
    return this.#pending;
  }

  /** Queues an event task; the promise settles when the task has run (never rejects). */
  run(task: () => unknown): Promise<void> {
    this.#events++;
    return this.#enqueue(task, () => this.#events--);
  }

  /**
   * Queues a housekeeping task that runs once no event task is queued or
   * running; while there are, it goes to the back of the queue again.
   */
  runWhenIdle(task: () => unknown): void {
    void this.#enqueue(async () => {
      if (this.#events > 0) {
        this.runWhenIdle(task);
        return;
      }
      await task();
    });
  }

  #enqueue(task: () => unknown, done?: () => void): Promise<void> {
    this.#pending++;
    const next = this.#tail.then(async () => {
      try {
        await task();
      } catch (error) {
        this.#onError(error);
      } finally {
        this.#pending--;
        done?.();
      }
    });
    this.#tail = next;
    return next;
  }
}
