/**
 * Trials of SIPp traffic against a server, and the search for the highest rate it holds.
 *
 * A trial places `rate × seconds` calls at `rate` calls/s from a SIPp UAC (through the server to a
 * SIPp UAS started for the trial, or to the server itself when there is no UAS) and holds when every
 * call succeeded on both sides within 4 s of the planned end (room for three retransmissions of a
 * lost message: 0.5 + 1 + 2 s) and SIPp kept the rate (the run took at most 5% longer than planned, plus the hold
 * time and 2.5 s: a server falling behind slows SIPp down through its call limit).
 *
 * The search ramps up by doubling with short trials until one fails (they also fail on heavy
 * retransmission, see `TrialOptions.strict`), bisects between the last held
 * and the first failed rate down to `precision`, and then confirms the result with one trial of
 * `finalSeconds`; if that fails, it tries 70% of the rate (and, if that holds, the midpoint) or
 * else 45% (and, if that holds, the midpoint up to 70%): four long trials at most. After a failed trial the server is restarted, so an
 * overload does not leak into the next trial.
 */
import { join } from 'node:path';
import { busyShare, machineCpu, rssBytes, treeCpuSeconds, udpReceiveBufferErrors } from '../harness/proc.js';
import { freePort, startSipp, type SippResult, type SippRun } from '../harness/sipp.js';
import { repositoryRoot } from '../harness/siplet-process.js';
import type { BenchServer } from './servers.js';

export const BENCH_SCENARIOS = join(repositoryRoot, 'bench', 'scenarios');

/** SIPp under load (TOOLCHAIN.md): default socket buffers top out near 4,000 calls/s. */
const BUFFER_SIZE = 4_194_304;

/** What one call is: the two SIPp scenarios and how long the call is held. */
export interface CallFlow {
  /** What a call is called in messages: "calls", "registrations". */
  unit: string;
  uac: string;
  /** The callee's scenario; absent: the server answers the UAC itself (REGISTER). */
  uas?: string;
  /** Milliseconds between the ACK and the BYE (SIPp's -d, for scenarios with a bare `<pause/>`). */
  holdMs: number;
  /** Milliseconds the UAC keeps a finished call to absorb repeated answers (the scenario's final `<timewait>`). */
  tailMs: number;
  /** More UAC arguments (`-inf users.csv`). */
  uacArgs?: readonly string[];
}

export interface Trial {
  rate: number;
  seconds: number;
  planned: number;
  successful: number;
  failed: number;
  /** Failed calls at the UAS; undefined while the UAS has not finished (short trials do not wait). */
  uasFailed: number | undefined;
  retransmissions: number;
  elapsedSeconds: number;
  held: boolean;
  /** Why the trial did not hold. */
  why: string | undefined;
  /** CPU the server (with its child processes) used, as a share of one core. */
  serverCpu: number | undefined;
  /** Share of the machine's cores busy during the trial (everything on it). */
  machineBusy: number;
  /** Datagrams dropped machine-wide because a receive buffer was full, during the trial. */
  udpDrops: number;
  /** The server's resident memory (its main process) when the last call ended. */
  serverRss: number | undefined;
  /** Transactions the server still held then (Siplet only). */
  serverTransactions: number | undefined;
  /** CPU of the SIPp UAC and UAS, as shares of one core (sampled every 250 ms while they run). */
  sippCpu: { uac: number; uas: number | undefined };
  /** Response times by rtd number, when traced. */
  rtt: Record<string, number[]>;
  /** The UAS's result, when the trial has one; settles after the UAS's last call. */
  uas: Promise<SippResult> | undefined;
}

export interface TrialOptions {
  /**
   * Also fail the trial when SIPp retransmitted more than 5% as many messages as it placed calls:
   * a server that only keeps up through retransmissions does not hold the rate for long. The
   * search's short trials use it; the confirming trial is judged on failed calls alone.
   */
  strict?: boolean;
  /** Trace response times (`-trace_rtt`). */
  traceRtt?: boolean;
  /** Wait for the UAS to finish and count its failures (the confirming trial does). */
  waitForUas?: boolean;
}

/** One trial at `rate` for `seconds` against `server`. */
export async function runTrial(server: BenchServer, flow: CallFlow, rate: number, seconds: number, options: TrialOptions = {}): Promise<Trial> {
  const planned = Math.round(rate * seconds);
  // How long a call occupies SIPp beyond its messages: the hold, and the tail after the last answer.
  const holdSeconds = (flow.holdMs + flow.tailMs) / 1000;
  let uas: SippRun | undefined;
  let remote = server.address();
  const routeArgs: string[] = [];
  if (flow.uas !== undefined) {
    const uasPort = await freePort();
    uas = startSipp({ scenarioFile: flow.uas, localPort: uasPort, calls: planned, bufferSize: BUFFER_SIZE, killAfterMs: (seconds + holdSeconds + 90) * 1000 });
    await uas.ready;
    remote = `127.0.0.1:${uasPort}`;
    routeArgs.push('-rsa', server.address());
  }
  const cpuBefore = treeCpuSeconds(server.pid());
  const machineBefore = machineCpu();
  const dropsBefore = udpReceiveBufferErrors();
  const started = performance.now();
  const uacRun = startSipp({
    scenarioFile: flow.uac,
    remote,
    calls: planned,
    rate,
    // Room for 3 s of calls beyond the hold: a slower server than that shows as a missed rate.
    limit: Math.max(100, Math.ceil(rate * (holdSeconds + 3))),
    bufferSize: BUFFER_SIZE,
    // Calls still open this long after the last one started count as not completed.
    timeoutSeconds: Math.ceil(seconds + holdSeconds + 4),
    killAfterMs: (seconds + holdSeconds + 30) * 1000,
    traceRtt: options.traceRtt ?? false,
    statsIntervalSeconds: 1,
    extraArgs: [...routeArgs, '-d', String(flow.holdMs), ...(flow.uacArgs ?? [])],
  });
  const uacCpu = new CpuSampler(uacRun.pid);
  const uasCpu = uas === undefined ? undefined : new CpuSampler(uas.pid);
  // A trial that has failed a call has failed: stop it at once rather than run it to the end.
  let stoppedEarly: number | undefined;
  const watch = setInterval(() => {
    const counts = uacRun.counts();
    if (stoppedEarly === undefined && counts !== undefined && counts.failed > 0) {
      stoppedEarly = (performance.now() - started) / 1000;
      void uacRun.stop(0);
    }
  }, 1000);
  const uac = await uacRun.result;
  clearInterval(watch);
  uacCpu.stop();
  uasCpu?.stop();
  const wall = (performance.now() - started) / 1000;
  const cpuAfter = treeCpuSeconds(server.pid());
  const serverRss = rssBytes(server.pid());
  const serverTransactions = await server.liveTransactions?.().catch(() => undefined);
  const serverCpu = cpuBefore !== undefined && cpuAfter !== undefined ? (cpuAfter - cpuBefore) / wall : undefined;
  const machineBusy = busyShare(machineBefore, machineCpu());
  const udpDrops = udpReceiveBufferErrors() - dropsBefore;

  const completed = uac.successful + uac.failed;
  let why: string | undefined;
  if (uac.failed > 0 || stoppedEarly !== undefined) {
    const early = stoppedEarly === undefined ? '' : `, stopped after ${stoppedEarly.toFixed(0)} s`;
    why = `${uac.failed} failed (${failureCounters(uac)})${early}`;
  }
  else if (completed < planned) why = `${planned - completed} of ${planned} not completed within ${Math.ceil(seconds + holdSeconds + 4)} s`;
  else if (uac.exitCode !== 0) why = `SIPp exited with ${uac.exitCode}`;
  else if (uac.elapsedMs / 1000 > seconds * 1.05 + holdSeconds + 2.5) why = `rate not kept: ${planned} ${flow.unit} took ${(uac.elapsedMs / 1000).toFixed(1)} s`;
  else if (options.strict && (uac.counters['Retransmissions'] ?? 0) > planned * 0.05) why = 'overloaded (SIPp retransmitted more than 5% as many messages as it placed calls)';

  let uasResult: Promise<SippResult> | undefined;
  if (uas !== undefined) {
    // The UAS ends by itself after its last call; after a failed trial some calls never reach it.
    uasResult = why === undefined ? uas.result : uas.stop(2000);
  }
  let uasFailed: number | undefined;
  if (uasResult !== undefined && (options.waitForUas || why !== undefined)) {
    const settled = await uasResult;
    uasFailed = settled.failed;
    if (why === undefined && settled.failed > 0) why = `${settled.failed} failed at the UAS (${failureCounters(settled)})`;
  }
  return {
    rate,
    seconds,
    planned,
    successful: uac.successful,
    failed: uac.failed,
    uasFailed,
    retransmissions: uac.counters['Retransmissions'] ?? 0,
    elapsedSeconds: uac.elapsedMs / 1000,
    held: why === undefined,
    why,
    serverCpu,
    machineBusy,
    udpDrops,
    serverRss,
    serverTransactions,
    sippCpu: { uac: uacCpu.seconds / wall, uas: uasCpu === undefined ? undefined : uasCpu.seconds / wall },
    rtt: uac.rtt,
    uas: uasResult,
  };
}

/** The CPU seconds a process has used, sampled until it exits or `stop()` (/proc forgets it at exit). */
class CpuSampler {
  seconds = 0;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(pid: number | undefined) {
    const sample = () => {
      const now = pid === undefined ? undefined : treeCpuSeconds(pid);
      if (now !== undefined) this.seconds = now;
    };
    sample();
    this.#timer = pid === undefined ? undefined : setInterval(sample, 250);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * The failure counters of a SIPp run and the first event of its error log that is about a call, for a
 * trial's `why`. SIPp logs a warning about open files against `ulimit -n` at start whenever the calls it
 * may hold exceed it (it uses one socket here, so it does not apply); that line explains nothing.
 */
function failureCounters(result: SippResult): string {
  const failures = Object.entries(result.counters).filter(([name]) => name.startsWith('Failed') && name !== 'FailedCall');
  const first = [...result.errors.matchAll(/^\S+\t\S+\t\S+: (.*)$/gm)].map((match) => match[1]!).find((line) => !line.startsWith('Maximum number of open sockets'));
  const counters = failures.map(([name, value]) => `${name.slice('Failed'.length)} ${value}`).join(', ') || 'no detail';
  return first === undefined ? counters : `${counters}; first: ${first.slice(0, 200)}`;
}

export interface SearchOptions {
  /** First rate tried. */
  start: number;
  /** Short trials, seconds. Default 5. */
  trialSeconds?: number;
  /** The confirming trial, seconds. Default 30. */
  finalSeconds?: number;
  /** Stop bisecting when the gap is below this share of the held rate. Default 0.06. */
  precision?: number;
  /** Never try above this rate. */
  maxRate?: number;
  onProgress?: (line: string) => void;
}

export interface SearchResult {
  /** The highest rate confirmed; 0 when none was. */
  rate: number;
  /** The confirming trial at `rate` (or the last failed one). */
  final: Trial;
  trials: Trial[];
}

/** Rounds a rate to 2–3 significant steps: 10s below 1,000, 50s below 5,000, 100s above. */
export function roundRate(rate: number): number {
  const step = rate < 200 ? 5 : rate < 1000 ? 10 : rate < 5000 ? 50 : 100;
  return Math.max(step, Math.round(rate / step) * step);
}

/** Finds the highest rate `server` holds for `flow`; the server is started and left running. */
export async function searchMaxRate(server: BenchServer, flow: CallFlow, options: SearchOptions): Promise<SearchResult> {
  const trialSeconds = options.trialSeconds ?? 5;
  const finalSeconds = options.finalSeconds ?? 30;
  const precision = options.precision ?? 0.06;
  const maxRate = options.maxRate ?? 50_000;
  const progress = options.onProgress ?? (() => {});
  const trials: Trial[] = [];
  const attempt = async (rate: number, seconds: number, confirm: boolean): Promise<Trial> => {
    const trial = await runTrial(server, flow, rate, seconds, { waitForUas: confirm, strict: !confirm });
    trials.push(trial);
    progress(`    ${describeTrial(trial, flow.unit)}`);
    // Short trials do not wait for the UAS; its failures, if any, are reported when it ends.
    if (!confirm) {
      void trial.uas?.then((uas) => {
        if (uas.failed > 0) progress(`    (the UAS of the ${rate}/s trial counted ${uas.failed} failed ${flow.unit}: ${failureCounters(uas)})`);
      });
    }
    if (!trial.held) {
      await server.stop();
      await server.start();
    } else {
      // Let retransmission and clean-up timers of the trial's last calls run before the next one.
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return trial;
  };

  let good = 0;
  let bad = Infinity;
  for (let rate = roundRate(options.start); bad === Infinity && rate <= maxRate; rate = roundRate(rate * 2)) {
    if ((await attempt(rate, trialSeconds, false)).held) good = rate;
    else bad = rate;
  }
  if (good === 0) {
    // Even the first rate failed: halve until one holds.
    for (let rate = roundRate(options.start / 2); good === 0 && rate >= 10; rate = roundRate(rate / 2)) {
      if ((await attempt(rate, trialSeconds, false)).held) good = rate;
      else bad = rate;
    }
  }
  while (good > 0 && bad !== Infinity && (bad - good) / good > precision) {
    const mid = roundRate((good + bad) / 2);
    if (mid === good || mid === bad) break;
    if ((await attempt(mid, trialSeconds, false)).held) good = mid;
    else bad = mid;
  }
  // A rate a short trial held can still fail over the long one (state that builds up over 64×T1,
  // a burst of load from elsewhere). Long trials: the short trials' rate; else 70% of it and, if
  // that holds, the midpoint between; else 45% of it and, if that holds, the midpoint between 45%
  // and 70%. Four long trials at most.
  if (good === 0) return { rate: 0, final: trials[trials.length - 1] as Trial, trials };
  let final = await attempt(good, finalSeconds, true);
  if (final.held) return { rate: good, final, trials };
  const lower = roundRate(good * 0.7);
  const atLower = await attempt(lower, finalSeconds, true);
  if (atLower.held) {
    const mid = roundRate((lower + good) / 2);
    if (mid !== lower && mid !== good) {
      final = await attempt(mid, finalSeconds, true);
      if (final.held) return { rate: mid, final, trials };
    }
    return { rate: lower, final: atLower, trials };
  }
  const lowest = roundRate(good * 0.45);
  const atLowest = await attempt(lowest, finalSeconds, true);
  if (!atLowest.held) return { rate: 0, final: atLowest, trials };
  const between = roundRate((lowest + lower) / 2);
  if (between !== lowest && between !== lower) {
    final = await attempt(between, finalSeconds, true);
    if (final.held) return { rate: between, final, trials };
  }
  return { rate: lowest, final: atLowest, trials };
}

/** One line for a trial: `1500/s × 5 s: held, 7500 calls, 0 retransmissions, Siplet 97% CPU, machine 100% busy`. */
export function describeTrial(trial: Trial, unit: string): string {
  const uas = trial.sippCpu.uas === undefined ? '' : ` + uas ${(trial.sippCpu.uas * 100).toFixed(0)}%`;
  const cpu = `${trial.serverCpu === undefined ? '' : `, server ${(trial.serverCpu * 100).toFixed(0)}% CPU`}, SIPp uac ${(trial.sippCpu.uac * 100).toFixed(0)}%${uas}`;
  const outcome = trial.held ? `held, ${trial.successful} ${unit}` : `not held: ${trial.why}`;
  const memory = trial.serverRss === undefined ? '' : `, server RSS ${(trial.serverRss / 2 ** 20).toFixed(0)} MiB`;
  const transactions = trial.serverTransactions === undefined ? '' : ` with ${trial.serverTransactions} live transactions`;
  return `${trial.rate}/s × ${trial.seconds} s: ${outcome}, ${trial.retransmissions} retransmissions, ${trial.udpDrops} datagrams dropped, ${trial.elapsedSeconds.toFixed(1)} s${cpu}, machine ${(trial.machineBusy * 100).toFixed(0)}% busy${memory}${transactions}`;
}
