import type { SipApplicationSession } from './session.js';

/** A timer of an application session (JSR 289 §17): cancelled when the session ends. */
export interface ServletTimer {
  getId(): string;
  getInfo<T = unknown>(): T;
  getApplicationSession(): SipApplicationSession;
  /** Next expiry, ms since epoch. */
  scheduledExecutionTime(): number;
  getTimeRemaining(): number;
  cancel(): void;
}

export interface TimerOptions {
  /** Delay before the first expiry, ms. */
  delay: number;
  /** Repeat every `period` ms; omit for a one-shot timer. */
  period?: number;
  /** Fixed-rate (true) or fixed-delay (false, default) repetition. */
  fixedRate?: boolean;
  /** Whether the timer keeps its application session alive (default true). */
  persistent?: boolean;
  /** Anything the TimerListener gets back with `getInfo()`. */
  info?: unknown;
}

/** Creates timers whose expiry reaches the app's TimerListener (`timeout(timer)`), serialised with its session's other events. */
export interface TimerService {
  createTimer(appSession: SipApplicationSession, options: TimerOptions): ServletTimer;
}
