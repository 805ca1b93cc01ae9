/**
 * Runs sipsak (Debian package sipsak, 0.9.8) for interop tests: one REGISTER (usrloc mode with a
 * Contact, answering a digest challenge) or one OPTIONS, and reads back its exit code and output.
 * sipsak missing is a failure, never a skip.
 *
 * sipsak's exit code: 0 a 200 was received; 1 another final response; 2 a local error (bad option,
 * unresolvable name, a challenge it cannot answer); 3 a remote error (no answer, ICMP error).
 *
 * Two quirks of 0.9.8 shape the command line:
 * - it resolves the host of the `-s` URI unless an outbound proxy (`-p`) came before `-s`, so the
 *   proxy always goes first and the URI may name a domain no DNS knows (example.com);
 * - it cuts the last digit of a five-digit port in the `-s` URI (its buffer is one byte short), so
 *   the port goes in `-p`, never in the URI.
 * Its digest client reads only the first WWW-Authenticate and, in Debian's build (no OpenSSL),
 * knows only MD5.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const SIPSAK_MISSING = 'sipsak (Debian package sipsak) is not installed: run .ci/run or apt-get install sipsak';

/** The `sipsak` binary on PATH. Throws `SIPSAK_MISSING` when there is none. */
export function findSipsak(path: string | undefined = process.env['PATH']): string {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'sipsak');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  throw new Error(SIPSAK_MISSING);
}

export interface SipsakOptions {
  /** Where the request goes, `host:port` (sipsak's outbound proxy, `-p`). */
  proxy: string;
  /** The Request-URI (`-s`), without a port: `sip:example.com`, `sip:alice@example.com`. */
  uri: string;
  /**
   * Usrloc mode (`-U`): one REGISTER of `contact` for the `uri`'s user, answering a 401 as
   * `username` with `password`. Without it sipsak sends one OPTIONS.
   */
  register?: { contact: string; username: string; password: string; expires?: number };
  /** Anything else, placed after `-p` and before `-s`. */
  extraArgs?: readonly string[];
  /** The harness kills sipsak after this long. Default: 20 000 ms (its own UDP timeout is 64*T1 = 32 s). */
  killAfterMs?: number;
}

export interface SipsakResult {
  /** sipsak's exit code; null when it was killed by a signal. */
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** The command line, for messages. */
  args: readonly string[];
}

/** sipsak's command line for `options`: verbose (`-vv`) so that the replies it read are printed. */
export function sipsakArgs(options: SipsakOptions): string[] {
  if (/^sips?:[^;>]*:\d+/.test(options.uri)) {
    throw new Error(`runSipsak: give the port in proxy, not in the URI ${options.uri} (sipsak 0.9.8 truncates five-digit ports)`);
  }
  const args = ['-p', options.proxy, ...(options.extraArgs ?? [])];
  const r = options.register;
  if (r) {
    args.push('-U', '-C', r.contact, '-u', r.username, '-a', r.password, '-x', String(r.expires ?? 600));
  }
  args.push('-s', options.uri, '-vv');
  return args;
}

/** Runs sipsak to completion. Throws `SIPSAK_MISSING` when sipsak is not installed. */
export function runSipsak(options: SipsakOptions): Promise<SipsakResult> {
  const binary = findSipsak();
  const args = sipsakArgs(options);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.killAfterMs ?? 20_000);
  return new Promise((resolve) => {
    child.on('error', (error) => {
      stderr += `spawn failed: ${error.message}\n`;
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, timedOut, stdout, stderr, args });
    });
  });
}
