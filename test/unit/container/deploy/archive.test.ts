import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ARCHIVE_LIMITS, extractArchive, extractionFolder, inspectArchive } from '../../../../src/container/deploy/index.js';
import { buildArchive, handMadeZip } from '../../../support/archives.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const APP = {
  'siplet.json': JSON.stringify({ name: 'echo', mainServlet: 'echo' }),
  'package.json': JSON.stringify({ name: 'echo-app', version: '2.1.0', main: 'lib/main.js' }),
  'lib/main.js': 'export {};',
  'config.json': '{"a":1}',
  'node_modules/left-pad/package.json': '{"name":"left-pad","main":"index.js"}',
  'node_modules/left-pad/index.js': 'module.exports = (s) => s;',
};

describe('inspectArchive', () => {
  it('reads name, version (package.json when siplet.json has none), entries and a content hash', async () => {
    const bytes = await buildArchive(APP);
    const result = await inspectArchive(bytes, { label: 'echo.sar' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.archive).toMatchObject({ label: 'echo.sar', name: 'echo', version: '2.1.0' });
    expect([...result.archive.entries].sort()).toEqual(Object.keys(APP).sort());
    expect(result.archive.hash).toMatch(/^[0-9a-f]{64}$/);
    const again = await inspectArchive(Buffer.from(bytes));
    expect(again.ok && again.archive.hash).toBe(result.archive.hash);
  });

  it('tells an unreadable file (retry later) from an invalid archive (retrying will not help)', async () => {
    const bytes = await buildArchive(APP);
    const half = await inspectArchive(bytes.subarray(0, bytes.length >> 1));
    expect(half.ok === false && half.problem.kind).toBe('unreadable');
    const slip = await inspectArchive(handMadeZip([{ name: 'siplet.json', data: '{"name":"x"}' }, { name: 'a/../../b.js' }]));
    expect(slip.ok === false && slip.problem).toMatchObject({ kind: 'invalid' });
    expect(slip.ok === false && slip.problem.message).toMatch(/zip slip/);
    const missing = await inspectArchive(join(tmpdir(), 'no-such-archive.sar'));
    expect(missing.ok === false && missing.problem.kind).toBe('unreadable');
  });

  it('refuses special files and backslashes in names', async () => {
    const fifo = await inspectArchive(handMadeZip([{ name: 'siplet.json', data: '{"name":"x"}' }, { name: 'pipe', mode: 0o010644 }]));
    expect(fifo.ok === false && fifo.problem.message).toMatch(/entry "pipe" is a special file/);
    const backslash = await inspectArchive(handMadeZip([{ name: 'siplet.json', data: '{"name":"x"}' }, { name: '..\\evil.js' }]));
    expect(backslash.ok === false && backslash.problem.message).toMatch(/backslash|non-portable/);
  });

  it('refuses an archive file larger than the limit before opening it', async () => {
    const bytes = await buildArchive(APP);
    const result = await inspectArchive(bytes, { limits: { ...DEFAULT_ARCHIVE_LIMITS, maxArchiveBytes: 100 } });
    expect(result.ok === false && result.problem.message).toMatch(/the archive holds \d+ bytes, more than the limit of 100; .*--archive-max-size/);
  });
});

describe('extractArchive', () => {
  it('writes every entry under the extraction folder, dependencies included', async () => {
    const root = await mkdtemp(join(tmpdir(), 'siplet-extract-'));
    dirs.push(root);
    const inspected = await inspectArchive(await buildArchive(APP));
    if (!inspected.ok) throw new Error(inspected.problem.message);
    const target = extractionFolder(join(root, 'deployments'), inspected.archive, 3);
    expect(target).toBe(join(root, 'deployments', 'echo-2.1.0-3'));
    await extractArchive(inspected.archive, target);
    expect((await readdir(target)).sort()).toEqual(['config.json', 'lib', 'node_modules', 'package.json', 'siplet.json']);
    expect(await readFile(join(target, 'node_modules/left-pad/index.js'), 'utf8')).toBe('module.exports = (s) => s;');
    // Never into an existing folder.
    await expect(extractArchive(inspected.archive, target)).rejects.toThrow();
  });

  it('stops a zip bomb whose headers lie while inflating it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'siplet-extract-'));
    dirs.push(root);
    const bomb = handMadeZip([
      { name: 'siplet.json', data: '{"name":"bomb"}' },
      { name: 'index.js', data: '' },
      { name: 'zeros.bin', data: Buffer.alloc(8 * 1024 * 1024), deflate: true, declaredSize: 16 },
    ]);
    expect(bomb.length).toBeLessThan(64 * 1024);
    const inspected = await inspectArchive(bomb);
    if (!inspected.ok) throw new Error(inspected.problem.message);
    await expect(extractArchive(inspected.archive, join(root, 'out'), { ...DEFAULT_ARCHIVE_LIMITS, maxTotalBytes: 1024 * 1024 })).rejects.toThrow(
      /too many bytes|more than the limit/,
    );
  });
});
