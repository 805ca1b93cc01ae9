import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import yauzl from 'yauzl';
import { afterEach, describe, expect, it } from 'vitest';
import { packApp } from '../../../src/cli/pack.js';
import { inspectArchive } from '../../../src/container/index.js';
import { SipletError } from '../../../src/util/index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function folder(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'siplet-pack-test-'));
  dirs.push(root);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), text);
  }
  return root;
}

/** The archive's entries and their contents, read back with yauzl. */
async function readZip(path: string): Promise<Map<string, string>> {
  const zip = await yauzl.openPromise(path);
  const files = new Map<string, string>();
  for await (const entry of zip.eachEntry()) {
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
    files.set(entry.fileName, Buffer.concat(chunks).toString('utf8'));
  }
  zip.close();
  return files;
}

const TS_APP = {
  'index.ts': `import { APP_CONFIG, inject, SipApplication, SipServlet, type AppConfig, type SipServletRequest } from 'siplet/sdk';
import { greeting } from './lib/greeting.js';

@SipApplication({ name: 'ts-app' })
@SipServlet({ name: 'main' })
export class Main extends SipServlet {
  constructor(@inject(APP_CONFIG) private readonly config: AppConfig) {
    super();
  }
  override async doInvite(req: SipServletRequest): Promise<void> {
    await req.createResponse(200, greeting(this.config.get('who', 'world'))).send();
  }
}
`,
  'lib/greeting.ts': `export function greeting(who: string): string {\n  return 'Hello ' + who;\n}\n`,
  'siplet.json': JSON.stringify({ name: 'ts-app', version: '1.0.0' }),
  'config.json': JSON.stringify({ who: 'Alice' }),
  'package.json': JSON.stringify({ name: 'ts-app', version: '1.0.0', type: 'module', main: 'index.ts' }),
  'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true } }),
  'node_modules/dep/package.json': JSON.stringify({ name: 'dep', main: 'index.js' }),
  'node_modules/dep/index.js': 'module.exports = 42;\n',
};

describe('siplet pack', () => {
  it('compiles a TypeScript app with decorator metadata and packs it', async () => {
    const app = await folder(TS_APP);
    await symlink(join(app, 'node_modules', 'dep'), join(app, 'node_modules', 'dep-link'));
    const out = join(app, 'out', 'ts-app.sar');
    const result = await packApp({ folder: app, output: out });
    expect(result).toMatchObject({ archive: out, name: 'ts-app', version: '1.0.0', compiled: true });
    const files = await readZip(out);
    expect([...files.keys()].sort()).toEqual([
      'config.json',
      'index.js',
      'lib/greeting.js',
      'node_modules/dep-link/index.js',
      'node_modules/dep-link/package.json',
      'node_modules/dep/index.js',
      'node_modules/dep/package.json',
      'package.json',
      'siplet.json',
    ]);
    const index = files.get('index.js')!;
    expect(index).toContain("from 'siplet/sdk'");
    expect(index).toContain('__metadata("design:paramtypes"');
    expect(index).toContain('__decorate(');
    expect(JSON.parse(files.get('package.json')!).main).toBe('index.js');
    // What the deployer checks passes.
    const inspected = await inspectArchive(out);
    expect(inspected.ok && inspected.archive.name).toBe('ts-app');
  }, 120_000);

  it('compiles sources without a package.json as ES modules, and says so in the archive', async () => {
    const app = await folder({
      'siplet.json': JSON.stringify({ name: 'bare' }),
      'index.ts': "import { SipApplication, SipServlet } from 'siplet/sdk';\n@SipApplication({ name: 'bare' })\n@SipServlet()\nexport class Bare extends SipServlet {}\n",
    });
    const result = await packApp({ folder: app, output: join(app, 'bare.sar') });
    const files = await readZip(result.archive);
    expect([...files.keys()].sort()).toEqual(['index.js', 'package.json', 'siplet.json']);
    expect(JSON.parse(files.get('package.json')!)).toEqual({ type: 'module' });
    expect(files.get('index.js')).toContain('export { Bare }');
  }, 120_000);

  it('packs a folder of JavaScript as it is, next to the current directory by default', async () => {
    const app = await folder({ 'siplet.json': JSON.stringify({ name: 'js-app' }), 'index.js': 'export {};\n', 'lib/x.js': 'export const x = 1;\n', '.env': 'SECRET=1' });
    const cwd = await folder({});
    const result = await packApp({ folder: app, cwd });
    expect(result).toMatchObject({ archive: join(cwd, 'js-app.sar'), compiled: false });
    expect([...(await readZip(result.archive)).keys()].sort()).toEqual(['index.js', 'lib/x.js', 'siplet.json']);
  });

  it('refuses a folder without siplet.json, an invalid one, or no entry module', async () => {
    const failure = async (files: Record<string, string>): Promise<string> => {
      const error = await packApp({ folder: await folder(files) }).catch((e: unknown) => e);
      expect(SipletError.is(error, 'SIPLET_PACK_FAILED')).toBe(true);
      return (error as Error).message;
    };
    expect(await failure({ 'index.js': '' })).toMatch(/it has no siplet\.json\. Add one with at least \{ "name": "<app name>" \}/);
    expect(await failure({ 'siplet.json': '{"name": 5}', 'index.js': '' })).toMatch(/its siplet\.json is invalid:\n {2}- siplet\.json "name" must be a string/);
    expect(await failure({ 'siplet.json': '{"version": "1"}', 'index.js': '' })).toMatch(/has no "name"/);
    expect(await failure({ 'siplet.json': '{"name": "x"}', 'main.js': '' })).toMatch(/it has no entry module index\.js/);
  });

  it('reports TypeScript errors with the compiler\'s messages', async () => {
    const app = await folder({ 'siplet.json': '{"name":"bad"}', 'index.ts': 'const n: number = "not a number";\nexport { n };\n' });
    const error = await packApp({ folder: app, output: join(app, 'bad.sar') }).catch((e: unknown) => e);
    expect(SipletError.is(error, 'SIPLET_PACK_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/TypeScript reported errors[\s\S]*index\.ts[\s\S]*TS2322/);
    await expect(readFile(join(app, 'bad.sar'))).rejects.toThrow();
  }, 120_000);
});
