/**
 * Small helpers the container integration tests share: polling for a
 * condition, a promise the test settles by hand, and a logger whose records
 * the test reads.
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../src/util/index.js';

/** Resolves once `check()` is true; rejects after `timeoutMs` with `what`. Polls every few ms (real timers). */
export async function until(check: () => boolean, what: string, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Lets queued microtasks and already-due work run (real timers). */
export function settle(ms = 10): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A promise the test opens when it wants a handler to go on. */
export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

export type LogRecord = Record<string, unknown> & { level: number; msg?: string };

/** A pino logger at debug level writing into `records`. */
export function capturingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) records.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), records };
}

/** The counts the tests compare: live application sessions, SIP sessions and dialogs. */
export function live(counts: { applicationSessions: number; sipSessions: number; dialogs: number }): { applicationSessions: number; sipSessions: number; dialogs: number } {
  return { applicationSessions: counts.applicationSessions, sipSessions: counts.sipSessions, dialogs: counts.dialogs };
}
