/**
 * What Linux's /proc says about processes and the machine, for benchmarks: CPU time of a process
 * and its descendants (Kamailio forks its workers), resident memory, the machine's busy share over
 * an interval and its load average. Linux only; elsewhere the readers return undefined.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux this runs on. */
const TICKS = 100;

/** User + system CPU seconds of `pid` and every live descendant; undefined when `pid` is gone. */
export function treeCpuSeconds(pid: number): number | undefined {
  const stats = allStats();
  if (!stats.has(pid)) return undefined;
  const children = new Map<number, number[]>();
  for (const [child, stat] of stats) {
    const list = children.get(stat.ppid);
    if (list) list.push(child);
    else children.set(stat.ppid, [child]);
  }
  let ticks = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.pop() as number;
    const stat = stats.get(next);
    if (stat) ticks += stat.ticks;
    queue.push(...(children.get(next) ?? []));
  }
  return ticks / TICKS;
}

/** Resident set size of `pid` in bytes (VmRSS). */
export function rssBytes(pid: number): number | undefined {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(read(`/proc/${pid}/status`));
  return match ? Number(match[1]) * 1024 : undefined;
}

/** Cumulative CPU jiffies of the whole machine: pass two snapshots to `busyShare`. */
export interface MachineCpu {
  busy: number;
  total: number;
}

export function machineCpu(): MachineCpu {
  const line = read('/proc/stat').split('\n')[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + (Number.isFinite(value) ? value : 0), 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** Share of all cores busy between two snapshots, 0..1. */
export function busyShare(before: MachineCpu, after: MachineCpu): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}

/**
 * Datagrams the kernel dropped because a UDP socket's receive buffer was full (`RcvbufErrors` of
 * /proc/net/snmp, IPv4 and IPv6): a receiver that stalls (a long GC pause, a busy CPU) loses packets,
 * which then cost retransmissions. Machine-wide: whatever else runs counts too.
 */
export function udpReceiveBufferErrors(): number {
  let total = 0;
  for (const path of ['/proc/net/snmp', '/proc/net/snmp6']) {
    const text = read(path);
    if (path.endsWith('6')) {
      const match = /^Udp6RcvbufErrors\s+(\d+)/m.exec(text);
      if (match) total += Number(match[1]);
      continue;
    }
    const lines = text.split('\n').filter((line) => line.startsWith('Udp:'));
    const names = (lines[0] ?? '').split(/\s+/);
    const values = (lines[1] ?? '').split(/\s+/);
    const index = names.indexOf('RcvbufErrors');
    if (index > 0) total += Number(values[index] ?? 0);
  }
  return total;
}

/** The 1, 5 and 15 minute load averages. */
export function loadAverage(): [number, number, number] {
  const [a, b, c] = read('/proc/loadavg').split(' ').map(Number);
  return [a ?? NaN, b ?? NaN, c ?? NaN];
}

interface Stat {
  ppid: number;
  ticks: number;
}

function allStats(): Map<number, Stat> {
  const stats = new Map<number, Stat>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return stats;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const text = read(`/proc/${entry}/stat`);
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (fields.length < 13) continue;
    stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
  }
  return stats;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
