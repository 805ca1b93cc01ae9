/** Moved to bench/harness/siplet-process.ts, which the benchmarks share; interop tests keep importing it from here. */
export * from '../../../bench/harness/siplet-process.js';
