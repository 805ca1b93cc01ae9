/**
 * Runs baresip (Debian package baresip-core, 1.0) headless for interop tests: one account, no sound
 * card, driven over its `ctrl_tcp` module (netstring-framed JSON commands and events). baresip
 * missing is a failure, never a skip.
 *
 *   test ── ctrl_tcp: {"command":"dial","params":"sip:bob@example.com"} ──► baresip ── SIP ──► Siplet
 *        ◄─ {"event":true,"type":"CALL_INCOMING",…} / {"response":true,"ok":true,…} ──┘
 *
 * The configuration loads only what a call needs from baresip-core: g711 (PCMU/PCMA), aubridge
 * as audio player and source (a device without hardware; ausine needs 48 kHz, G.711 runs at 8),
 * account (reads the accounts file), menu (the dial/accept/hangup commands) and ctrl_tcp. SIP
 * and the control port listen on 127.0.0.1 only; `-s` puts every SIP message on stdout, which a
 * failing test prints. baresip 1.0's digest client (libre) knows only MD5 and gives up when any
 * challenge of a 401 names another algorithm.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const BARESIP_MISSING =
  'baresip (Debian package baresip-core) is not installed: run .ci/run or apt-get install --no-install-recommends baresip-core';

/** The `baresip` binary on PATH. Throws `BARESIP_MISSING` when there is none. */
export function findBaresip(path: string | undefined = process.env['PATH']): string {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'baresip');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  throw new Error(BARESIP_MISSING);
}

export interface BaresipOptions {
  /** The account's address of record, `sip:alice@example.com`. */
  aor: string;
  password: string;
  /** Where every request goes, `host:port` (the account's outbound proxy): Siplet. */
  proxy: string;
  /** SIP port on 127.0.0.1 (UDP). */
  sipPort: number;
  /** ctrl_tcp port on 127.0.0.1. */
  controlPort: number;
  /** Registration interval, seconds (regint). Default 600. */
  registerInterval?: number;
}

/** One ctrl_tcp event: `type` is CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED, REGISTER_OK, … */
export interface BaresipEvent {
  type: string;
  class?: string;
  accountaor?: string;
  direction?: string;
  peeruri?: string;
  id?: string;
  param?: string;
  [key: string]: unknown;
}

export interface BaresipProcess {
  readonly aor: string;
  readonly sipPort: number;
  /** Sends a command (`dial`, `accept`, `hangup`, `reginfo`, …) and resolves with baresip's response. */
  command(command: string, params?: string): Promise<{ ok: boolean; data: string }>;
  /** Every event received so far, oldest first. */
  events(): readonly BaresipEvent[];
  /** Resolves with the first event of `type` (received at any time), rejects after `ms`. */
  waitForEvent(type: string, ms?: number): Promise<BaresipEvent>;
  /** Resolves when `text` appears on stdout (the SIP trace, status lines), rejects after `ms`. */
  waitForOutput(text: string | RegExp, ms?: number): Promise<void>;
  /** The last 64 KiB of stdout and stderr, for a failing assertion's message. */
  output(): string;
  stop(): Promise<void>;
}

export function baresipConfig(options: BaresipOptions): { config: string; accounts: string } {
  const config = [
    'poll_method\t\tepoll',
    `sip_listen\t\t127.0.0.1:${options.sipPort}`,
    'net_interface\t\t127.0.0.1',
    'call_local_timeout\t120',
    'call_max_calls\t\t4',
    'audio_player\t\taubridge,nil',
    'audio_source\t\taubridge,nil',
    'audio_alert\t\taubridge,nil',
    'module_path\t\t/usr/lib/baresip/modules',
    'module\t\t\tg711.so',
    'module\t\t\taubridge.so',
    'module\t\t\tctrl_tcp.so',
    'module_tmp\t\taccount.so',
    'module_app\t\tmenu.so',
    `ctrl_tcp_listen\t\t127.0.0.1:${options.controlPort}`,
    '',
  ].join('\n');
  const account = `<${options.aor};transport=udp>;auth_pass=${options.password};outbound="sip:${options.proxy};transport=udp";regint=${options.registerInterval ?? 600};answermode=manual\n`;
  return { config, accounts: account };
}

export async function startBaresip(options: BaresipOptions): Promise<BaresipProcess> {
  const binary = findBaresip();
  const dir = mkdtempSync(join(tmpdir(), 'siplet-baresip-'));
  const { config, accounts } = baresipConfig(options);
  writeFileSync(join(dir, 'config'), config);
  writeFileSync(join(dir, 'accounts'), accounts);
  writeFileSync(join(dir, 'contacts'), '');
  const child: ChildProcess = spawn(binary, ['-f', dir, '-s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 256 * 1024) out = out.slice(-64 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanUp = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  let socket: Socket;
  try {
    socket = await connectWhenListening(options.controlPort, child, () => out);
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const events: BaresipEvent[] = [];
  const waiting: { token: string; resolve: (r: { ok: boolean; data: string }) => void }[] = [];
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const parsed = readNetstring(buffer);
      if (parsed === undefined) break;
      buffer = buffer.subarray(parsed.consumed);
      const message = JSON.parse(parsed.payload) as Record<string, unknown>;
      if (message['event'] === true) events.push(message as BaresipEvent);
      else if (message['response'] === true) {
        const index = waiting.findIndex((w) => w.token === message['token']);
        if (index !== -1) waiting.splice(index, 1)[0]!.resolve({ ok: message['ok'] === true, data: String(message['data'] ?? '') });
      }
    }
  });
  socket.on('error', () => {
    // baresip going away closes the socket; stop() is what ends it.
  });

  let tokens = 0;
  const until = async <T>(what: string, ms: number, probe: () => T | undefined): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = probe();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`baresip ${options.aor}: no ${what} within ${ms} ms; events ${JSON.stringify(events.map((e) => e.type))}\n${out.slice(-6000)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  return {
    aor: options.aor,
    sipPort: options.sipPort,
    command(command, params) {
      const token = `t${++tokens}`;
      const body = Buffer.from(JSON.stringify(params === undefined ? { command, token } : { command, params, token }));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`baresip ${options.aor}: no response to ${command} within 5 s\n${out.slice(-4000)}`)), 5000);
        waiting.push({
          token,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        });
        socket.write(Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]));
      });
    },
    events: () => events,
    waitForEvent: (type, ms = 10_000) => until(`${type} event`, ms, () => events.find((e) => e.type === type)),
    waitForOutput: async (text, ms = 10_000) => {
      await until(`output ${String(text)}`, ms, () => ((typeof text === 'string' ? out.includes(text) : text.test(out)) ? true : undefined));
    },
    output: () => out.slice(-64 * 1024),
    async stop() {
      socket.destroy();
      await cleanUp();
    },
  };
}

/** `<length>:<payload>,` (the framing ctrl_tcp uses); undefined until a whole one has arrived. */
function readNetstring(buffer: Buffer): { payload: string; consumed: number } | undefined {
  const colon = buffer.indexOf(0x3a);
  if (colon === -1) return undefined;
  const length = Number(buffer.subarray(0, colon).toString('latin1'));
  if (!Number.isInteger(length) || length < 0) throw new Error(`ctrl_tcp sent a malformed netstring: ${buffer.subarray(0, 40).toString()}`);
  if (buffer.length < colon + 1 + length + 1) return undefined;
  return { payload: buffer.subarray(colon + 1, colon + 1 + length).toString('utf8'), consumed: colon + 1 + length + 1 };
}

/** Connects to ctrl_tcp once baresip listens (it loads modules first), failing if baresip exits. */
async function connectWhenListening(port: number, child: ChildProcess, output: () => string): Promise<Socket> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`baresip exited (code ${child.exitCode}) before its control port ${port} listened:\n${output()}`);
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
        socket.once('error', reject);
      });
    } catch {
      if (Date.now() > deadline) throw new Error(`baresip's control port ${port} did not listen within 10 s:\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
