/**
 * Reads a V8 CPU profile (`node --cpu-prof`, a `.cpuprofile` JSON file) and says where the time went:
 * self time per function, and per area (Siplet's layers by source folder, Node's internals, the
 * garbage collector, idle time). Self time is the time a function was on top of the stack, summed
 * from the profile's sample intervals.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  name: string;
  /** Milliseconds. */
  selfMs: number;
  /** Share of the profiled time, idle included, 0..1. */
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of the profiled time the process was idle (waiting for I/O). */
  idleShare: number;
  /** Share spent in garbage collection. */
  gcShare: number;
  functions: ProfileEntry[];
  areas: ProfileEntry[];
}

/**
 * The main thread's `.cpuprofile` in `dir`. Node writes one per thread at exit, and module
 * customization hooks (Siplet's deploy layer registers one) run on a thread of their own: the main
 * thread's is the largest file.
 */
export function findProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => ({ path: join(dir, name), size: statSync(join(dir, name)).size }));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}: did the process exit cleanly with --cpu-prof?`);
  return files.sort((a, b) => b.size - a.size)[0]!.path;
}

/** Summarises the profile at `path`; `root` is the repository root, to name files relative to it. */
export function summariseProfile(path: string, root: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const selfById = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the interval after a sample to it instead.
    const delta = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const id = profile.samples[i] as number;
    selfById.set(id, (selfById.get(id) ?? 0) + delta);
    total += delta;
  }
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  for (const [id, ms] of selfById) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const file = displayFile(frame.url, root);
    const fn = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    const name = file === '' ? fn : `${fn} ${file}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const area = areaOf(frame.functionName, file);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    if (frame.functionName === '(idle)') idle += ms;
    if (frame.functionName === '(garbage collector)') gc += ms;
  }
  const entries = (map: Map<string, number>, count: number): ProfileEntry[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, selfMs]) => ({ name, selfMs, share: total > 0 ? selfMs / total : 0 }));
  return { totalMs: total, idleShare: total > 0 ? idle / total : 0, gcShare: total > 0 ? gc / total : 0, functions: entries(functions, top), areas: entries(areas, top) };
}

function displayFile(url: string, root: string): string {
  if (url === '') return '';
  if (url.startsWith('file://')) {
    const path = relative(root, fileURLToPath(url)).split(sep).join('/');
    return path.startsWith('dist/') ? path.slice('dist/'.length) : path;
  }
  return url;
}

/** Siplet's files by folder two levels deep (`src/sip/transaction`), Node's by module, the rest as V8 names them. */
function areaOf(functionName: string, file: string): string {
  if (file === '') return functionName === '' ? '(native)' : functionName.startsWith('(') ? functionName : '(native)';
  if (file.startsWith('node:')) return `node: ${file.slice('node:'.length).replace(/^internal\//, '').split('/')[0]}`;
  if (file.includes('node_modules/')) return `node_modules/${file.split('node_modules/')[1]?.split('/')[0] ?? ''}`;
  const parts = file.split('/');
  if (parts[0] === 'src' || parts[0] === 'sdk') return parts.length > 3 ? parts.slice(0, 3).join('/') : parts.slice(0, -1).join('/') || parts[0];
  return parts.slice(0, -1).join('/') || file;
}
