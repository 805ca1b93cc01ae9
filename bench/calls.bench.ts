/**
 * Calls per second, latency and memory of Siplet as its own process against real SIPp peers, with
 * Kamailio measured side by side in the same run (`npm run bench -- calls`; docs/benchmarks.md,
 * section Calls):
 *
 *   proxy     SIPp uac ─► Siplet: call-screening (record-routed) ─► SIPp uas, and the same between
 *             SIPp and Kamailio (stateful, record-routing): the highest rate each holds with 0 failed
 *             calls for `finalSeconds`, and their ratio;
 *   profile   Siplet under `--cpu-prof` at the proxy's highest rate: where its time goes;
 *   latency   INVITE → 180 as the caller sees it, at half the proxy's rate (Siplet and Kamailio);
 *   b2bua     SIPp uac ─► Siplet: b2bua ─► SIPp uas, highest rate, and its ratio to Kamailio's proxy;
 *   register  digest-authenticated REGISTERs (401, then 200) to the registrar sample;
 *   memory    Siplet's heap and RSS with `memoryCalls` established B2BUA calls held open.
 *
 * Everything shares the machine: SIPp, the server and Kamailio run on the same cores. The run records
 * the load average and how busy the machine was during each confirming trial.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findProfile, summariseProfile, type ProfileSummary } from './harness/cpu-profile.js';
import { readMemory, type MemorySample } from './harness/memory-probe.js';
import { loadAverage } from './harness/proc.js';
import { freePort, startSipp, type SippResult } from './harness/sipp.js';
import { repositoryRoot } from './harness/siplet-process.js';
import {
  BENCH_SCENARIOS,
  describeTrial,
  roundRate,
  runTrial,
  searchMaxRate,
  type CallFlow,
  type SearchResult,
  type Trial,
} from './calls/rate-search.js';
import { BENCH_REALM, KamailioServer, prepareUsers, removeUsers, SipletServer } from './calls/servers.js';

export type CallsPart = 'proxy' | 'profile' | 'latency' | 'b2bua' | 'register' | 'memory';

export const CALLS_PARTS: readonly CallsPart[] = ['proxy', 'profile', 'latency', 'b2bua', 'register', 'memory'];

export interface CallsBenchOptions {
  /** Which measurements; default all. `profile` and `latency` need `proxy` and add it. */
  parts?: readonly CallsPart[];
  /** Seconds of each search trial. Default 4. */
  trialSeconds?: number;
  /** Seconds of the trial confirming a rate, and of the latency trial. Default 30. */
  finalSeconds?: number;
  /** Seconds of the profiled trial. Default 15. */
  profileSeconds?: number;
  /** Established B2BUA calls for the memory figure. Default 10,000. */
  memoryCalls?: number;
  /** Users registering in the REGISTER benchmark. Default 10. */
  users?: number;
  onProgress?: (line: string) => void;
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LatencyResult {
  rate: number;
  siplet: { trial: Trial; invite180: Percentiles };
  kamailio: { trial: Trial; invite180: Percentiles } | undefined;
}

export interface MemoryResult {
  calls: number;
  rampRate: number;
  /** Idle, after a warm-up whose transactions have ended. */
  before: MemorySample;
  /** Every call established, its transactions still in their Timer L/M windows (64×T1 after the 2xx). */
  established: MemorySample;
  transactionsAtEstablished: number;
  /** The same calls once those transactions have ended: what an established call itself costs. */
  steady: MemorySample;
  transactionsAtSteady: number;
  sessions: Record<string, number>;
  /** Failed calls at the UAC and the UAS once the calls were hung up. */
  uacFailed: number;
  uasFailed: number;
}

export interface CallsBenchResult {
  loadBefore: [number, number, number];
  loadAfter: [number, number, number];
  kamailio?: SearchResult;
  proxy?: SearchResult;
  profile?: { rate: number; trial: Trial; summary: ProfileSummary };
  latency?: LatencyResult;
  b2bua?: SearchResult;
  register?: SearchResult;
  memory?: MemoryResult;
}

const proxyFlow: CallFlow = {
  unit: 'calls',
  uac: join(BENCH_SCENARIOS, 'proxy-uac.xml'),
  uas: join(BENCH_SCENARIOS, 'proxy-uas.xml'),
  holdMs: 100,
  tailMs: 2000,
};

const b2buaFlow = (holdMs: number): CallFlow => ({
  unit: 'calls',
  uac: join(BENCH_SCENARIOS, 'b2bua-uac.xml'),
  uas: join(BENCH_SCENARIOS, 'b2bua-uas.xml'),
  holdMs,
  tailMs: 2000,
});

export async function runCallsBench(options: CallsBenchOptions = {}): Promise<CallsBenchResult> {
  const progress = options.onProgress ?? (() => {});
  const parts = new Set<CallsPart>(options.parts ?? CALLS_PARTS);
  if (parts.has('profile') || parts.has('latency')) parts.add('proxy');
  const search = { trialSeconds: options.trialSeconds ?? 4, finalSeconds: options.finalSeconds ?? 30, precision: 0.15, onProgress: progress };
  const finalSeconds = search.finalSeconds;
  const result: CallsBenchResult = { loadBefore: loadAverage(), loadAfter: [NaN, NaN, NaN] };
  progress(`  load average ${result.loadBefore.join(', ')}`);

  const kamailio = new KamailioServer();
  const stops: (() => Promise<void>)[] = [];
  const cleanUp = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  try {
    if (parts.has('proxy') || parts.has('b2bua')) {
      progress('  Kamailio, stateful record-routing proxy: SIPp uac ─► Kamailio ─► SIPp uas');
      await kamailio.start();
      stops.push(() => kamailio.stop());
      result.kamailio = await searchMaxRate(kamailio, proxyFlow, { ...search, start: 4000 });
      progress(`  Kamailio holds ${result.kamailio.rate} calls/s`);
    }

    if (parts.has('proxy')) {
      progress('  Siplet proxy (call-screening, record-routed): SIPp uac ─► Siplet ─► SIPp uas');
      const proxy = new SipletServer({ sample: 'call-screening' });
      await proxy.start();
      stops.push(() => proxy.stop());
      result.proxy = await searchMaxRate(proxy, proxyFlow, { ...search, start: 1000 });
      progress(`  Siplet proxy holds ${result.proxy.rate} calls/s`);

      if (parts.has('latency') && result.proxy.rate > 0) {
        const rate = roundRate(result.proxy.rate / 2);
        progress(`  INVITE → 180 at ${rate} calls/s (half the proxy's rate): Siplet ${finalSeconds} s, Kamailio ${Math.min(15, finalSeconds)} s`);
        // A fresh server, warmed up for 3 s at the same rate: not one still holding the transactions
        // of a 30 s run at the full rate (they stay 64×T1).
        await proxy.stop();
        await proxy.start();
        await runTrial(proxy, proxyFlow, rate, 3);
        const sipletTrial = await runTrial(proxy, proxyFlow, rate, finalSeconds, { traceRtt: true, waitForUas: true });
        progress(`    Siplet: ${describeTrial(sipletTrial, 'calls')}`);
        let kamailioSide: LatencyResult['kamailio'];
        if (result.kamailio !== undefined) {
          // Kamailio holds no state that builds up at this rate: 15 s show its latency as well as 30.
          const kamailioTrial = await runTrial(kamailio, proxyFlow, rate, Math.min(15, finalSeconds), { traceRtt: true, waitForUas: true });
          progress(`    Kamailio: ${describeTrial(kamailioTrial, 'calls')}`);
          kamailioSide = { trial: kamailioTrial, invite180: percentiles(kamailioTrial.rtt['1'] ?? []) };
        }
        result.latency = { rate, siplet: { trial: sipletTrial, invite180: percentiles(sipletTrial.rtt['1'] ?? []) }, kamailio: kamailioSide };
      }
      await proxy.stop();

      if (parts.has('profile') && result.proxy.rate > 0) {
        const dir = mkdtempSync(join(tmpdir(), 'siplet-cpu-prof-'));
        const seconds = options.profileSeconds ?? 15;
        progress(`  Siplet proxy under --cpu-prof at ${result.proxy.rate} calls/s for ${seconds} s`);
        const profiled = new SipletServer({ sample: 'call-screening', nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
        await profiled.start();
        const trial = await runTrial(profiled, proxyFlow, result.proxy.rate, seconds);
        progress(`    ${describeTrial(trial, 'calls')}`);
        await profiled.stop();
        result.profile = { rate: result.proxy.rate, trial, summary: summariseProfile(findProfile(dir), repositoryRoot) };
        rmSync(dir, { recursive: true, force: true });
      }
    }

    if (parts.has('b2bua')) {
      progress('  Siplet B2BUA (b2bua sample): SIPp uac ─► Siplet ─► SIPp uas');
      const b2bua = new SipletServer({ sample: 'b2bua' });
      await b2bua.start();
      stops.push(() => b2bua.stop());
      result.b2bua = await searchMaxRate(b2bua, b2buaFlow(100), { ...search, start: 1000 });
      await b2bua.stop();
      progress(`  Siplet B2BUA holds ${result.b2bua.rate} calls/s`);
    }
    await kamailio.stop();

    // The memory server is started and warmed up now, so that its warm-up transactions end
    // (64×T1 = 32 s) while the REGISTER benchmark runs.
    let memoryServer: SipletServer | undefined;
    let memoryDir: string | undefined;
    if (parts.has('memory')) {
      memoryDir = mkdtempSync(join(tmpdir(), 'siplet-bench-memory-'));
      memoryServer = new SipletServer({ sample: 'b2bua', memoryFile: join(memoryDir, 'memory.json') });
      await memoryServer.start();
      const server = memoryServer;
      stops.push(() => server.stop());
      const warmUp = await runTrial(memoryServer, b2buaFlow(100), 200, 3);
      progress(`  memory: B2BUA warm-up ${describeTrial(warmUp, 'calls')}`);
    }

    if (parts.has('register')) {
      const count = options.users ?? 10;
      progress(`  digest REGISTER (registrar sample, security constraint on REGISTER): ${count} users of ${BENCH_REALM}`);
      const { dataDir, users } = await prepareUsers(count);
      const csv = join(dataDir, 'users.csv');
      writeFileSync(csv, `SEQUENTIAL\n${users.map((u) => `${u.user};${BENCH_REALM};[authentication username=${u.user} password=${u.password}]`).join('\n')}\n`);
      const registrar = new SipletServer({ sample: 'registrar', dataTemplate: dataDir });
      await registrar.start();
      stops.push(() => registrar.stop());
      const flow: CallFlow = { unit: 'registrations', uac: join(BENCH_SCENARIOS, 'register-digest.xml'), holdMs: 0, tailMs: 2000, uacArgs: ['-inf', csv, '-auth_uri', BENCH_REALM] };
      result.register = await searchMaxRate(registrar, flow, { ...search, start: 1000 });
      progress(`  Siplet holds ${result.register.rate} registrations/s`);
      // Every registration was digest-authenticated: a short check run against the container's counters.
      const authCounters = async () => ((await registrar.process.health())['container'] as { auth?: Record<string, number> } | undefined)?.auth ?? {};
      const before = await authCounters();
      const check = await runTrial(registrar, flow, 200, 2);
      const after = await authCounters();
      const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
      progress(`    check: ${check.successful} registrations, ${delta('challenges')} challenges, ${delta('authenticated')} authenticated, ${delta('failures')} failed`);
      await registrar.stop();
      removeUsers(dataDir);
    }

    if (memoryServer !== undefined && memoryDir !== undefined) {
      const calls = options.memoryCalls ?? 10_000;
      const rampRate = result.b2bua && result.b2bua.rate > 0 ? Math.min(1000, roundRate(result.b2bua.rate * 0.75)) : 500;
      result.memory = await measureB2buaMemory(memoryServer, join(memoryDir, 'memory.json'), calls, rampRate, progress);
      await memoryServer.stop();
      rmSync(memoryDir, { recursive: true, force: true });
    }
  } finally {
    await cleanUp();
  }
  result.loadAfter = loadAverage();
  progress(`  load average ${result.loadAfter.join(', ')}`);
  return result;
}

interface Health {
  transactions?: { live?: number };
  container?: { sessions?: Record<string, number> };
}

/**
 * `calls` B2BUA calls placed at `rampRate` and held open; the heap (after full collections) and RSS
 * are read before, once every call is established, and again once the calls' transactions have
 * ended (RFC 6026: an INVITE transaction stays 64×T1 after its 2xx), while the calls stay up.
 */
async function measureB2buaMemory(server: SipletServer, memoryFile: string, calls: number, rampRate: number, progress: (line: string) => void): Promise<MemoryResult> {
  const siplet = server.process;
  const health = async () => (await siplet.health()) as Health;
  const until = async (what: string, check: (h: Health) => boolean, timeoutMs: number): Promise<Health> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const h = await health();
      if (check(h)) return h;
      if (Date.now() > deadline) throw new Error(`memory: ${what} not reached within ${timeoutMs / 1000} s: ${JSON.stringify(h)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  const live = (h: Health) => h.transactions?.live ?? 0;
  const sessions = (h: Health) => h.container?.sessions ?? {};

  await until('no live transaction or session after the warm-up', (h) => live(h) === 0 && (sessions(h)['applicationSessions'] ?? 0) === 0, 60_000);
  const before = await readMemory(siplet.pid, memoryFile);
  progress(`  memory: before ${mb(before.heapUsed)} heap, ${mb(before.rss)} RSS; placing ${calls} calls at ${rampRate}/s and holding them`);

  const rampSeconds = calls / rampRate;
  // Held long enough to see every call established and their transactions end, with room to spare.
  const holdMs = Math.ceil((rampSeconds + 40) * 1000);
  const uasPort = await freePort();
  const killAfterMs = (rampSeconds * 2 + 45 + 120) * 1000;
  const uas = startSipp({ scenarioFile: join(BENCH_SCENARIOS, 'b2bua-uas.xml'), localPort: uasPort, calls, bufferSize: 4_194_304, killAfterMs });
  await uas.ready;
  const uac = startSipp({
    scenarioFile: join(BENCH_SCENARIOS, 'b2bua-uac.xml'),
    remote: `127.0.0.1:${uasPort}`,
    calls,
    rate: rampRate,
    limit: calls + 100,
    bufferSize: 4_194_304,
    timeoutSeconds: Math.ceil(rampSeconds * 2 + 45 + 60),
    killAfterMs,
    extraArgs: ['-rsa', server.address(), '-d', String(holdMs)],
  });
  let uacResult: SippResult | undefined;
  void uac.result.then((r) => (uacResult = r));
  try {
    const atEstablished = await until(
      `${calls} established calls`,
      (h) => uacResult !== undefined || (sessions(h)['applicationSessions'] ?? 0) >= calls,
      (rampSeconds + 40) * 1000,
    );
    if (uacResult !== undefined) throw new Error(`memory: the UAC ended before every call was established: ${JSON.stringify(uacResult.counters)}\n${uacResult.errors.slice(-2000)}`);
    const established = await readMemory(siplet.pid, memoryFile);
    progress(`  memory: ${calls} established, ${live(atEstablished)} live transactions: ${mb(established.heapUsed)} heap, ${mb(established.rss)} RSS`);
    const atSteady = await until('the calls\' transactions ended', (h) => live(h) <= calls * 0.01, 45_000);
    const steady = await readMemory(siplet.pid, memoryFile);
    const sessionsAtSteady = sessions(atSteady);
    progress(`  memory: transactions ended (${live(atSteady)} live), sessions ${JSON.stringify(sessionsAtSteady)}: ${mb(steady.heapUsed)} heap, ${mb(steady.rss)} RSS`);
    progress('  memory: waiting for the calls to be hung up');
    const [uacDone, uasDone] = await Promise.all([uac.result, uas.result]);
    return {
      calls,
      rampRate,
      before,
      established,
      transactionsAtEstablished: live(atEstablished),
      steady,
      transactionsAtSteady: live(atSteady),
      sessions: sessionsAtSteady,
      uacFailed: uacDone.failed + Math.max(0, calls - uacDone.successful - uacDone.failed),
      uasFailed: uasDone.failed,
    };
  } finally {
    await uac.stop(1000);
    await uas.stop(1000);
  }
}

/** Percentiles of `values` (nearest rank). */
export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number));
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.length === 0 ? NaN : (sorted[sorted.length - 1] as number) };
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function ms(value: number): string {
  // SIPp reports response times in whole milliseconds, truncated: 0 means under 1 ms.
  return Number.isNaN(value) ? 'n/a' : value === 0 ? '<1 ms' : `${value} ms`;
}

function share(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

function met(ok: boolean): string {
  return ok ? 'met' : 'not met';
}

/** Summary lines, with the targets of docs/benchmarks.md. */
export function formatCalls(result: CallsBenchResult): string[] {
  const lines: string[] = [];
  const kamailio = result.kamailio?.rate;
  const rateLine = (label: string, search: SearchResult, unit: string) => {
    const { final } = search;
    const cpu = `server ${final.serverCpu === undefined ? '?' : (final.serverCpu * 100).toFixed(0)}% of a core, machine ${(final.machineBusy * 100).toFixed(0)}% busy`;
    if (search.rate === 0) return `${label}: no rate held for ${final.seconds} s (last: ${final.rate}/s, ${final.why}; ${cpu})`;
    const rss = final.serverRss === undefined ? '' : `, server RSS ${(final.serverRss / 2 ** 20).toFixed(0)} MiB`;
    return `${label}: ${search.rate} ${unit}/s held ${final.seconds} s with 0 failed (${final.retransmissions} retransmissions, ${cpu}${rss})`;
  };
  if (result.kamailio) lines.push(rateLine('Kamailio proxy', result.kamailio, 'calls'));
  if (result.proxy) {
    lines.push(rateLine('Siplet proxy (call-screening)', result.proxy, 'calls'));
    if (kamailio && result.proxy.rate > 0) lines.push(`  proxy ratio Siplet/Kamailio ${(result.proxy.rate / kamailio).toFixed(2)} (target ≥ 0.50: ${met(result.proxy.rate >= kamailio * 0.5)})`);
  }
  if (result.b2bua) {
    lines.push(rateLine('Siplet B2BUA (b2bua)', result.b2bua, 'calls'));
    if (kamailio && result.b2bua.rate > 0) lines.push(`  B2BUA ratio Siplet/Kamailio proxy ${(result.b2bua.rate / kamailio).toFixed(2)} (target ≥ 0.33: ${met(result.b2bua.rate >= kamailio / 3)})`);
  }
  if (result.register) lines.push(rateLine('Siplet digest REGISTER (registrar)', result.register, 'registrations'));
  if (result.latency) {
    const { rate, siplet, kamailio: k } = result.latency;
    const p = siplet.invite180;
    lines.push(
      `INVITE→180 at ${rate} calls/s, Siplet: p50 ${ms(p.p50)}, p90 ${ms(p.p90)}, p99 ${ms(p.p99)}, max ${ms(p.max)} (${p.count} calls, ${siplet.trial.held ? 'held' : `not held: ${siplet.trial.why}`}; target p99 < 10 ms: ${met(p.p99 < 10)})`,
    );
    if (k) lines.push(`INVITE→180 at ${rate} calls/s, Kamailio: p50 ${ms(k.invite180.p50)}, p90 ${ms(k.invite180.p90)}, p99 ${ms(k.invite180.p99)}, max ${ms(k.invite180.max)} (${k.invite180.count} calls)`);
  }
  if (result.memory) {
    const m = result.memory;
    const perCall = (a: number, b: number) => `${((b - a) / m.calls / 1024).toFixed(1)} KiB`;
    lines.push(
      `B2BUA memory, ${m.calls} established calls: heap ${mb(m.before.heapUsed)} → ${mb(m.steady.heapUsed)} = ${perCall(m.before.heapUsed, m.steady.heapUsed)}/call; RSS ${mb(m.before.rss)} → ${mb(m.steady.rss)} = ${perCall(m.before.rss, m.steady.rss)}/call (target < 20 KB: ${met(m.steady.heapUsed - m.before.heapUsed < m.calls * 20_000)})`,
    );
    lines.push(
      `  with the calls' transactions still live (${m.transactionsAtEstablished}): heap ${perCall(m.before.heapUsed, m.established.heapUsed)}/call, RSS ${perCall(m.before.rss, m.established.rss)}/call; failed calls at hang-up: uac ${m.uacFailed}, uas ${m.uasFailed}`,
    );
  }
  if (result.profile) {
    const { summary, rate, trial } = result.profile;
    lines.push(
      `Siplet proxy profile at ${rate} calls/s (${trial.held ? 'held' : 'not held'} under the profiler): idle ${share(summary.idleShare)}, GC ${share(summary.gcShare)}; top self time:`,
    );
    for (const entry of summary.functions.slice(0, 12)) lines.push(`  ${share(entry.share).padStart(6)}  ${entry.name}`);
    lines.push('  by area:');
    for (const entry of summary.areas.slice(0, 12)) lines.push(`  ${share(entry.share).padStart(6)}  ${entry.name}`);
  }
  lines.push(`load average before ${result.loadBefore.join(', ')}, after ${result.loadAfter.join(', ')}`);
  return lines;
}
