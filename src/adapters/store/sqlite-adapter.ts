/*
 * A Keyv storage adapter over better-sqlite3, for the embedded single-process store.
 *
 * Why not @keyv/sqlite: it depends on `sqlite3`, whose install downloads a prebuilt binary (impossible on
 * machines without internet) or compiles for minutes. better-sqlite3 is synchronous, so each statement runs
 * to completion before any other JavaScript, and a read-modify-write cannot interleave within the one
 * process that owns the file.
 *
 * Durability: WAL journal with `synchronous = FULL`, so a value is on disk once set() resolves. Writes go through
 * a group commit (`GroupCommit`): those asked for in one turn of the event loop share one transaction and one fsync.
 *
 * Pending lists live beside the key-value rows, in the same file, in their own indexed table (`pendingSets`).
 */
import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import type { PendingEntry } from '../../core/ports.js';
import type { CheckedClaims } from './errors.js';
import { GroupCommit } from './group-commit.js';
import type { ClaimRow, ConditionalDeletes, TransactionalClaims } from './keyv-backend.js';
import type { PendingSets } from './pending-sets.js';

export interface SqliteAdapterOptions {
  /** Database file; created when missing. */
  path: string;
  /** How often expired rows are deleted; they are already invisible to reads before that. */
  purgeIntervalMs?: number;
}

interface Row {
  value: string;
}

export class SqliteAdapter extends EventEmitter implements KeyvStoreAdapter, TransactionalClaims, ConditionalDeletes {
  /** Set by Keyv; used only to scope clear(). */
  namespace?: string | undefined;
  readonly opts: { path: string; dialect: 'sqlite' };
  /** This file's pending lists, for KeyvStore. */
  readonly pendingSets: SqlitePendingSets;
  readonly #db: Database.Database;
  readonly #purgeTimer: NodeJS.Timeout;
  readonly #writes: GroupCommit;
  readonly #statements: {
    get: Database.Statement<[string, number], Row>;
    upsert: Database.Statement<[string, string, number | null]>;
    delete: Database.Statement<[string]>;
    deleteIfText: Database.Statement<[string, string, number]>;
    deleteExpired: Database.Statement<[number]>;
    clearAll: Database.Statement<[]>;
    clearPrefix: Database.Statement<[{ prefix: string }]>;
  };

  constructor(options: SqliteAdapterOptions) {
    super();
    this.opts = { path: options.path, dialect: 'sqlite' };
    this.#db = new Database(options.path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS keyv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires INTEGER);
      CREATE INDEX IF NOT EXISTS keyv_expires ON keyv (expires) WHERE expires IS NOT NULL;
    `);
    this.#writes = new GroupCommit(this.#db);
    this.pendingSets = new SqlitePendingSets(this.#db, this.#writes);
    this.#statements = {
      get: this.#db.prepare('SELECT value FROM keyv WHERE key = ? AND (expires IS NULL OR expires > ?)'),
      upsert: this.#db.prepare(
        'INSERT INTO keyv (key, value, expires) VALUES (?, ?, ?) ' +
          'ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires',
      ),
      delete: this.#db.prepare('DELETE FROM keyv WHERE key = ?'),
      deleteIfText: this.#db.prepare(
        'DELETE FROM keyv WHERE key = ? AND value = ? AND (expires IS NULL OR expires > ?)',
      ),
      deleteExpired: this.#db.prepare('DELETE FROM keyv WHERE expires IS NOT NULL AND expires <= ?'),
      clearAll: this.#db.prepare('DELETE FROM keyv'),
      clearPrefix: this.#db.prepare('DELETE FROM keyv WHERE substr(key, 1, length(@prefix)) = @prefix'),
    };
    this.#purgeTimer = setInterval(() => this.#purgeQuietly(), options.purgeIntervalMs ?? 60_000);
    this.#purgeTimer.unref();
  }

  /** Write transactions committed so far (one fsync each): fewer than the writes when they came in together. */
  get commits(): number {
    return this.#writes.commits;
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.#statements.get.get(key, Date.now())?.value as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    const now = Date.now();
    return keys.map((key) => this.#statements.get.get(key, now)?.value as StoredData<Value | undefined>);
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    // Keyv hands over its serialised string; anything else is stored as JSON so get() still returns text.
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const expires = typeof ttl === 'number' && ttl > 0 ? Date.now() + ttl : null;
    await this.#writes.run(() => this.#statements.upsert.run(key, text, expires));
    return true;
  }

  /**
   * Claims every row and adds the pending ids in one transaction (one fsync, shared with the batch), or writes
   * nothing; see KeyvStore. The reads run inside the write transaction, which holds the file's write lock, so even a
   * second handle on the file cannot slip in between.
   */
  claimAll(rows: ClaimRow[], pending: CheckedClaims['pending']): Promise<(string | undefined)[] | undefined> {
    return this.#writes.run(() => {
      const now = Date.now();
      const held = rows.map((row) => this.#statements.get.get(row.key, now)?.value);
      if (held.some((text) => text !== undefined)) return held;
      for (const row of rows) this.#statements.upsert.run(row.key, row.text, row.expires);
      for (const { list, id, score } of pending) this.pendingSets.addNow(list, id, score);
      return undefined;
    });
  }

  async has(key: string): Promise<boolean> {
    return this.#statements.get.get(key, Date.now()) !== undefined;
  }

  /** True when a row was removed, even an expired one that reads no longer saw. */
  async delete(key: string): Promise<boolean> {
    return this.#writes.run(() => this.#statements.delete.run(key).changes > 0);
  }

  /** Removes the row only while it is live and holds exactly `text`, in one statement (see KeyvStore.deleteIf). */
  async deleteIfText(key: string, text: string): Promise<boolean> {
    return this.#writes.run(() => this.#statements.deleteIfText.run(key, text, Date.now()).changes > 0);
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    const removed = await this.#writes.run(() =>
      keys.reduce((sum, key) => sum + this.#statements.delete.run(key).changes, 0),
    );
    return removed > 0;
  }

  /** Removes this namespace's keys (Keyv prefixes them with `<namespace>:`), or every key without one. */
  async clear(): Promise<void> {
    const prefix = this.namespace ? `${this.namespace}:` : undefined;
    await this.#writes.run(() =>
      prefix === undefined ? this.#statements.clearAll.run() : this.#statements.clearPrefix.run({ prefix }),
    );
  }

  /** Deletes expired rows now; returns how many went. */
  purgeExpired(): number {
    return this.#statements.deleteExpired.run(Date.now()).changes;
  }

  async disconnect(): Promise<void> {
    clearInterval(this.#purgeTimer);
    if (this.#db.open) this.#writes.flush(); // writes still waiting for the end of this turn
    if (this.#db.open) this.#db.close();
  }

  #purgeQuietly(): void {
    try {
      this.purgeExpired();
    } catch (error) {
      // A failed purge only delays cleanup. Keyv forwards 'error' to its own listeners; without one, an
      // EventEmitter would throw it from this timer and take the process down.
      if (this.listenerCount('error') > 0) this.emit('error', error);
    }
  }
}

/**
 * Pending lists as rows of `pending(list, id, score)`: the primary key makes an add idempotent (INSERT OR
 * IGNORE keeps the first score), the `(list, score, id)` index serves the ordered reads, so every call costs
 * O(log n) whatever the backlog. Each statement is its own transaction, written under the file's WAL and
 * `synchronous = FULL`.
 */
export class SqlitePendingSets implements PendingSets {
  readonly #statements: {
    add: Database.Statement<[string, string, number]>;
    remove: Database.Statement<[string, string]>;
    all: Database.Statement<[string], { id: string }>;
    head: Database.Statement<[string, number], { id: string }>;
    size: Database.Statement<[string], { n: number }>;
    oldest: Database.Statement<[string], PendingEntry>;
  };

  readonly #writes: GroupCommit;

  constructor(db: Database.Database, writes: GroupCommit) {
    this.#writes = writes;
    db.exec(`
      CREATE TABLE IF NOT EXISTS pending (
        list TEXT NOT NULL, id TEXT NOT NULL, score REAL NOT NULL, PRIMARY KEY (list, id)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS pending_by_score ON pending (list, score, id);
    `);
    this.#statements = {
      add: db.prepare('INSERT OR IGNORE INTO pending (list, id, score) VALUES (?, ?, ?)'),
      remove: db.prepare('DELETE FROM pending WHERE list = ? AND id = ?'),
      all: db.prepare('SELECT id FROM pending WHERE list = ? ORDER BY score, id'),
      head: db.prepare('SELECT id FROM pending WHERE list = ? ORDER BY score, id LIMIT ?'),
      size: db.prepare('SELECT count(*) AS n FROM pending WHERE list = ?'),
      oldest: db.prepare('SELECT id, score FROM pending WHERE list = ? ORDER BY score, id LIMIT 1'),
    };
  }

  add(list: string, id: string, score: number): Promise<boolean> {
    return this.#writes.run(() => this.addNow(list, id, score));
  }

  /** `add` within a write of the group commit that is running now. */
  addNow(list: string, id: string, score: number): boolean {
    return this.#statements.add.run(list, id, score).changes > 0;
  }

  remove(list: string, id: string): Promise<boolean> {
    return this.#writes.run(() => this.#statements.remove.run(list, id).changes > 0);
  }

  ids(list: string, limit?: number): string[] {
    const rows = limit === undefined ? this.#statements.all.all(list) : this.#statements.head.all(list, limit);
    return rows.map((row) => row.id);
  }

  size(list: string): number {
    return this.#statements.size.get(list)?.n ?? 0;
  }

  oldest(list: string): PendingEntry | undefined {
    const row = this.#statements.oldest.get(list);
    return row && { id: row.id, score: row.score };
  }
}
