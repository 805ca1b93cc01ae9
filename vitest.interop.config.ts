import { defineConfig } from 'vitest/config';
import { alias } from './vitest.shared.js';

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
