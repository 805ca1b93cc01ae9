/**
 * Runs Kamailio (Debian package kamailio) as a stateful, record-routing proxy for interop tests and
 * benchmarks: every initial request is record-routed and relayed to a fixed next hop, or to its
 * Request-URI when no next hop is given; in-dialog requests follow their Route headers (loose
 * routing). Kamailio missing is a failure, never a skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reapOnExit } from './reap.js';

export const KAMAILIO_MISSING = 'Kamailio (Debian package kamailio) is not installed: run .ci/run or apt-get install kamailio';

export function findKamailio(): string {
  for (const p of ['/usr/sbin/kamailio', '/usr/local/sbin/kamailio', '/usr/bin/kamailio']) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  throw new Error(KAMAILIO_MISSING);
}

export interface KamailioOptions {
  port: number;
  /**
   * Where initial requests go: `host:port` (a Siplet, or a SIPp UAS). Omitted: to their Request-URI,
   * as a proxy that routes by it (Siplet's call-screening does) would.
   */
  nextHop?: string;
  /** Worker processes per listener. Default 2. */
  children?: number;
  /** Shared memory in MiB. Default 256. */
  sharedMemoryMb?: number;
  transport?: 'udp' | 'tcp';
}

export interface KamailioProcess {
  readonly port: number;
  /** The main process id; the workers are its children. */
  readonly pid: number;
  output(): string;
  stop(): Promise<void>;
}

export function kamailioConfig(options: KamailioOptions): string {
  const proto = options.transport ?? 'udp';
  return `#!KAMAILIO
debug=1
log_stderror=yes
memdbg=5
memlog=5
children=${options.children ?? 2}
tcp_children=${options.children ?? 2}
auto_aliases=no
listen=${proto}:127.0.0.1:${options.port}
${proto === 'udp' ? '' : 'disable_tcp=no\n'}maxbuffer=4194304
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "pv.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "textopsx.so"
modparam("rr", "enable_full_lr", 1)

request_route {
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  if (has_totag()) {
    # In-dialog: follow the Route set (loose routing); a request without one goes by its Request-URI.
    loose_route();
    if (is_method("ACK") && !t_check_trans()) {
      forward();
      exit;
    }
    t_relay();
    exit;
  }
  if (is_method("CANCEL")) {
    if (t_check_trans()) t_relay();
    exit;
  }
  t_check_trans();
  record_route();
${options.nextHop === undefined ? '' : `  $du = "sip:${options.nextHop}${proto === 'udp' ? '' : ';transport=' + proto}";
`}  if (!t_relay()) sl_reply_error();
}
`;
}

export async function startKamailio(options: KamailioOptions): Promise<KamailioProcess> {
  const bin = findKamailio();
  const dir = mkdtempSync(join(tmpdir(), 'kamailio-'));
  const cfg = join(dir, 'kamailio.cfg');
  writeFileSync(cfg, kamailioConfig(options));
  const child: ChildProcess = spawn(bin, ['-f', cfg, '-DD', '-E', '-m', String(options.sharedMemoryMb ?? 256), '-M', '16', '-x', 'tlsf', '-Y', dir, '-P', join(dir, 'kamailio.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  reapOnExit(child, 'SIGTERM');
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Kamailio has no readiness signal on stdout at debug=1: give it a moment, then check it lives.
  await new Promise((r) => setTimeout(r, 700));
  if (child.exitCode !== null) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`kamailio exited with ${child.exitCode}:\n${out}`);
  }
  return {
    port: options.port,
    pid: child.pid as number,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
