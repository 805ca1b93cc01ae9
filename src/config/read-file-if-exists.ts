import { readFileSync } from 'node:fs';
import type { ConfigFileReader } from './load-config.js';

/** The `ConfigFileReader` on the real disk: UTF-8 text, or `undefined` when there is no such file. */
export const readFileIfExists: ConfigFileReader = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
};
