/**
 * What the call-flow tests of the container share: DAR text that routes every
 * method to one app, waiting for an app's side effect, a gate a handler waits
 * on, and recording what an app call throws.
 */

/** DAR rules sending every initial request to `app`. */
export function darFor(app: string): string {
  return `ALL: ("${app}", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")`;
}

/** Resolves once `check()` holds; rejects after `timeoutMs` naming `what`. */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A promise a test opens when a handler may go on. */
export interface Latch {
  readonly promise: Promise<void>;
  open(): void;
}

export function latch(): Latch {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** What a call did: 'ok', or the error's name and message. */
export interface Outcome {
  ok: boolean;
  name?: string;
  message?: string;
  header?: string;
}

export function attempt(call: () => unknown): Outcome {
  try {
    call();
    return { ok: true };
  } catch (error) {
    const e = error as Error & { header?: string };
    return { ok: false, name: e.name, message: e.message, header: e.header };
  }
}

export async function attemptAsync(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    await call();
    return { ok: true };
  } catch (error) {
    const e = error as Error & { header?: string };
    return { ok: false, name: e.name, message: e.message, header: e.header };
  }
}
