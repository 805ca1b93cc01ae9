import { randomBytes } from 'node:crypto';
import { IllegalStateError, type ServletTimer, type SipApplicationSession, type TimerOptions, type TimerService } from '../../api/index.js';
import type { ApplicationSessionImpl, OwnedTimer, SessionEvents } from '../session/index.js';

/**
 * A servlet timer (JSR 289 §17): one-shot or periodic (fixed-delay or
 * fixed-rate). Expiry runs the app's TimerListener inside the application
 * session's serial queue; the timer is cancelled when its session ends.
 */
class ServletTimerImpl implements OwnedTimer {
  readonly #id = randomBytes(6).toString('hex');
  readonly #session: ApplicationSessionImpl;
  readonly #events: SessionEvents;
  readonly #info: unknown;
  readonly #period: number | undefined;
  readonly #fixedRate: boolean;
  readonly persistent: boolean;
  #next: number;
  #handle: NodeJS.Timeout | undefined;
  #done = false;

  constructor(session: ApplicationSessionImpl, events: SessionEvents, options: TimerOptions) {
    this.#session = session;
    this.#events = events;
    this.#info = options.info;
    this.#period = options.period;
    this.#fixedRate = options.fixedRate === true;
    this.persistent = options.persistent !== false;
    this.#next = Date.now() + Math.max(0, options.delay);
    this.#arm();
  }

  getId(): string {
    return this.#id;
  }

  getInfo<T = unknown>(): T {
    return this.#info as T;
  }

  getApplicationSession(): SipApplicationSession {
    return this.#session;
  }

  scheduledExecutionTime(): number {
    return this.#next;
  }

  getTimeRemaining(): number {
    return this.#done ? 0 : Math.max(0, this.#next - Date.now());
  }

  cancel(): void {
    if (this.#done) return;
    this.stop();
    this.#session.timerGone(this);
  }

  stop(): void {
    this.#done = true;
    clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  #arm(): void {
    this.#handle = setTimeout(() => this.#fire(), Math.max(0, this.#next - Date.now()));
    if (!this.persistent) this.#handle.unref?.();
  }

  #fire(): void {
    if (this.#done) return;
    const periodic = this.#period !== undefined && this.#period > 0;
    if (periodic) {
      // Fixed-rate keeps the schedule; fixed-delay counts from this expiry.
      this.#next = this.#fixedRate ? this.#next + (this.#period as number) : Date.now() + (this.#period as number);
      this.#arm();
    }
    void this.#session.queue.run(async () => {
      if (!this.#session.isValid()) return;
      this.#session.access();
      await this.#events.timerFired(this);
      if (!periodic && !this.#done) {
        this.#done = true;
        this.#session.timerGone(this);
      }
    });
  }
}

/** The TimerService of one application: timers fire into that application's TimerListener. */
export class TimerServiceImpl implements TimerService {
  readonly #events: SessionEvents;

  constructor(events: SessionEvents) {
    this.#events = events;
  }

  createTimer(appSession: SipApplicationSession, options: TimerOptions): ServletTimer {
    const session = appSession as ApplicationSessionImpl;
    if (!session.isValid()) throw new IllegalStateError('cannot create a timer in an invalidated application session');
    if (!(options.delay >= 0)) throw new RangeError(`timer delay must be a number of milliseconds >= 0, got ${options.delay}`);
    if (options.period !== undefined && !(options.period > 0)) throw new RangeError(`timer period must be > 0 ms, got ${options.period}`);
    const timer = new ServletTimerImpl(session, this.#events, options);
    session.addTimer(timer);
    return timer;
  }
}
