import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Samples and tests import the package by name, as apps do; map it to the sources.
const alias = {
  'siplet/sdk/testing': fileURLToPath(new URL('./sdk/testing/index.ts', import.meta.url)),
  'siplet/sdk': fileURLToPath(new URL('./sdk/index.ts', import.meta.url)),
  siplet: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
};

// Unit and integration tests: `npm test`. Interop tests against real peers (SIPp) have their own
// config, vitest.interop.config.ts. The JSON report feeds scripts/summary.mjs.
export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/unit.json' },
  },
});
