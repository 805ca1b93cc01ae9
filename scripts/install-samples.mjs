#!/usr/bin/env node
// Copies the compiled samples (dist/samples/<name>) into the deploy folder (apps/<name>) as exploded
// app folders, with each sample's siplet.json and package.json. A config.json already in apps/<name>
// is the operator's and is kept; otherwise the sample's default is copied.
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'samples');
const sources = join(root, 'samples');
const apps = join(root, process.argv[2] ?? 'apps');

function copyTree(from, to, keep) {
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    if (statSync(src).isDirectory()) copyTree(src, dst, keep);
    else if (keep(name)) {
      mkdirSync(dirname(dst), { recursive: true });
      copyFileSync(src, dst);
    }
  }
}

if (!existsSync(built)) {
  console.error('dist/samples is missing: run "npm run build" first');
  process.exit(1);
}
const installed = [];
for (const name of readdirSync(built)) {
  if (!statSync(join(built, name)).isDirectory()) continue;
  const target = join(apps, name);
  copyTree(join(built, name), target, (file) => file.endsWith('.js'));
  for (const file of ['siplet.json', 'package.json']) {
    if (existsSync(join(sources, name, file))) copyFileSync(join(sources, name, file), join(target, file));
  }
  if (existsSync(join(sources, name, 'config.json')) && !existsSync(join(target, 'config.json'))) {
    copyFileSync(join(sources, name, 'config.json'), join(target, 'config.json'));
  }
  installed.push(name);
}
console.log(`samples installed in ${relative(root, apps) || '.'}: ${installed.join(', ')}`);
