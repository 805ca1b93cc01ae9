/**
 * Runs SIPp (Debian package sip-tester) as a child process for interop tests and benchmarks, and reads
 * back how many calls succeeded and failed. SIPp missing is a failure, never a skip: an interop suite that quietly
 * skips proves nothing.
 *
 * Counts come from SIPp's `-trace_stat` CSV (the cumulative `SuccessfulCall(C)` / `FailedCall(C)`
 * columns of its last line), or, when SIPp died before writing it, from the last statistics screen
 * it printed. SIPp's exit code: 0 every call succeeded, 1 at least one failed, 99 no call processed,
 * 255 fatal error (-1), 254 could not bind (-2).
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { reapOnExit } from './reap.js';

export const SIPP_MISSING =
  'SIPp (Debian package sip-tester) is not installed: run .ci/run or apt-get install sip-tester';

/** `udp`/`tcp` are `u1`/`t1`: one socket for every call. `un`/`tn`: one socket per call. */
export type SippTransport = 'udp' | 'tcp' | 'u1' | 'un' | 't1' | 'tn';

export interface SippOptions {
  /** A scenario built into SIPp (`-sn`): `uac`, `uas`, `regexp`, `branchc`, `branchs`, … */
  scenario?: string;
  /** A scenario file (`-sf`), instead of `scenario`. */
  scenarioFile?: string;
  /** `host:port` to send to (UAC side). Omit for a UAS. */
  remote?: string;
  /** Local address for sockets and Via/Contact (`-i`). Default: 127.0.0.1. */
  localHost?: string;
  /** Local port (`-p`). Default: SIPp picks one. */
  localPort?: number;
  /** Default: `udp` (`-t u1`). */
  transport?: SippTransport;
  /** Stop after this many calls (`-m`). */
  calls?: number;
  /** Calls per second (`-r`). */
  rate?: number;
  /** The period `rate` is per, in ms (`-rp`). */
  ratePeriodMs?: number;
  /** Most simultaneous calls (`-l`). */
  limit?: number;
  /** Percentage of packets SIPp drops on purpose (`-lost`). */
  lost?: number;
  /** Socket send/receive buffer (`-buff_size`); give 4194304 under load. */
  bufferSize?: number;
  /** SIPp's own global timeout, seconds (`-timeout` with `-timeout_error`: reaching it is a failure). */
  timeoutSeconds?: number;
  /**
   * Record every response time (`-trace_rtt -rtt_freq 1000`): each `start_rtd`/`rtd` pair of the
   * scenario, read back into `SippResult.rtt`. SIPp measures them in whole milliseconds.
   */
  traceRtt?: boolean;
  /** Write the statistics CSV every this many seconds (`-fd`), so that `SippRun.counts()` sees a run in progress. Default: SIPp's 60. */
  statsIntervalSeconds?: number;
  /** Anything else, placed before the remote address. */
  extraArgs?: readonly string[];
  /** The harness kills SIPp (SIGTERM, then SIGKILL) after this long. Default: 60 000 ms. */
  killAfterMs?: number;
}

export interface SippResult {
  /** SIPp's exit code; null when it was killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The harness had to kill SIPp after `killAfterMs`. */
  timedOut: boolean;
  successful: number;
  failed: number;
  /**
   * Every non-zero cumulative counter of the statistics CSV by name, without the `(C)`:
   * `{ FailedTcpClosed: 1, Retransmissions: 3, … }`. Empty when the counts came from the screen.
   */
  counters: Record<string, number>;
  stdout: string;
  stderr: string;
  /** SIPp's `-trace_err` log (its first and last 10,000 characters): the messages it did not expect, for a failing assertion's context. */
  errors: string;
  /** The command line, for messages. */
  args: readonly string[];
  /** Wall-clock time from the spawn to the exit, in ms. */
  elapsedMs: number;
  /** With `traceRtt`: the response times (ms) SIPp measured, by response time definition (`rtd`) number. */
  rtt: Record<string, number[]>;
}

export interface SippRun {
  readonly pid: number | undefined;
  readonly args: readonly string[];
  /**
   * Resolves once SIPp has bound `localPort` (when given; otherwise at once). Rejects if SIPp exits
   * first. Start a UAS, await `ready`, then start the UAC.
   */
  readonly ready: Promise<void>;
  /** Settles when SIPp exits. Never rejects. */
  readonly result: Promise<SippResult>;
  /** The counts of the statistics CSV SIPp wrote last (see `statsIntervalSeconds`); undefined before the first. */
  counts(): SippCounts | undefined;
  /** Asks SIPp to finish (SIGUSR1: stop placing calls, let current ones end), kills it after `graceMs`. */
  stop(graceMs?: number): Promise<SippResult>;
}

/** The `sipp` binary on PATH. Throws `SIPP_MISSING` when there is none. */
export function findSipp(path: string | undefined = process.env['PATH']): string {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'sipp');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  throw new Error(SIPP_MISSING);
}

const TRANSPORT_FLAGS: Record<SippTransport, string> = { udp: 'u1', tcp: 't1', u1: 'u1', un: 'un', t1: 't1', tn: 'tn' };

/** SIPp's command line for `options`, writing its statistics and error traces under `workDir`. */
export function sippArgs(options: SippOptions, workDir: string): string[] {
  if ((options.scenario === undefined) === (options.scenarioFile === undefined)) {
    throw new Error('runSipp: give exactly one of scenario (built-in, -sn) or scenarioFile (-sf)');
  }
  const args = options.scenario !== undefined ? ['-sn', options.scenario] : ['-sf', options.scenarioFile as string];
  args.push('-t', TRANSPORT_FLAGS[options.transport ?? 'udp']);
  args.push('-i', options.localHost ?? '127.0.0.1');
  if (options.localPort !== undefined) args.push('-p', String(options.localPort));
  if (options.calls !== undefined) args.push('-m', String(options.calls));
  if (options.rate !== undefined) args.push('-r', String(options.rate));
  if (options.ratePeriodMs !== undefined) args.push('-rp', `${options.ratePeriodMs}ms`);
  if (options.limit !== undefined) args.push('-l', String(options.limit));
  if (options.lost !== undefined) args.push('-lost', String(options.lost));
  if (options.bufferSize !== undefined) args.push('-buff_size', String(options.bufferSize));
  if (options.timeoutSeconds !== undefined) args.push('-timeout', `${options.timeoutSeconds}s`, '-timeout_error');
  args.push('-nostdin');
  args.push('-trace_stat', '-stf', join(workDir, 'stats.csv'));
  args.push('-trace_err', '-error_file', join(workDir, 'errors.log'));
  if (options.traceRtt) args.push('-trace_rtt', '-rtt_freq', '1000');
  if (options.statsIntervalSeconds !== undefined) args.push('-fd', String(options.statsIntervalSeconds));
  args.push(...(options.extraArgs ?? []));
  if (options.remote !== undefined) args.push(options.remote);
  return args;
}

/** Runs SIPp to completion. */
export function runSipp(options: SippOptions): Promise<SippResult> {
  return startSipp(options).result;
}

/** Starts SIPp and returns at once; see `SippRun`. Throws `SIPP_MISSING` when SIPp is not installed. */
export function startSipp(options: SippOptions): SippRun {
  const binary = findSipp();
  const workDir = mkdtempSync(join(tmpdir(), 'siplet-sipp-'));
  const args = sippArgs(options, workDir);
  const started = performance.now();
  const child = spawn(binary, args, { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
  reapOnExit(child);
  const stdout = new OutputTail();
  const stderr = new OutputTail();
  child.stdout.on('data', (chunk: Buffer) => stdout.add(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.add(chunk));

  let timedOut = false;
  let exited = false;
  const kill = (signal: NodeJS.Signals) => {
    if (!exited) child.kill(signal);
  };
  const killTimer = setTimeout(() => {
    timedOut = true;
    kill('SIGTERM');
    setTimeout(() => kill('SIGKILL'), 2000).unref();
  }, options.killAfterMs ?? 60_000);

  const result = new Promise<SippResult>((resolve) => {
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      exited = true;
      const elapsedMs = performance.now() - started;
      clearTimeout(killTimer);
      const out = stdout.text();
      const counts = parseStatsCsv(readOptional(join(workDir, 'stats.csv'))) ?? parseScreen(out) ?? { successful: 0, failed: 0, counters: {} };
      const errors = headAndTail(readOptional(join(workDir, 'errors.log')), 10_000);
      const rtt = options.traceRtt ? readRtt(workDir) : {};
      rmSync(workDir, { recursive: true, force: true });
      resolve({ exitCode, signal, timedOut, ...counts, stdout: out, stderr: stderr.text(), errors, args, elapsedMs, rtt });
    };
    child.on('error', (error) => {
      stderr.add(Buffer.from(`spawn failed: ${error.message}\n`));
      finish(null, null);
    });
    child.on('exit', (code, signal) => finish(code, signal));
  });

  const ready =
    options.localPort === undefined
      ? Promise.resolve()
      : waitUntilBound(options.localHost ?? '127.0.0.1', options.localPort, TRANSPORT_FLAGS[options.transport ?? 'udp'].startsWith('t') ? 'tcp' : 'udp', result, args);

  return {
    pid: child.pid,
    args,
    ready,
    result,
    counts: () => (exited ? undefined : parseStatsCsv(readOptional(join(workDir, 'stats.csv')))),
    stop(graceMs = 5000) {
      kill('SIGUSR1');
      const timer = setTimeout(() => kill('SIGKILL'), graceMs);
      return result.finally(() => clearTimeout(timer));
    },
  };
}

export interface SippCounts {
  successful: number;
  failed: number;
  counters: Record<string, number>;
}

/**
 * Successful and failed call counts from a `-trace_stat` CSV: the cumulative columns of the last line.
 * Undefined when the text holds no data line.
 */
export function parseStatsCsv(text: string): SippCounts | undefined {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (lines.length < 2) return undefined;
  const header = (lines[0] as string).split(';');
  const last = (lines[lines.length - 1] as string).split(';');
  const column = (name: string) => {
    const index = header.indexOf(name);
    const value = index === -1 ? NaN : Number(last[index]);
    return Number.isFinite(value) ? value : undefined;
  };
  const successful = column('SuccessfulCall(C)');
  const failed = column('FailedCall(C)');
  if (successful === undefined || failed === undefined) return undefined;
  const counters: Record<string, number> = {};
  for (const name of header) {
    const value = name.endsWith('(C)') ? column(name) : undefined;
    if (value) counters[name.slice(0, -3)] = value;
  }
  return { successful, failed, counters };
}

/**
 * Response times from the `-trace_rtt` files SIPp wrote in `dir` (`<scenario>_<pid>_rtt.csv`, lines
 * `date_ms;response_time_ms;rtd_no`), by rtd number.
 */
export function readRtt(dir: string): Record<string, number[]> {
  const byRtd: Record<string, number[]> = {};
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('_rtt.csv')) continue;
    for (const line of readOptional(join(dir, name)).split('\n')) {
      const [, time, rtd] = line.split(';');
      const ms = Number(time);
      if (rtd === undefined || time === undefined || time === '' || !Number.isFinite(ms)) continue;
      (byRtd[rtd.trim()] ??= []).push(ms);
    }
  }
  return byRtd;
}

/** The same counts from the last statistics screen SIPp printed (`Successful call | 0 | 20`). */
export function parseScreen(stdout: string): SippCounts | undefined {
  const last = (label: string) => {
    const matches = [...stdout.matchAll(new RegExp(`^\\s*${label}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`, 'gm'))];
    const match = matches[matches.length - 1];
    return match ? Number(match[1]) : undefined;
  };
  const successful = last('Successful call');
  const failed = last('Failed call');
  return successful === undefined || failed === undefined ? undefined : { successful, failed, counters: {} };
}

/**
 * A port free for both UDP and TCP on `host` (SIP listens on both). Another process may still take it
 * before the test binds it; interop files run one at a time to keep that unlikely.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await bindUdp(host, 0);
    if (await canListenTcp(host, port)) return port;
  }
  throw new Error(`freePort: found no port free for both UDP and TCP on ${host} in 20 attempts`);
}

function bindUdp(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.bind(port, host, () => {
      const bound = socket.address().port;
      socket.close(() => resolve(bound));
    });
  });
}

function canListenTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Whether some socket is bound to `port` (UDP) or listening on it (TCP), read from /proc/net so the
 * check never takes the port itself: a probe bind could make SIPp's own bind fail.
 */
function isBound(port: number, protocol: 'udp' | 'tcp'): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of [protocol, `${protocol}6`]) {
    for (const line of readOptional(`/proc/net/${table}`).split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (!local || !local.endsWith(`:${hexPort}`)) continue;
      if (protocol === 'udp' || fields[3] === '0A') return true;
    }
  }
  return false;
}

async function waitUntilBound(
  host: string,
  port: number,
  protocol: 'udp' | 'tcp',
  exit: Promise<SippResult>,
  args: readonly string[],
): Promise<void> {
  let exitedWith: SippResult | undefined;
  void exit.then((result) => {
    exitedWith = result;
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (exitedWith) {
      throw new Error(`SIPp exited (code ${exitedWith.exitCode}) before binding ${host}:${port}: sipp ${args.join(' ')}\n${exitedWith.stderr}`);
    }
    if (isBound(port, protocol)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`SIPp did not bind ${protocol} ${host}:${port} within 10 s: sipp ${args.join(' ')}`);
}

/** The first and the last `size` characters of a long text (the first errors explain, the last ones end). */
function headAndTail(text: string, size: number): string {
  return text.length <= 2 * size ? text : `${text.slice(0, size)}\n[… ${text.length - 2 * size} characters left out …]\n${text.slice(-size)}`;
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Keeps the last 1 MiB of a stream: SIPp under load prints a lot, the end is what matters. */
class OutputTail {
  #chunks: Buffer[] = [];
  #size = 0;

  add(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#size > 1024 * 1024 && this.#chunks.length > 1) this.#size -= (this.#chunks.shift() as Buffer).length;
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}
