import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DarFile, DefaultApplicationRouter } from '../../../src/router/index.js';
import { recordingLogger, routerRequest } from './helpers.js';

const ONE = 'INVITE: ("one", "", "NEUTRAL", "", "NO_ROUTE", "0")\n';
const TWO = 'INVITE: ("two", "", "NEUTRAL", "", "NO_ROUTE", "0")\n';
const BAD = '# broken\nINVITE: ("three", "", "NEUTRAL", "", "NO_ROUTE", "zero")\n';

/** Polls `condition` every 10 ms; fails after `timeoutMs`. */
async function eventually(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function firstApp(router: DefaultApplicationRouter): string | undefined {
  return router.getNextApplication(routerRequest(), undefined, 'NEW', undefined, undefined)?.nextApplicationName;
}

describe('DarFile', () => {
  let dir: string;
  let files: DarFile[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'siplet-dar-'));
    files = [];
  });

  afterEach(async () => {
    await Promise.all(files.map((file) => file.close()));
    await rm(dir, { recursive: true, force: true });
  });

  function setup(options: { pollIntervalMs?: number; name?: string; maxBytes?: number } = {}) {
    const router = new DefaultApplicationRouter();
    router.applicationDeployed(['one', 'two', 'three']);
    const logger = recordingLogger();
    const path = join(dir, options.name ?? 'dar.properties');
    const file = new DarFile({
      path,
      router,
      logger,
      debounceMs: 20,
      pollIntervalMs: options.pollIntervalMs ?? 0,
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    });
    files.push(file);
    return { router, logger, path, file };
  }

  it('loads the file at start', async () => {
    const { router, path, file } = setup();
    await writeFile(path, ONE);
    const result = await file.load();
    expect(result).toMatchObject({ ok: true, found: true });
    expect(firstApp(router)).toBe('one');
  });

  it('treats a missing file as no rules, and logs where it looked', async () => {
    const { router, logger, path, file } = setup({ name: 'absent.properties' });
    expect(await file.load()).toMatchObject({ ok: true, found: false });
    expect(firstApp(router)).toBeUndefined();
    expect(logger.records).toContainEqual(expect.objectContaining({ level: 'info', message: expect.stringContaining(path) }));
  });

  it('returns the errors of a file that does not parse at start', async () => {
    const { router, path, file } = setup();
    await writeFile(path, BAD);
    const result = await file.load();
    expect(result).toMatchObject({ ok: false, errors: [expect.objectContaining({ line: 2 })] });
    expect(firstApp(router)).toBeUndefined();
  });

  it('picks up a change, refuses a broken one with its line number, and recovers', async () => {
    const { router, logger, path, file } = setup();
    await writeFile(path, ONE);
    await file.load();
    file.watch();

    await writeFile(path, TWO);
    await eventually(() => firstApp(router) === 'two');

    await writeFile(path, BAD);
    await eventually(() => logger.records.some((record) => record.level === 'warn' && record.message.includes('line 2')));
    expect(firstApp(router)).toBe('two');
    const refusal = logger.records.find((record) => record.level === 'warn')!;
    expect(refusal.message).toContain(`${path} line 2: state info "zero"`);
    expect(refusal.message).toContain('keeping the previous rules');

    // Saved the way editors do: write a temporary file, rename it over the original.
    await writeFile(`${path}.tmp`, ONE);
    await rename(`${path}.tmp`, path);
    await eventually(() => firstApp(router) === 'one');
  });

  it('picks up a file created after start', async () => {
    const { router, path, file } = setup();
    await file.load();
    file.watch();
    await writeFile(path, TWO);
    await eventually(() => firstApp(router) === 'two');
  });

  it('keeps the rules when the file disappears', async () => {
    const { router, logger, path, file } = setup({ pollIntervalMs: 25 });
    await writeFile(path, ONE);
    await file.load();
    file.watch();
    await unlink(path);
    await eventually(() => logger.records.some((record) => record.level === 'warn' && record.message.includes('disappeared')));
    expect(firstApp(router)).toBe('one');
  });

  it('notices changes through the stat poll alone', async () => {
    const { router, path } = setup();
    await writeFile(path, ONE);
    // Change events wait 10 s to be acted on, far past this test: only the poll can see the change.
    const pollOnly = new DarFile({ path, router, debounceMs: 10_000, pollIntervalMs: 25 });
    files.push(pollOnly);
    await pollOnly.load();
    pollOnly.watch();
    await writeFile(path, `${TWO}# longer, so the size changes too\n`);
    await eventually(() => firstApp(router) === 'two');
  });

  it('refuses a file larger than maxBytes', async () => {
    const { router, path, file } = setup({ maxBytes: 16 });
    await writeFile(path, ONE);
    const result = await file.load();
    expect(result).toMatchObject({ ok: false, errors: [], reason: expect.stringContaining('larger than 16 bytes') });
    expect(firstApp(router)).toBeUndefined();
  });

  it('stops reloading once closed', async () => {
    const { router, path, file } = setup({ pollIntervalMs: 25 });
    await writeFile(path, ONE);
    await file.load();
    file.watch();
    await file.close();
    await writeFile(path, TWO);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(firstApp(router)).toBe('one');
    file.watch();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(firstApp(router)).toBe('one');
  });
});
