import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ZipArchive } from 'archiver';
import { createTestSiplet } from '../sdk/testing/index.js';
import { Deployer } from '../src/container/index.js';
import { silentLogger } from '../src/util/index.js';

/**
 * Memory left behind by deploying and undeploying an application: the call-screening sample,
 * packed as a .sar, deployed through the Deployer on an in-memory Siplet and undeployed again,
 * `iterations` times; the heap is measured after a full GC before the loop (after one warm-up
 * cycle) and after it.
 *
 * Two cases: the same archive every time (what a redeploy loop of one build does; the deployer
 * reuses the extraction folder and module instances of an archive it has seen, by content hash),
 * and a different archive every time (each a new build: ESM cannot unload a module graph, so
 * each distinct version's code stays in memory for the life of the process).
 *
 * Must run from the build (`npm run bench`): the sample's `import … from 'siplet/sdk'` resolves
 * to dist/sdk through the deploy layer's module hook.
 */
export interface DeployMemoryBenchOptions {
  /** Deploy/undeploy cycles per case. Default 200. */
  iterations?: number;
  /** Which cases to run. Default both. */
  cases?: readonly DeployMemoryCase[];
  onProgress?: (line: string) => void;
}

export type DeployMemoryCase = 'same archive' | 'distinct archives';

export interface DeployMemoryResult {
  case: DeployMemoryCase;
  iterations: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  growthBytes: number;
  msPerCycle: number;
}

const here = dirname(fileURLToPath(import.meta.url));

/** A full GC, available without --expose-gc. */
function collector(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing !== undefined) return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function heapAfterGc(gc: () => void): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

async function zip(files: Record<string, string | Buffer>): Promise<Buffer> {
  const archive = new ZipArchive({ zlib: { level: 6 } });
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const finished = new Promise<void>((resolve, reject) => {
    sink.on('finish', resolve);
    archive.on('error', reject);
  });
  archive.pipe(sink);
  for (const [name, content] of Object.entries(files)) archive.append(typeof content === 'string' ? Buffer.from(content) : content, { name, mode: 0o644 });
  await archive.finalize();
  await finished;
  return Buffer.concat(chunks);
}

/** The call-screening sample as `siplet pack` would pack it (from dist/samples). */
async function callScreeningFiles(): Promise<Record<string, string>> {
  const built = join(here, '..', 'samples', 'call-screening', 'index.js');
  if (!existsSync(built)) throw new Error(`${built} is missing: run the benchmark from the build (npm run bench)`);
  const config = join(here, '..', '..', 'samples', 'call-screening', 'config.json');
  return {
    'index.js': await readFile(built, 'utf8'),
    'siplet.json': JSON.stringify({ name: 'call-screening', version: '1.0.0' }),
    'config.json': existsSync(config) ? await readFile(config, 'utf8') : '{"blocked":[]}',
  };
}

export async function runDeployMemoryBench(options: DeployMemoryBenchOptions = {}): Promise<DeployMemoryResult[]> {
  const iterations = options.iterations ?? 200;
  const progress = options.onProgress ?? (() => undefined);
  const gc = collector();
  const files = await callScreeningFiles();
  const results: DeployMemoryResult[] = [];
  for (const name of options.cases ?? (['same archive', 'distinct archives'] as const)) {
    const root = await mkdtemp(join(tmpdir(), 'siplet-bench-deploy-'));
    const siplet = await createTestSiplet({ logger: silentLogger() });
    const deployer = new Deployer({ container: siplet.container, deployDir: join(root, 'apps'), dataDir: join(root, 'data'), logger: silentLogger(), watch: false });
    await deployer.start();
    const same = await zip(files);
    const archiveFor = async (i: number): Promise<Buffer> =>
      name === 'same archive' ? same : zip({ ...files, 'index.js': `${files['index.js']}\n// build ${i}\n` });
    const cycle = async (i: number): Promise<void> => {
      await deployer.deployArchive(await archiveFor(i), { label: `call-screening-${i}.sar` });
      await (await deployer.undeploy('call-screening', { force: true })).finished;
    };
    await cycle(-1);
    const before = await heapAfterGc(gc);
    const started = performance.now();
    for (let i = 0; i < iterations; i++) {
      await cycle(i);
      if ((i + 1) % 50 === 0) progress(`  ${name}: ${i + 1}/${iterations} cycles, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB`);
    }
    const elapsed = performance.now() - started;
    const after = await heapAfterGc(gc);
    await deployer.close();
    await siplet.close();
    await rm(root, { recursive: true, force: true });
    results.push({ case: name, iterations, heapBeforeBytes: before, heapAfterBytes: after, growthBytes: after - before, msPerCycle: elapsed / iterations });
  }
  return results;
}

export function formatDeployMemoryResult(r: DeployMemoryResult): string {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  return (
    `deploy-memory  ${r.case.padEnd(17)} ${r.iterations} deploy/undeploy cycles: heap ${mib(r.heapBeforeBytes)} → ${mib(r.heapAfterBytes)} after GC, ` +
    `growth ${mib(r.growthBytes)} (${(r.growthBytes / r.iterations / 1024).toFixed(1)} KiB per cycle), ${r.msPerCycle.toFixed(1)} ms per cycle`
  );
}
