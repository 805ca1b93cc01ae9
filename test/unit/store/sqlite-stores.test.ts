import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, openDataStore, SCHEMA_VERSION, SqliteLocationStore, SqliteUserStore, openDatabase } from '../../../src/store/index.js';
import { SipletError, silentLogger } from '../../../src/util/index.js';
import { binding, locationStoreContract, T0 } from './location-store.contract.js';
import { userStoreContract } from './user-store.contract.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'siplet-store-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

locationStoreContract('sqlite', (clock) => {
  const db = openDatabase(tempDir(), silentLogger());
  return { store: new SqliteLocationStore(db, { now: clock }), close: () => void db.close() };
});
userStoreContract('sqlite', () => {
  const db = openDatabase(tempDir(), silentLogger());
  return { store: new SqliteUserStore(db), close: () => void db.close() };
});

describe('SQLite data store', () => {
  it('creates <dataDir>/siplet.db (and missing directories) in WAL mode with a schema version', async () => {
    const dir = join(tempDir(), 'nested', 'data');
    const store = openDataStore(dir, silentLogger());
    await store.close();
    expect(readdirSync(dir)).toContain(DATABASE_FILE);
    const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM schema_version').get()).toEqual({ version: SCHEMA_VERSION });
    db.close();
  });

  it('keeps realms, users and bindings across a close and a reopen', async () => {
    const dir = tempDir();
    const first = openDataStore(dir, silentLogger(), { now: () => T0 });
    await first.users.addRealm('example.com');
    await first.users.addUser('alice', 'example.com', 'pw', ['admin']);
    await first.location.put(binding('sip:alice@example.com', 'sip:alice@10.0.0.1', { path: ['<sip:edge;lr>'], regId: 1, instance: '<urn:uuid:1>' }));
    await first.close();
    await first.close(); // idempotent

    const second = openDataStore(dir, silentLogger(), { now: () => T0 });
    expect(await second.users.realms()).toEqual(['example.com']);
    expect(second.users.credentials('example.com', 'alice')).toMatchObject({ roles: ['admin'] });
    expect(await second.location.lookup('sip:alice@example.com')).toEqual([
      binding('sip:alice@example.com', 'sip:alice@10.0.0.1', { path: ['<sip:edge;lr>'], regId: 1, instance: '<urn:uuid:1>' }),
    ]);
    await second.close();
  });

  it('keeps passwords only as HA1 hashes: the clear password is nowhere in the files', async () => {
    const dir = tempDir();
    const password = 'Correct-Horse-Battery-Staple-7731';
    const store = openDataStore(dir, silentLogger());
    await store.users.addRealm('example.com');
    await store.users.addUser('alice', 'example.com', password);
    await store.users.addUser('bob', 'example.com', 'first-' + password);
    await store.users.setPassword('bob', 'example.com', 'second-' + password);
    // Read while open (the WAL holds the writes) and after close (checkpointed into siplet.db).
    const bytesOf = (): Buffer => Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
    const open = bytesOf();
    await store.close();
    const closed = bytesOf();
    for (const bytes of [open, closed]) {
      for (const encoding of ['utf8', 'utf16le'] as const) expect(bytes.includes(Buffer.from(password, encoding))).toBe(false);
    }
    expect(closed.includes(Buffer.from('alice'))).toBe(true); // the data is there, the password is not
  });

  it('refuses a database written by a newer Siplet, and a directory it cannot create', async () => {
    const dir = tempDir();
    await openDataStore(dir, silentLogger()).close();
    const db = new Database(join(dir, DATABASE_FILE));
    db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 1);
    db.close();
    expect(() => openDataStore(dir, silentLogger())).toThrowError(/newer Siplet/);
    try {
      openDataStore(dir, silentLogger());
    } catch (error) {
      expect(SipletError.is(error, 'SIPLET_STORE_OPEN_FAILED')).toBe(true);
    }

    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'not a directory');
    expect(() => openDataStore(join(file, 'data'), silentLogger())).toThrow(expect.objectContaining({ code: 'SIPLET_STORE_OPEN_FAILED' }));
  });

  it('lets two handles write the same file (a running server and the siplet command)', async () => {
    const dir = tempDir();
    const server = openDataStore(dir, silentLogger());
    const cli = openDataStore(dir, silentLogger());
    await cli.users.addRealm('example.com');
    expect(await server.users.hasRealm('example.com')).toBe(true);
    await server.location.put(binding('sip:a@example.com', 'sip:a@10.0.0.1', { expires: Date.now() + 60_000 }));
    expect(await cli.location.aors()).toEqual(['sip:a@example.com']);
    await cli.close();
    await server.close();
  });
});
