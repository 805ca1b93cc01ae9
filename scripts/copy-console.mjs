#!/usr/bin/env node
// Copies the admin console's static files (HTML, CSS, plain JS: no build step of their own) next to
// the compiled admin layer, where it serves them from: src/admin/console → dist/src/admin/console.
import { cpSync, rmSync } from 'node:fs';

const from = new URL('../src/admin/console/', import.meta.url);
const to = new URL('../dist/src/admin/console/', import.meta.url);
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
