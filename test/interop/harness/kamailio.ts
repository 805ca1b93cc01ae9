/** Moved to bench/harness/kamailio.ts, which the benchmarks share; interop tests keep importing it from here. */
export * from '../../../bench/harness/kamailio.js';
