import { defineConfig } from 'vitest/config';
import { alias } from './vitest.shared.js';

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
