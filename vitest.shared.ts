import { fileURLToPath } from 'node:url';

/**
 * What the three vitest configs (unit and integration, interop, browser) share. Samples and tests
 * import the package by name, as apps do; this maps those names to the sources.
 */
export const alias = {
  'siplet/sdk/testing': fileURLToPath(new URL('./sdk/testing/index.ts', import.meta.url)),
  'siplet/sdk': fileURLToPath(new URL('./sdk/index.ts', import.meta.url)),
  siplet: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
};
