/**
 * Preloaded into a benchmarked Siplet (`node --expose-gc --import <this module> bin/siplet.js start`)
 * so that a benchmark can read the server's memory after a full collection without an endpoint for
 * it: on SIGUSR2 the process collects garbage (four full collections) and writes
 * `process.memoryUsage()` with a sequence number, as JSON, to `$SIPLET_BENCH_MEMORY_FILE` (written to a
 * temporary name, then renamed, so a reader never sees half a file). `readMemory` is the other half.
 *
 * Hazard: a full collection of a large heap pauses the server for tens of milliseconds; take samples
 * while no load is running, or count the pause in.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { kill } from 'node:process';

export interface MemorySample {
  /** Increases by one per sample. */
  seq: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Whether a full collection ran first (`--expose-gc` was given). */
  collected: boolean;
}

export const MEMORY_FILE_ENV = 'SIPLET_BENCH_MEMORY_FILE';

const file = process.env[MEMORY_FILE_ENV];
if (file !== undefined && file !== '') {
  let seq = 0;
  process.on('SIGUSR2', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let i = 0; i < 4; i++) gc?.();
    const sample: MemorySample = { seq: ++seq, ...process.memoryUsage(), collected: gc !== undefined };
    writeFileSync(`${file}.tmp`, JSON.stringify(sample));
    renameSync(`${file}.tmp`, file);
  });
}

/** Signals the probed process `pid` and waits for its next sample in `file`. */
export async function readMemory(pid: number, memoryFile: string, timeoutMs = 20_000): Promise<MemorySample> {
  const previous = readSample(memoryFile)?.seq ?? 0;
  kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sample = readSample(memoryFile);
    if (sample !== undefined && sample.seq > previous) return sample;
    if (Date.now() > deadline) throw new Error(`memory probe: process ${pid} wrote no sample to ${memoryFile} within ${timeoutMs} ms (was it started with --import of memory-probe?)`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function readSample(path: string): MemorySample | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as MemorySample;
  } catch {
    return undefined;
  }
}
