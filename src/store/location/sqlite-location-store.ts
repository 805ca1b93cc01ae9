import type { Statement } from 'better-sqlite3';
import { checkBinding, requireAor, type Binding, type BindingChanges, type LocationStore, type LocationStoreOptions } from '../location-store.js';
import type { SqliteDatabase } from '../sqlite/database.js';

interface Row {
  aor: string;
  uri: string;
  contact: string;
  expires: number;
  q: number;
  call_id: string;
  cseq: number;
  path: string;
  instance: string | null;
  reg_id: number | null;
  source: string | null;
  updated_at: number;
}

const ORDER = 'ORDER BY q DESC, updated_at DESC, uri';

/**
 * The location store in SQLite (the `bindings` table of `<dataDir>/siplet.db`): bindings survive
 * a restart. Open it through `openDataStore`, which owns the database.
 *
 * Hazard: better-sqlite3 is synchronous; each call blocks the event loop for one indexed query,
 * which is what a registrar on one node needs, not what a cluster does (a Redis store will).
 */
export class SqliteLocationStore implements LocationStore {
  readonly #db: SqliteDatabase;
  readonly #now: () => number;
  readonly #lookup: Statement<[string, number], Row>;
  readonly #put: Statement<Record<string, unknown>>;
  readonly #remove: Statement<[string, string]>;
  readonly #removeAll: Statement<[string]>;
  readonly #aors: Statement<[number], { aor: string }>;
  readonly #all: Statement<[number], Row>;
  readonly #purge: Statement<[number]>;

  constructor(db: SqliteDatabase, options: LocationStoreOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#lookup = db.prepare(`SELECT * FROM bindings WHERE aor = ? AND expires > ? ${ORDER}`);
    this.#put = db.prepare(
      `INSERT INTO bindings (aor, uri, contact, expires, q, call_id, cseq, path, instance, reg_id, source, updated_at)
       VALUES (@aor, @uri, @contact, @expires, @q, @call_id, @cseq, @path, @instance, @reg_id, @source, @updated_at)
       ON CONFLICT (aor, uri) DO UPDATE SET contact = excluded.contact, expires = excluded.expires, q = excluded.q,
         call_id = excluded.call_id, cseq = excluded.cseq, path = excluded.path, instance = excluded.instance,
         reg_id = excluded.reg_id, source = excluded.source, updated_at = excluded.updated_at`,
    );
    this.#remove = db.prepare('DELETE FROM bindings WHERE aor = ? AND uri = ?');
    this.#removeAll = db.prepare('DELETE FROM bindings WHERE aor = ?');
    this.#aors = db.prepare('SELECT DISTINCT aor FROM bindings WHERE expires > ? ORDER BY aor');
    this.#all = db.prepare(`SELECT * FROM bindings WHERE expires > ? ORDER BY aor, q DESC, updated_at DESC, uri`);
    this.#purge = db.prepare('DELETE FROM bindings WHERE expires <= ?');
  }

  async lookup(aor: string): Promise<Binding[]> {
    return this.#lookup.all(requireAor(aor), this.#now()).map(fromRow);
  }

  async put(binding: Binding): Promise<void> {
    this.#put.run(toRow(checkBinding(binding)));
  }

  async remove(aor: string, uri: string): Promise<boolean> {
    return this.#remove.run(requireAor(aor), uri).changes > 0;
  }

  async removeAll(aor: string): Promise<number> {
    return this.#removeAll.run(requireAor(aor)).changes;
  }

  async update(aor: string, changes: BindingChanges): Promise<Binding[]> {
    const key = requireAor(aor);
    const puts = (changes.put ?? []).map((b) => checkBinding(b, key));
    this.#db.transaction(() => {
      for (const uri of changes.remove ?? []) this.#remove.run(key, uri);
      for (const b of puts) this.#put.run(toRow(b));
    })();
    return this.#lookup.all(key, this.#now()).map(fromRow);
  }

  async aors(): Promise<string[]> {
    return this.#aors.all(this.#now()).map((r) => r.aor);
  }

  async all(): Promise<Binding[]> {
    return this.#all.all(this.#now()).map(fromRow);
  }

  async purgeExpired(now: number = this.#now()): Promise<number> {
    return this.#purge.run(now).changes;
  }
}

function toRow(b: Binding): Record<string, unknown> {
  return {
    aor: b.aor,
    uri: b.uri,
    contact: b.contact,
    expires: Math.round(b.expires),
    q: b.q,
    call_id: b.callId,
    cseq: b.cseq,
    path: JSON.stringify(b.path),
    instance: b.instance ?? null,
    reg_id: b.regId ?? null,
    source: b.source === undefined ? null : JSON.stringify(b.source),
    updated_at: Math.round(b.updatedAt),
  };
}

function fromRow(r: Row): Binding {
  return {
    aor: r.aor,
    uri: r.uri,
    contact: r.contact,
    expires: r.expires,
    q: r.q,
    callId: r.call_id,
    cseq: r.cseq,
    path: JSON.parse(r.path) as string[],
    ...(r.instance !== null && { instance: r.instance }),
    ...(r.reg_id !== null && { regId: r.reg_id }),
    ...(r.source !== null && { source: JSON.parse(r.source) as Binding['source'] }),
    updatedAt: r.updated_at,
  };
}
