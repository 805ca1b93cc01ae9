import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Samples and tests import the package by name, as apps do; map it to the sources.
const alias = {
  'siplet/sdk/testing': fileURLToPath(new URL('./sdk/testing/index.ts', import.meta.url)),
  'siplet/sdk': fileURLToPath(new URL('./sdk/index.ts', import.meta.url)),
  siplet: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
};

// Interop tests: `npm run test:interop`. They start real peers (SIPp, later Kamailio and sipsak) as
// child processes on real ports, so files run one at a time and timeouts allow for load runs.
export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/interop/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/interop.json' },
  },
});
