/**
 * Runs the built Siplet (`node bin/siplet.js start`) as a child process for interop tests, with
 * its own apps folder, and waits until `GET /health` answers. Requires `npm run build` first
 * (`npm run test:interop` does it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './sipp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface SipletProcess {
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
  const sipPort = await freePort();
  const httpPort = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [bin, 'start', '--host', '127.0.0.1', '--sip-port', String(sipPort), '--http-port', String(httpPort), '--apps', appsDir, '--data', dataDir, '--udp-buffer-size', '4194304', ...(options.extraArgs ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SIPLET_LOG_LEVEL: process.env['SIPLET_LOG_LEVEL'] ?? 'info' } },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
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
