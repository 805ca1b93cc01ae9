#!/usr/bin/env node
// Rewrites the settings table in README.md (between the config-table markers) from the compiled
// setting definitions. Run through `npm run docs:config`, which builds first.
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsMarkdown } from '../dist/src/config/index.js';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const markers = /(<!-- config-table:start -->)[\s\S]*?(<!-- config-table:end -->)/;
if (!markers.test(readme)) {
  process.stderr.write('README.md has no <!-- config-table:start --> / <!-- config-table:end --> markers.\n');
  process.exit(1);
}
writeFileSync(path, readme.replace(markers, (_, start, end) => `${start}\n${settingsMarkdown()}\n${end}`));
process.stdout.write('README.md settings table updated.\n');
