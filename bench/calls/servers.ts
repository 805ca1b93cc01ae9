/**
 * The servers the call benchmarks measure, each started as its own process the way the interop tests
 * start them: Siplet (from dist/ and apps/) with the call-screening, b2bua or registrar sample, and
 * Kamailio as a stateful record-routing proxy. A server can be restarted between trials, so that an
 * overloaded trial leaves nothing behind for the next one.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startKamailio, type KamailioProcess } from '../harness/kamailio.js';
import { MEMORY_FILE_ENV } from '../harness/memory-probe.js';
import { freePort } from '../harness/sipp.js';
import { repositoryRoot, startSiplet, type SipletProcess } from '../harness/siplet-process.js';

/** A server under test: where SIPp sends, and how to (re)start it. */
export interface BenchServer {
  readonly label: string;
  /** `host:port` SIPp sends its requests to. */
  address(): string;
  /** The process whose CPU time (with its children) is the server's. */
  pid(): number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Transactions the server holds now (Siplet's /health), when it can tell. */
  liveTransactions?(): Promise<number>;
}

/** Where the built harness modules are, for `--import`. */
const harnessDir = join(repositoryRoot, 'dist', 'bench', 'harness');

export type SipletSample = 'call-screening' | 'b2bua' | 'registrar';

export interface SipletServerOptions {
  sample: SipletSample;
  /** Extra Node options (`--cpu-prof`, …). */
  nodeArgs?: string[];
  /** Preload the memory probe (`--expose-gc`, SIGUSR2 writes memory usage to this file). */
  memoryFile?: string;
  /** For the registrar: a data folder prepared by `prepareUsers`, copied into each server's own. */
  dataTemplate?: string;
}

const DAR: Record<SipletSample, string> = {
  'call-screening': 'INVITE: ("call-screening", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")\n',
  b2bua: 'INVITE: ("b2bua", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")\n',
  registrar: 'REGISTER: ("registrar", "DAR:To", "TERMINATING", "", "NO_ROUTE", "0")\n',
};

/** The realm (and registrar domain) of the REGISTER benchmark. */
export const BENCH_REALM = 'bench.example';

/**
 * Siplet with one sample, logging at `warn` (the registrar logs every registration at `info`;
 * Kamailio runs with debug=1).
 */
export class SipletServer implements BenchServer {
  readonly label: string;
  readonly #options: SipletServerOptions;
  #process: SipletProcess | undefined;

  constructor(options: SipletServerOptions) {
    this.#options = options;
    this.label = `Siplet (${options.sample})`;
  }

  get process(): SipletProcess {
    if (this.#process === undefined) throw new Error(`${this.label} is not running`);
    return this.#process;
  }

  address(): string {
    return `127.0.0.1:${this.process.sipPort}`;
  }

  pid(): number {
    return this.process.pid;
  }

  async liveTransactions(): Promise<number> {
    const health = (await this.process.health()) as { transactions?: { live?: number } };
    return health.transactions?.live ?? 0;
  }

  async start(): Promise<void> {
    const { sample, memoryFile, dataTemplate } = this.#options;
    const nodeArgs = [...(this.#options.nodeArgs ?? [])];
    const env: Record<string, string> = { SIPLET_LOG_LEVEL: 'warn' };
    if (memoryFile !== undefined) {
      nodeArgs.push('--expose-gc', '--import', pathToFileURL(join(harnessDir, 'memory-probe.js')).href);
      env[MEMORY_FILE_ENV] = memoryFile;
    }
    const config: Record<string, unknown> | undefined =
      sample === 'call-screening' ? { blocked: [] } : sample === 'b2bua' ? { target: '', ringTimeoutMs: 60_000 } : undefined;
    this.#process = await startSiplet({
      apps: [{ name: sample, ...(config ? { config } : {}) }],
      dar: DAR[sample],
      nodeArgs,
      env,
      prepare: ({ appsDir, dataDir }) => {
        if (sample !== 'registrar') return;
        // REGISTER needs digest authentication: a security constraint in the app's descriptor.
        writeFileSync(
          join(appsDir, 'registrar', 'siplet.json'),
          JSON.stringify({ name: 'registrar', realm: BENCH_REALM, securityConstraints: [{ methods: ['REGISTER'] }] }),
        );
        if (dataTemplate !== undefined) {
          for (const name of readdirSync(dataTemplate)) cpSync(join(dataTemplate, name), join(dataDir, name), { recursive: true });
        }
      },
    });
  }

  async stop(): Promise<void> {
    await this.#process?.stop();
    this.#process = undefined;
  }
}

/** Kamailio relaying every initial request to its Request-URI, record-routed, statefully (tm). */
export class KamailioServer implements BenchServer {
  readonly label = 'Kamailio';
  #process: KamailioProcess | undefined;

  address(): string {
    return `127.0.0.1:${this.#running().port}`;
  }

  pid(): number {
    return this.#running().pid;
  }

  async start(): Promise<void> {
    // TOOLCHAIN.md: -m 4096 (shared memory, MiB) and -x tlsf hold about 9,000 calls/s on this machine.
    this.#process = await startKamailio({ port: await freePort(), sharedMemoryMb: 4096 });
  }

  async stop(): Promise<void> {
    await this.#process?.stop();
    this.#process = undefined;
  }

  #running(): KamailioProcess {
    if (this.#process === undefined) throw new Error('Kamailio is not running');
    return this.#process;
  }
}

export interface BenchUser {
  user: string;
  password: string;
}

/**
 * A data folder with the benchmark realm and `count` users, made with the `siplet realms add` and
 * `siplet users add` commands (password on standard input), two at a time with retries: SQLite
 * refuses a third concurrent writer ("database is locked"). Copied into each registrar's data folder.
 */
export async function prepareUsers(count: number): Promise<{ dataDir: string; users: BenchUser[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'siplet-bench-users-'));
  await siplet(['realms', 'add', BENCH_REALM, '--data', dataDir]);
  const users = Array.from({ length: count }, (_, i) => ({ user: `u${i + 1}`, password: `pw-${i + 1}-${Math.random().toString(36).slice(2, 10)}` }));
  const queue = [...users];
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      await siplet(['users', 'add', `${next.user}@${BENCH_REALM}`, '--data', dataDir], `${next.password}\n`);
    }
  };
  await Promise.all([worker(), worker()]);
  return { dataDir, users };
}

/** Runs `node bin/siplet.js <args>`, retrying a locked database; throws with its output on failure. */
async function siplet(args: string[], stdin = ''): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [join(repositoryRoot, 'bin', 'siplet.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', reject);
      child.on('exit', (exitCode) => resolve({ code: exitCode, output }));
      child.stdin.end(stdin);
    });
    if (code === 0) return;
    if (!/locked|busy/i.test(output) || attempt >= 10) throw new Error(`siplet ${args.join(' ')} exited with ${code}: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
  }
}

/** Removes a folder `prepareUsers` made. */
export function removeUsers(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
}
