import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryAppDataStore, openDatabase, openDataStore, SqliteAppDataStore } from '../../../src/store/index.js';
import { silentLogger } from '../../../src/util/index.js';
import { appDataStoreContract } from './app-data-store.contract.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'siplet-app-data-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

appDataStoreContract('memory', (clock) => ({ store: new MemoryAppDataStore({ now: clock }) }));
appDataStoreContract('sqlite', (clock) => {
  const db = openDatabase(tempDir(), silentLogger());
  return { store: new SqliteAppDataStore(db, { now: clock }), close: () => void db.close() };
});

describe('applications\' data in the SQLite data store', () => {
  it('survives a close and a reopen', async () => {
    const dir = tempDir();
    const first = openDataStore(dir, silentLogger());
    await first.appData.set('call-screening', 'blocked:robocall', { since: 'then' });
    await first.close();
    const second = openDataStore(dir, silentLogger());
    expect((await second.appData.get('call-screening', 'blocked:robocall'))?.value).toEqual({ since: 'then' });
    await second.close();
  });
});
