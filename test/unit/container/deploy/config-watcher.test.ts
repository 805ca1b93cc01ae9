import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LiveAppConfig, watchAppConfig } from '../../../../src/container/deploy/index.js';
import { createLogger } from '../../../../src/util/index.js';
import { Writable } from 'node:stream';

async function until(predicate: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return predicate();
}

describe('config.json live reload', () => {
  it('reloads a changed file, keeps the old values on a broken one, and follows editors that save by rename', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'siplet-cfg-'));
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ blocked: ['a'] }));
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
    const config = new LiveAppConfig({ blocked: ['a'] }, logger);
    let changes = 0;
    config.onChange(() => changes++);
    const watcher = watchAppConfig(folder, config, logger, 30);
    try {
      await new Promise((r) => setTimeout(r, 50));
      writeFileSync(join(folder, 'config.json'), JSON.stringify({ blocked: ['a', 'b'] }));
      expect(await until(() => config.get<string[]>('blocked')?.length === 2)).toBe(true);
      writeFileSync(join(folder, 'config.json'), '{ not json');
      expect(await until(() => lines.some((l) => l.includes('not valid JSON')))).toBe(true);
      expect(config.get<string[]>('blocked')).toEqual(['a', 'b']);
      writeFileSync(join(folder, 'config.json.tmp'), JSON.stringify({ blocked: [] }));
      renameSync(join(folder, 'config.json.tmp'), join(folder, 'config.json'));
      expect(await until(() => config.get<string[]>('blocked')?.length === 0)).toBe(true);
      expect(changes).toBe(2);
    } finally {
      watcher.close();
    }
  });
});
