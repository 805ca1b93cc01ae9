/** What `readPassword` needs of standard input: `process.stdin`, or a stream a test makes. */
export interface PasswordInput {
  readonly isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  setEncoding?(encoding: BufferEncoding): unknown;
  on(event: 'data', listener: (chunk: string | Buffer) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'data', listener: (chunk: string | Buffer) => void): unknown;
  off(event: 'end' | 'close', listener: () => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** The password read, or why there is none. */
export type PasswordResult = { ok: true; password: string } | { ok: false; reason: 'interrupted' | 'closed' };

/**
 * Reads one password from standard input. On a terminal: writes `prompt` to `promptTo`, reads in
 * raw mode without echo (Enter ends, Backspace erases, Ctrl-C interrupts, Ctrl-D ends an empty
 * line), then restores the terminal. Otherwise (a pipe, a file): reads the first line, without
 * its line end, so that `echo secret | siplet users add alice@example.com` works.
 *
 * Resolves `{ ok: false, reason: 'closed' }` when the input ends before anything was read.
 */
export function readPassword(input: PasswordInput, options: { prompt: string; promptTo: { write(text: string): unknown } }): Promise<PasswordResult> {
  return input.isTTY === true && typeof input.setRawMode === 'function' ? readFromTerminal(input, options) : readLine(input);
}

function readFromTerminal(input: PasswordInput, options: { prompt: string; promptTo: { write(text: string): unknown } }): Promise<PasswordResult> {
  return new Promise((resolve) => {
    let password = '';
    options.promptTo.write(options.prompt);
    input.setRawMode?.(true);
    const finish = (result: PasswordResult): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('close', onEnd);
      input.off('error', onEnd);
      input.setRawMode?.(false);
      input.pause();
      options.promptTo.write('\n');
      resolve(result);
    };
    const onData = (chunk: string | Buffer): void => {
      for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish({ ok: true, password });
        if (ch === '\u0003') return finish({ ok: false, reason: 'interrupted' });
        if (ch === '\u0004') return finish(password === '' ? { ok: false, reason: 'closed' } : { ok: true, password });
        if (ch === '\u007f' || ch === '\b') password = [...password].slice(0, -1).join('');
        else if (ch >= ' ') password += ch;
      }
    };
    const onEnd = (): void => finish(password === '' ? { ok: false, reason: 'closed' } : { ok: true, password });
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('close', onEnd);
    input.on('error', onEnd);
    input.resume();
  });
}

function readLine(input: PasswordInput): Promise<PasswordResult> {
  return new Promise((resolve) => {
    let text = '';
    let got = false;
    const finish = (result: PasswordResult): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('close', onEnd);
      input.off('error', onEnd);
      input.pause();
      resolve(result);
    };
    const onData = (chunk: string | Buffer): void => {
      got = true;
      text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      const eol = text.indexOf('\n');
      if (eol >= 0) finish({ ok: true, password: text.slice(0, eol).replace(/\r$/, '') });
    };
    const onEnd = (): void => finish(got ? { ok: true, password: text.replace(/\r$/, '') } : { ok: false, reason: 'closed' });
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('close', onEnd);
    input.on('error', onEnd);
    input.resume();
  });
}
