/**
 * Runs the built Siplet (`node bin/siplet.js start`) as a child process for interop tests and
 * benchmarks, with its own apps and data folders, and waits until `GET /health` answers. Requires
 * `npm run build` first (`npm run test:interop` and `npm run bench` do it). Works from the sources
 * (vitest) and from dist/bench/harness (the built benchmarks): the repository root is found by
 * walking up to bin/siplet.js.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reapOnExit } from './reap.js';
import { freePort } from './sipp.js';

/** The repository root: the nearest folder above this module holding package.json and bin/siplet.js. */
export const repositoryRoot: string = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'siplet.js'))) return dir;
    if (dirname(dir) === dir) throw new Error(`siplet-process: no folder above ${from} holds package.json and bin/siplet.js`);
  }
}

const root = repositoryRoot;

export interface SipletProcess {
  /** The Node process id, for signals and /proc (memory, CPU time). */
  readonly pid: number;
  readonly sipPort: number;
  readonly httpPort: number;
  readonly appsDir: string;
  readonly dataDir: string;
  /** Everything the process printed so far. */
  output(): string;
  health(): Promise<Record<string, unknown>>;
  /** Resolves when `text` appears in the output, rejects after `ms`. */
  waitForOutput(text: string | RegExp, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface SipletProcessOptions {
  /** Built samples to deploy (copied from apps/<name>), with optional config.json contents. */
  apps: { name: string; config?: Record<string, unknown> }[];
  dar: string;
  extraArgs?: string[];
  /** Node options placed before bin/siplet.js: `--cpu-prof`, `--expose-gc`, `--import <module>`. */
  nodeArgs?: string[];
  /** Added to the environment (after `SIPLET_LOG_LEVEL`, which defaults to `info`). */
  env?: Record<string, string>;
  /**
   * Runs after the apps are copied and before the server starts: write an app's siplet.json, add
   * realms and users to the data folder (`node bin/siplet.js users add … --data <dataDir>`).
   */
  prepare?: (folders: { appsDir: string; dataDir: string }) => Promise<void> | void;
}

export async function startSiplet(options: SipletProcessOptions): Promise<SipletProcess> {
  const bin = join(root, 'bin', 'siplet.js');
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) throw new Error('Siplet is not built: run "npm run build" (npm run test:interop does)');
  const appsDir = mkdtempSync(join(tmpdir(), 'siplet-apps-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'siplet-data-'));
  for (const app of options.apps) {
    const from = join(root, 'apps', app.name);
    if (!existsSync(from)) throw new Error(`apps/${app.name} is missing: run "npm run build" to install the samples`);
    cpSync(from, join(appsDir, app.name), { recursive: true });
    if (app.config) writeFileSync(join(appsDir, app.name, 'config.json'), JSON.stringify(app.config));
  }
  writeFileSync(join(appsDir, 'dar.properties'), options.dar);
  await options.prepare?.({ appsDir, dataDir });
  const sipPort = await freePort();
  const httpPort = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), bin, 'start', '--host', '127.0.0.1', '--sip-port', String(sipPort), '--http-port', String(httpPort), '--apps', appsDir, '--data', dataDir, '--udp-buffer-size', '4194304', ...(options.extraArgs ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SIPLET_LOG_LEVEL: process.env['SIPLET_LOG_LEVEL'] ?? 'info', ...options.env } },
  );
  reapOnExit(child);
  let out = '';
  // Keeps the last megabytes only: a long benchmark run must not grow the harness's own memory.
  const collect = (d: Buffer) => {
    out += d.toString();
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const health = async (): Promise<Record<string, unknown>> => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/health`);
    return (await res.json()) as Record<string, unknown>;
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`siplet exited with ${child.exitCode}:\n${out}`);
    try {
      await health();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`siplet did not answer /health within 15 s:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    pid: child.pid as number,
    sipPort,
    httpPort,
    appsDir,
    dataDir,
    output: () => out,
    health,
    async waitForOutput(text, ms = 30_000) {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        if (typeof text === 'string' ? out.includes(text) : text.test(out)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`siplet did not print ${String(text)} within ${ms} ms:\n${out.slice(-4000)}`);
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(appsDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
