/**
 * Broken and malicious archives are refused with SIPLET_DEPLOY_FAILED, and the version already
 * running keeps serving: every case ends with a call answered by v1.
 *
 *   alice                 Siplet: versioned v1            deployer
 *     |                          |  <── deployArchive(broken) ── refused (message names the archive and the fix)
 *     | INVITE ----------------> |
 *     | <------- 200 (X-Version: v1)
 *     | ACK -------------------> |
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScriptedUa } from 'siplet/sdk/testing';
import { SipletError } from '../../../src/util/index.js';
import { buildArchive, handMadeZip } from '../../support/archives.js';
import { deployHarness, inviteStatus, versionedApp, versionedArchive, type DeployHarness } from './deploy-fixtures.js';

const LIMITS = { maxArchiveBytes: 1024 * 1024, maxTotalBytes: 256 * 1024, maxEntryBytes: 64 * 1024, maxEntries: 50 };
const DESCRIPTOR = JSON.stringify({ name: 'versioned', version: 'v2', mainServlet: 'main' });

let h: DeployHarness;
let alice: ScriptedUa;

beforeAll(async () => {
  h = await deployHarness({ limits: LIMITS });
  await h.deployer.deployArchive(await versionedArchive('v1'), { label: 'v1.sar' });
  alice = await h.siplet.ua('alice');
  expect(await inviteStatus(alice)).toEqual({ status: 200, version: 'v1' });
}, 20_000);

afterAll(async () => {
  await h?.close();
});

const cases: { name: string; archive: () => Promise<Buffer> | Buffer; message: RegExp }[] = [
  { name: 'not a zip', archive: () => Buffer.from('this is not a zip file, honest'), message: /it is not a zip archive .*siplet pack/ },
  {
    name: 'zip slip (../)',
    archive: () => handMadeZip([{ name: 'siplet.json', data: DESCRIPTOR }, { name: 'index.js', data: versionedApp('v2') }, { name: '../escaped.js', data: 'x' }]),
    message: /climbs out of the archive with '\.\.' \(zip slip/,
  },
  {
    name: 'zip slip inside a path (lib/../../x)',
    archive: () => handMadeZip([{ name: 'siplet.json', data: DESCRIPTOR }, { name: 'index.js', data: versionedApp('v2') }, { name: 'lib/../../escaped.js', data: 'x' }]),
    message: /zip slip/,
  },
  {
    name: 'absolute path',
    archive: () => handMadeZip([{ name: 'siplet.json', data: DESCRIPTOR }, { name: 'index.js', data: versionedApp('v2') }, { name: '/tmp/siplet-evil.js', data: 'x' }]),
    message: /absolute path/,
  },
  {
    name: 'symbolic link entry',
    archive: () => handMadeZip([{ name: 'siplet.json', data: DESCRIPTOR }, { name: 'index.js', data: versionedApp('v2') }, { name: 'passwd.js', data: '/etc/passwd', mode: 0o120777 }]),
    message: /entry "passwd\.js" is a symbolic link/,
  },
  {
    name: 'an entry too large',
    archive: () => buildArchive({ 'siplet.json': DESCRIPTOR, 'index.js': versionedApp('v2'), 'big.bin': Buffer.alloc(100 * 1024, 7) }),
    message: /entry "big\.bin" holds 102400 bytes, more than the limit of 65536; .*--archive-max-entry-size/,
  },
  {
    name: 'too many entries',
    archive: () => buildArchive(Object.fromEntries([['siplet.json', DESCRIPTOR], ['index.js', versionedApp('v2')], ...Array.from({ length: 60 }, (_, i) => [`f${i}.js`, '//'])])),
    message: /it has 62 entries, more than the limit of 50/,
  },
  {
    name: 'zip bomb (5 MB of zeros in a few KB, sizes declared)',
    archive: () => handMadeZip([{ name: 'siplet.json', data: DESCRIPTOR }, { name: 'index.js', data: versionedApp('v2') }, ...[1, 2, 3, 4, 5].map((i) => ({ name: `zeros${i}.bin`, data: Buffer.alloc(60 * 1024), deflate: true }))]),
    message: /its entries uncompressed holds \d+ bytes, more than the limit of 262144.*zip bomb/,
  },
  {
    name: 'zip bomb lying about its size',
    archive: () => handMadeZip([{ name: 'siplet.json', data: DESCRIPTOR }, { name: 'index.js', data: versionedApp('v2') }, { name: 'liar.bin', data: Buffer.alloc(5 * 1024 * 1024), deflate: true, declaredSize: 10 }]),
    message: /Cannot deploy archive liar\.sar: .*(too many bytes|more than the limit)/,
  },
  {
    name: 'no descriptor',
    archive: () => buildArchive({ 'index.js': versionedApp('v2') }),
    message: /it has no descriptor: siplet\.json is missing at the root of the archive/,
  },
  {
    name: 'no entry module',
    archive: () => buildArchive({ 'siplet.json': DESCRIPTOR, 'lib/app.js': versionedApp('v2') }),
    message: /it has no entry module: index\.js is missing/,
  },
  {
    name: 'package.json main naming a missing file',
    archive: () => buildArchive({ 'siplet.json': DESCRIPTOR, 'package.json': JSON.stringify({ main: 'dist/main.js' }), 'index.js': versionedApp('v2') }),
    message: /package\.json "main" names dist\/main\.js, which is not in the archive/,
  },
  {
    name: 'an invalid descriptor',
    archive: () => buildArchive({ 'siplet.json': JSON.stringify({ name: 'versioned', sessionTimeout: 'soon' }), 'index.js': versionedApp('v2') }),
    message: /its siplet\.json is invalid:\n {2}- siplet\.json "sessionTimeout" must be a number, not "soon"/,
  },
  {
    name: 'a module that throws on load',
    archive: () => buildArchive({ 'siplet.json': DESCRIPTOR, 'index.js': `${versionedApp('v2')}\nthrow new Error('boom at load');` }),
    message: /its entry module index\.js threw while loading: boom at load/,
  },
  {
    name: 'a servlet class it names is missing',
    archive: () => buildArchive({ 'siplet.json': JSON.stringify({ name: 'versioned', mainServlet: 'main', servlets: [{ name: 'main', className: 'Missing' }] }), 'index.js': versionedApp('v2') }),
    message: /className 'Missing' is not exported by the entry module/,
  },
];

describe('refused archives leave the running version serving', () => {
  for (const c of cases) {
    it(`refuses ${c.name}`, async () => {
      const label = c.name.startsWith('zip bomb lying') ? 'liar.sar' : 'broken.sar';
      const error = await h.deployer.deployArchive(await c.archive(), { label }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(SipletError.is(error, 'SIPLET_DEPLOY_FAILED'), String(error)).toBe(true);
      expect((error as Error).message).toContain(`Cannot deploy archive ${label}: `);
      expect((error as Error).message).toMatch(c.message);
      // v1 still takes calls; nothing of the broken archive stays on disk.
      expect(await inviteStatus(alice)).toEqual({ status: 200, version: 'v1' });
      expect(h.deployer.list().map((d) => `${d.name} ${d.version} ${d.state}`)).toEqual(['versioned v1 active']);
      expect(await readdir(join(h.dataDir, 'deployments'))).toEqual(['versioned-v1-1']);
    }, 15_000);
  }

  it('refuses a broken archive dropped into the deploy folder, and says so in the log only', async () => {
    const { writeFile } = await import('node:fs/promises');
    const path = join(h.deployDir, 'broken.sar');
    await writeFile(path, handMadeZip([{ name: 'siplet.json', data: DESCRIPTOR }, { name: '../x.js', data: 'x' }]));
    const error = await h.deployer.deployArchive(path).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`Cannot deploy archive ${path}: `);
    expect(await inviteStatus(alice)).toEqual({ status: 200, version: 'v1' });
  });
});
