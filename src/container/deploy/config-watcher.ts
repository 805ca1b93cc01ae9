import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../util/index.js';
import type { LiveAppConfig } from './app-config.js';

export interface ConfigWatcher {
  close(): void;
}

/**
 * Reloads an app folder's config.json into its live AppConfig when the file
 * changes, without a restart. Edits are debounced (editors write in several
 * steps); a file that is not a JSON object is refused with a log line and the
 * previous configuration stays; a deleted file leaves it as it was.
 */
export function watchAppConfig(folder: string, config: LiveAppConfig, logger: Logger, debounceMs = 150): ConfigWatcher {
  const file = join(folder, 'config.json');
  let timer: NodeJS.Timeout | undefined;
  let last: string | undefined;
  let closed = false;
  const reload = async (): Promise<void> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return;
    }
    if (closed || text === last) return;
    let values: unknown;
    try {
      values = JSON.parse(text);
    } catch (error) {
      logger.warn({ file, err: error }, `config.json is not valid JSON; keeping the previous configuration. Fix ${file}.`);
      return;
    }
    if (typeof values !== 'object' || values === null || Array.isArray(values)) {
      logger.warn({ file }, `config.json must hold a JSON object; keeping the previous configuration. Fix ${file}.`);
      return;
    }
    last = text;
    config.replace(values as Record<string, unknown>);
    logger.info({ file }, 'application configuration reloaded');
  };
  void readFile(file, 'utf8').then((t) => (last = t), () => undefined);
  let watcher: FSWatcher | undefined;
  try {
    // The folder, not the file: editors that save by rename replace the file's inode.
    watcher = watch(folder, (_event, name) => {
      if (name !== null && name !== 'config.json') return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), debounceMs);
      timer.unref?.();
    });
    watcher.unref?.();
    watcher.on('error', () => undefined);
  } catch (error) {
    logger.warn({ folder, err: error }, 'cannot watch the app folder; config.json changes need a redeploy');
  }
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
