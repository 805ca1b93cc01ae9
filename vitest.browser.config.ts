import { defineConfig } from 'vitest/config';
import { alias } from './vitest.shared.js';

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
