import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRESH_IMPORT_HOOK_SOURCE } from '../../../../src/container/deploy/index.js';

type Resolve = (
  specifier: string,
  context: { parentURL?: string },
  next: (specifier: string, context: unknown) => Promise<{ url: string; format?: string }>,
) => Promise<{ url: string; format?: string }>;

// Vitest's module runner resolves imports itself, so the hook cannot be observed through import()
// here; its source is loaded as a module and its resolve function called with a stand-in for Node's.
describe('fresh-import resolve hook', () => {
  let folder: string;
  let resolve: Resolve;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'siplet-hook-'));
    const file = join(folder, 'hook.mjs');
    await writeFile(file, FRESH_IMPORT_HOOK_SOURCE);
    ({ resolve } = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { resolve: Resolve });
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  const next = (resolved: string) => async () => ({ url: resolved, format: 'module' });
  const cases: [label: string, specifier: string, parent: string | undefined, resolved: string, expected: string][] = [
    ['relative import of a deployed module', './calls.js', 'file:///apps/a/index.js?siplet-deploy=k1-3', 'file:///apps/a/calls.js', 'file:///apps/a/calls.js?siplet-deploy=k1-3'],
    ['parent import', '../lib/x.js', 'file:///apps/a/src/m.js?siplet-deploy=k1-3', 'file:///apps/a/lib/x.js', 'file:///apps/a/lib/x.js?siplet-deploy=k1-3'],
    ['keeps an existing query and fragment', './x.js?raw#f', 'file:///apps/a/i.js?siplet-deploy=7', 'file:///apps/a/x.js?raw#f', 'file:///apps/a/x.js?raw&siplet-deploy=7#f'],
    ['bare specifier (siplet/sdk) untouched', 'siplet/sdk', 'file:///apps/a/index.js?siplet-deploy=7', 'file:///srv/siplet/dist/sdk/index.js', 'file:///srv/siplet/dist/sdk/index.js'],
    ['node_modules untouched', './node_modules/x/i.js', 'file:///apps/a/index.js?siplet-deploy=7', 'file:///apps/a/node_modules/x/i.js', 'file:///apps/a/node_modules/x/i.js'],
    ['parent not deployed', './x.js', 'file:///srv/siplet/dist/src/server.js', 'file:///srv/siplet/dist/src/x.js', 'file:///srv/siplet/dist/src/x.js'],
    ['no parent', './x.js', undefined, 'file:///x.js', 'file:///x.js'],
    ['builtin', 'node:fs', 'file:///apps/a/index.js?siplet-deploy=7', 'node:fs', 'node:fs'],
  ];
  it.each(cases)('%s', async (_label, specifier, parentURL, resolved, expected) => {
    const result = await resolve(specifier, parentURL === undefined ? {} : { parentURL }, next(resolved));
    expect(result).toEqual({ url: expected, format: 'module' });
  });
});
