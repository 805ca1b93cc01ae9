import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, parse, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { ZipArchive } from 'archiver';
import { checkDescriptor } from '../server.js';
import { SipletError } from '../util/index.js';

export interface PackOptions {
  /** The app folder: TypeScript sources (compiled first) or compiled JavaScript (packed as is). */
  folder: string;
  /** The archive to write. Default: `<name>.sar` in `cwd`. */
  output?: string;
  /** Default: `process.cwd()`. */
  cwd?: string;
  /** Siplet's own package folder (its tsconfig.base.json, typescript, sdk types). Default: found from this file. */
  packageRoot?: string;
}

export interface PackResult {
  /** The archive written (absolute path). */
  readonly archive: string;
  readonly name: string;
  readonly version: string | undefined;
  /** Whether TypeScript was compiled. */
  readonly compiled: boolean;
  /** The archive's entries (files), sorted. */
  readonly entries: readonly string[];
}

/** Files of the app folder never packed: sources, build settings, hidden files, other archives. */
const LEFT_OUT = (name: string): boolean =>
  name.startsWith('.') || name.endsWith('.sar') || /^tsconfig.*\.json$/.test(name) || (/\.(m|c)?ts$/.test(name) && !/\.d\.(m|c)?ts$/.test(name));

/**
 * `siplet pack`: builds a `.sar` archive from an app folder. A folder with TypeScript sources is
 * compiled first, with this package's `tsc` and a generated tsconfig that extends Siplet's own
 * settings (experimentalDecorators, emitDecoratorMetadata, ESM NodeNext) and resolves `siplet` and
 * `siplet/sdk` to this server's types; a folder of JavaScript is packed as it is. The archive holds
 * the JavaScript, siplet.json (required, with "name"), config.json and package.json if present,
 * and node_modules/ (the app's own dependencies; `siplet` itself left out), symbolic links
 * replaced by the files they point to.
 *
 * Throws `SIPLET_PACK_FAILED` with what to fix (the compiler's messages included).
 */
export async function packApp(options: PackOptions): Promise<PackResult> {
  const folder = resolve(options.cwd ?? process.cwd(), options.folder);
  const fail = (message: string, cause?: unknown): never => {
    throw new SipletError('SIPLET_PACK_FAILED', `Cannot pack ${folder}: ${message}`, { cause });
  };
  if (!(await stat(folder).catch(() => undefined))?.isDirectory()) fail('it is not a folder. Give the path of the app folder.');

  let descriptor: Record<string, unknown> | undefined;
  try {
    descriptor = JSON.parse(await readFile(join(folder, 'siplet.json'), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    fail(
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'it has no siplet.json. Add one with at least { "name": "<app name>" }.'
        : `its siplet.json is not valid JSON (${(err as Error).message}).`,
      err,
    );
  }
  const problems = checkDescriptor(descriptor);
  if (problems.length > 0) fail(`its siplet.json is invalid:${problems.map((p) => `\n  - ${p}`).join('')}`);
  const name = descriptor?.['name'];
  if (typeof name !== 'string') return fail('its siplet.json has no "name"; an archive must name its application.');
  const version = typeof descriptor?.['version'] === 'string' ? (descriptor['version'] as string) : undefined;

  const sources = (await walk(folder, (rel) => !rel.split(sep).includes('node_modules'))).filter((rel) => /\.(m|c)?ts$/.test(rel) && !/\.d\.(m|c)?ts$/.test(rel));
  const root = options.packageRoot ?? packageRoot();
  const staging = await mkdtemp(join(tmpdir(), 'siplet-pack-'));
  try {
    const app = join(staging, 'app');
    await mkdir(app);
    // Everything but sources, then the compiled JavaScript over it.
    await cp(folder, app, {
      recursive: true,
      dereference: true,
      filter: (source) => {
        const rel = relative(folder, source);
        if (rel === '') return true;
        const parts = rel.split(sep);
        if (parts[0] === 'node_modules' && (parts[1] === 'siplet' || parts[1] === '.bin')) return false;
        return parts[0] === 'node_modules' ? true : !LEFT_OUT(parse(source).base);
      },
    });
    if (sources.length > 0) await compile(folder, app, staging, root, fail);

    const pkgPath = join(app, 'package.json');
    let main = 'index.js';
    const pkg = existsSync(pkgPath) ? (JSON.parse(await readFile(pkgPath, 'utf8')) as Record<string, unknown>) : undefined;
    if (typeof pkg?.['main'] === 'string') main = pkg['main'].replace(/\.(m|c)?ts$/, (ext) => ext.replace('ts', 'js'));
    // Compiled TypeScript is ES modules (NodeNext): say so, so that Node loads it as such.
    if (sources.length > 0 || (pkg !== undefined && main !== pkg['main'])) {
      await writeFile(pkgPath, JSON.stringify({ ...pkg, ...(pkg?.['main'] !== undefined && { main }), ...(sources.length > 0 && { type: 'module' }) }, null, 2) + '\n');
    }
    if (!existsSync(join(app, main))) {
      fail(sources.length > 0 ? `the build produced no ${main}. Name the entry index.ts, or set package.json "main".` : `it has no entry module ${main}. Build the app, or name its entry in package.json "main".`);
    }

    const output = resolve(options.cwd ?? process.cwd(), options.output ?? `${name}.sar`);
    await mkdir(dirname(output), { recursive: true });
    const entries = (await walk(app, () => true)).map((rel) => rel.split(sep).join('/')).sort();
    const zip = new ZipArchive({ zlib: { level: 9 } });
    const written = pipeline(zip, createWriteStream(output));
    for (const rel of entries) zip.file(join(app, rel), { name: rel, mode: 0o644 });
    await zip.finalize();
    await written;
    return { archive: output, name, version, compiled: sources.length > 0, entries };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Compiles the app's TypeScript into `app` (the staging copy), mirroring the folder layout. */
async function compile(folder: string, app: string, staging: string, root: string, fail: (message: string, cause?: unknown) => never): Promise<void> {
  const tsc = typescriptCompiler(root);
  if (tsc === undefined) fail('the TypeScript compiler (the typescript package) is not installed next to Siplet. Run "npm install typescript", or compile the app yourself and pack the JavaScript.');
  const sdkSources = join(root, 'sdk', 'index.ts');
  const fromSources = existsSync(sdkSources);
  const types = fromSources
    ? { siplet: join(root, 'src', 'index.ts'), sdk: sdkSources, testing: join(root, 'sdk', 'testing', 'index.ts') }
    : { siplet: join(root, 'dist', 'src', 'index.d.ts'), sdk: join(root, 'dist', 'sdk', 'index.d.ts'), testing: join(root, 'dist', 'sdk', 'testing', 'index.d.ts') };
  // The sources are compiled from a copy whose package.json says "type": "module" (NodeNext compiles
  // a file as CommonJS otherwise); the app's node_modules is linked in for its dependencies' types.
  const sources = join(staging, 'src');
  await cp(folder, sources, {
    recursive: true,
    filter: (path) => {
      const rel = relative(folder, path);
      return rel === '' || (rel.split(sep)[0] !== 'node_modules' && !parse(path).base.startsWith('.') && !path.endsWith('.sar'));
    },
  });
  if (existsSync(join(folder, 'node_modules'))) await symlink(join(folder, 'node_modules'), join(sources, 'node_modules'), 'dir');
  const pkgPath = join(sources, 'package.json');
  const pkg = existsSync(pkgPath) ? (JSON.parse(await readFile(pkgPath, 'utf8')) as Record<string, unknown>) : {};
  await writeFile(pkgPath, JSON.stringify({ ...pkg, type: 'module' }));
  // Siplet's own sources (a development checkout) are compiled along; the app's output is picked from under the common root.
  const rootDir = fromSources ? commonAncestor(sources, root) : sources;
  const out = join(staging, 'out');
  const base = join(root, 'tsconfig.base.json');
  const config = {
    ...(existsSync(base) && { extends: base }),
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      useDefineForClassFields: false,
      esModuleInterop: true,
      skipLibCheck: true,
      resolveJsonModule: true,
      noUnusedLocals: false,
      noUnusedParameters: false,
      declaration: false,
      sourceMap: false,
      noEmit: false,
      rootDir,
      outDir: out,
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types'), join(sources, 'node_modules', '@types')],
      paths: { siplet: [types.siplet], 'siplet/sdk': [types.sdk], 'siplet/sdk/testing': [types.testing] },
    },
    include: [join(sources, '**', '*.ts'), join(sources, '**', '*.mts')],
    exclude: [join(sources, 'node_modules'), join(sources, '**', '*.d.ts')],
  };
  const configPath = join(staging, 'tsconfig.json');
  await writeFile(configPath, JSON.stringify(config, null, 2));
  // Run from the sources, so that messages name the app's files as the developer knows them.
  const { code, output } = await run(process.execPath, [tsc, '-p', configPath, '--pretty', 'false'], sources);
  if (code !== 0) fail(`TypeScript reported errors (fix them and pack again):\n${output.trim()}`);
  const built = join(out, relative(rootDir, sources));
  if (!existsSync(built)) fail('the TypeScript build produced no output.');
  await cp(built, app, { recursive: true });
}

/** `tsc` of the typescript package Siplet resolves (its own node_modules, or a hoisted one). */
function typescriptCompiler(root: string): string | undefined {
  try {
    const pkg = createRequire(join(root, 'package.json')).resolve('typescript/package.json');
    const tsc = join(dirname(pkg), 'bin', 'tsc');
    return existsSync(tsc) ? tsc : undefined;
  } catch {
    return undefined;
  }
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code: code ?? 1, output }));
  });
}

/** Relative paths of the files under `dir`, where `keep(relative path)` allows descending. */
async function walk(dir: string, keep: (rel: string) => boolean, base = dir): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const rel = relative(base, path);
    if (!keep(rel)) continue;
    if (entry.isDirectory()) found.push(...(await walk(path, keep, base)));
    else if (entry.isFile() || entry.isSymbolicLink()) found.push(rel);
  }
  return found;
}

function commonAncestor(a: string, b: string): string {
  const pa = resolve(a).split(sep);
  const pb = resolve(b).split(sep);
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  return pa.slice(0, i).join(sep) || sep;
}

/** Siplet's package folder, found by walking up from this file (src/cli under vitest, dist/src/cli once built). */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const parsed = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown };
        if (parsed.name === 'siplet') return dir;
      } catch {
        // Not ours: keep walking up.
      }
    }
    if (dirname(dir) === dir) return resolve(from, '..', '..');
  }
}
