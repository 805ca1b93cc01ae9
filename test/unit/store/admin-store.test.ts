import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, hashAdminPassword, MemoryAdminStore, openDatabase, openDataStore, SCHEMA_VERSION, SqliteAdminStore, verifyAdminPassword } from '../../../src/store/index.js';
import { silentLogger } from '../../../src/util/index.js';
import { adminStoreContract } from './admin-store.contract.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'siplet-admins-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

adminStoreContract('memory', (clock) => ({ store: new MemoryAdminStore({ now: clock }) }));
adminStoreContract('sqlite', (clock) => {
  const db = openDatabase(tempDir(), silentLogger());
  return { store: new SqliteAdminStore(db, { now: clock }), close: () => void db.close() };
});

describe('admin password hashes', () => {
  it('are salted scrypt: two hashes of one password differ, and each verifies it', async () => {
    const a = await hashAdminPassword('same password');
    const b = await hashAdminPassword('same password');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyAdminPassword('same password', a)).toBe(true);
    expect(await verifyAdminPassword('same password', b)).toBe(true);
    expect(await verifyAdminPassword('other password', a)).toBe(false);
    expect(await verifyAdminPassword('same password', 'md5$abc')).toBe(false);
  });
});

describe('admin accounts in SQLite', () => {
  it('survive a reopen, and the clear password is nowhere in the files', async () => {
    const dir = tempDir();
    const password = 'Admin-Secret-Password-4471';
    const first = openDataStore(dir, silentLogger());
    await first.admins.setPassword('admin', password);
    await first.close();
    const bytes = Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
    expect(bytes.includes(Buffer.from(password))).toBe(false);
    const second = openDataStore(dir, silentLogger());
    expect(await second.admins.verify('admin', password)).toBe(true);
    await second.close();
  });

  it('are added to a database of schema version 1 by a migration that keeps its data', async () => {
    const dir = tempDir();
    const v1 = new Database(join(dir, DATABASE_FILE));
    v1.exec(`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);
      CREATE TABLE realms (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
      CREATE TABLE users (realm TEXT NOT NULL REFERENCES realms(name) ON DELETE CASCADE, username TEXT NOT NULL, ha1_md5 TEXT NOT NULL, ha1_sha256 TEXT NOT NULL, roles TEXT NOT NULL DEFAULT '[]', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (realm, username));
      CREATE TABLE bindings (aor TEXT NOT NULL, uri TEXT NOT NULL, contact TEXT NOT NULL, expires INTEGER NOT NULL, q REAL NOT NULL, call_id TEXT NOT NULL, cseq INTEGER NOT NULL, path TEXT NOT NULL DEFAULT '[]', instance TEXT, reg_id INTEGER, source TEXT, updated_at INTEGER NOT NULL, PRIMARY KEY (aor, uri));
      INSERT INTO realms VALUES ('example.com', 1);`);
    v1.close();
    const store = openDataStore(dir, silentLogger());
    expect(await store.users.realms()).toEqual(['example.com']);
    await store.admins.setPassword('admin', 'pw');
    expect(await store.admins.verify('admin', 'pw')).toBe(true);
    await store.close();
    const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
    expect(db.prepare('SELECT version FROM schema_version').get()).toEqual({ version: SCHEMA_VERSION });
    db.close();
  });
});
