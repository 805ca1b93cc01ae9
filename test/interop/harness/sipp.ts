/** Moved to bench/harness/sipp.ts, which the benchmarks share; interop tests keep importing it from here. */
export * from '../../../bench/harness/sipp.js';
