/**
 * The layer map of docs/architecture.md, checked: lower layers never import higher
 * ones, and code outside a layer enters it only through its index.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

/** Layer of a file under src/ (the folder that owns it). */
function layerOf(file: string): string {
  const rel = relative(src, file).split('\\').join('/');
  const parts = rel.split('/');
  if (parts.length === 1) return parts[0]!.replace(/\.ts$/, '');
  if (parts[0] === 'sip' || parts[0] === 'container') return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0];
  return parts[0]!;
}

/** What each layer may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  util: [],
  config: ['util'],
  'sip/message': ['util'],
  'sip/transport': ['util', 'sip/message'],
  'sip/transaction': ['util', 'sip/message', 'sip/transport'],
  'sip/core': ['util', 'sip/message'],
  dialog: ['util', 'sip/message'],
  api: ['util', 'sip/message'],
  router: ['util'],
  http: ['util'],
  admin: ['util'],
  store: ['util', 'sip/message'],
  'container/model': ['util', 'api', 'sip/message'],
  'container/deploy': ['util', 'api', 'sip/message', 'container/model'],
  'container/session': ['util', 'api', 'sip/message', 'dialog'],
  'container/timer': ['util', 'api', 'container/session'],
  'container/auth': ['util', 'sip/message', 'sip/transport', 'container/model'],
  'container/message': ['util', 'api', 'sip/message', 'sip/transport', 'container/session', 'dialog', 'container/auth'],
  'container/proxy': ['util', 'api', 'sip/message', 'sip/transaction', 'sip/transport', 'router', 'container/message', 'container/session', 'container'],
  'container/b2bua': ['util', 'api', 'sip/message', 'container/message', 'container/session'],
  'container/converged': ['util', 'api', 'container/session'],
  container: ['*'],
  server: ['*'],
  index: ['api', 'sip/message', 'sip/transport', 'router', 'util', 'config', 'server'],
  cli: ['server', 'config', 'util', 'store'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/g;

describe('architecture', () => {
  const all = files(src);
  for (const file of all) {
    const from = layerOf(file);
    it(`${relative(root, file)} imports only what its layer may`, () => {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const target = resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'));
        const to = layerOf(target);
        if (to === from) continue;
        const allowed = ALLOWED[from];
        expect(allowed, `no rule for layer ${from}`).toBeDefined();
        if (!allowed!.includes('*')) {
          expect(allowed, `${relative(root, file)} (${from}) imports ${m[1]} (${to})`).toContain(to);
        }
        // Another layer is entered through its index.ts only.
        const isDoor = target.endsWith('/index.ts') || layerOf(target) === 'server' || layerOf(target) === 'index';
        expect(isDoor, `${relative(root, file)} reaches into ${relative(root, target)}: import ${to}/index.js instead`).toBe(true);
      }
    });
  }
});
