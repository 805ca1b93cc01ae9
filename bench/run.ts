import { cpus, totalmem } from 'node:os';
import { formatCalls, runCallsBench, type CallsPart } from './calls.bench.js';
import { formatCallsMemory, runCallsMemoryBench } from './calls-memory.bench.js';
import { formatDeployMemoryResult, runDeployMemoryBench } from './deploy-memory.bench.js';
import { formatParserResult, runParserBench } from './parser.bench.js';

/**
 * `npm run bench` (builds, then runs dist/bench/run.js). Runs every suite, or
 * the ones named on the command line (`npm run bench -- parser`), printing
 * progress first and each suite's summary lines last.
 */

interface Suite {
  /** Runs the suite; returns the summary lines printed at the end of the run. */
  run(progress: (line: string) => void): Promise<string[]>;
  /** Part of a larger suite: run only when named. */
  partOf?: string;
}

/** A part of the `calls` suite, to rerun one measurement (Kamailio comes along where a ratio needs it). */
function callsSuite(parts: readonly CallsPart[]): Suite {
  return {
    partOf: 'calls',
    async run(progress) {
      return formatCalls(await runCallsBench({ parts, onProgress: progress }));
    },
  };
}

const suites: Record<string, Suite> = {
  'calls-memory': {
    async run(progress) {
      return formatCallsMemory(await runCallsMemoryBench({ onProgress: progress }));
    },
  },
  parser: {
    async run(progress) {
      const { results, checksum } = runParserBench({ onProgress: progress });
      progress(`  (checksum ${checksum})`);
      return results.map(formatParserResult);
    },
  },
  'deploy-memory': {
    async run(progress) {
      const results = await runDeployMemoryBench({ onProgress: progress });
      return results.map(formatDeployMemoryResult);
    },
  },
  // SIPp, Kamailio and Siplet as processes: about 10 minutes (docs/benchmarks.md, Calls).
  calls: {
    async run(progress) {
      return formatCalls(await runCallsBench({ onProgress: progress }));
    },
  },
  'calls-proxy': callsSuite(['proxy', 'profile', 'latency']),
  'calls-b2bua': callsSuite(['b2bua', 'memory']),
  'calls-register': callsSuite(['register']),
};

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((name) => !(name in suites));
  if (unknown.length > 0) {
    console.error(`Unknown benchmark ${unknown.join(', ')}; choose from: ${Object.keys(suites).join(', ')}`);
    return 2;
  }
  const names = argv.length > 0 ? argv : Object.keys(suites).filter((name) => suites[name]!.partOf === undefined);
  const cpu = cpus();
  console.log(
    `Node ${process.version} on ${process.platform}/${process.arch}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB`,
  );
  const summary: string[] = [];
  for (const name of names) {
    const started = performance.now();
    console.log(`${name}:`);
    summary.push(...(await suites[name]!.run((line) => console.log(line))));
    console.log(`  ${name} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  console.log('');
  for (const line of summary) console.log(line);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
