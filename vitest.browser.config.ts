import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Samples and tests import the package by name, as apps do; map it to the sources.
const alias = {
  'siplet/sdk/testing': fileURLToPath(new URL('./sdk/testing/index.ts', import.meta.url)),
  'siplet/sdk': fileURLToPath(new URL('./sdk/index.ts', import.meta.url)),
  siplet: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
};

// Browser tests: `npm run test:browser`. Debian's Chromium, driven by playwright-core, against a
// built Siplet running as its own process (and SIPp for calls), so files run one at a time.
export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/browser/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/browser.json' },
  },
});
