import type { Keyv } from 'keyv';
import type { Claim, PendingEntry, Store } from '../../core/ports.js';
import {
  assertStorable,
  checkedLimit,
  checkedList,
  checkedPending,
  checkedTtl,
  StoreClosedError,
  StoreUnavailableError,
} from './errors.js';
import { MemoryPendingSets, type PendingSets } from './pending-sets.js';

/**
 * One promise chain per key: whoever holds a key runs alone, the others queue in arrival order. A key's
 * entry is dropped as soon as nobody holds or waits for it, so the map stays as small as the traffic.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  get size(): number {
    return this.#tails.size;
  }

  async run<T>(key: string, critical: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await critical();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/**
 * A Store over any Keyv instance whose backend lives in this process (Keyv's in-memory Map, the embedded
 * SQLite file). `claim` and `update` are atomic through an in-process per-key mutex, which is enough only
 * because no other process writes the same backend; several replicas need RedisStore.
 *
 * `update` without a ttl keeps the remaining life of the value it replaces, as Redis's KEEPTTL does.
 *
 * Pending lists bypass Keyv, whose key-value interface cannot order or count: they live in `pending`, else in
 * the backend's own (the embedded file's `pending` table), else in memory.
 */
export class KeyvStore implements Store {
  readonly #keyv: Keyv;
  readonly #pending: PendingSets;
  readonly #locks = new KeyedMutex();
  #closed = false;

  constructor(keyv: Keyv, pending?: PendingSets) {
    // Keyv swallows backend errors by default (get resolves undefined, set resolves false): a caller
    // must be able to tell "absent" from "the store is broken".
    keyv.throwOnErrors = true;
    this.#keyv = keyv;
    // A backend with pending lists of its own (the SQLite file) keeps them durable beside its keys.
    this.#pending = pending ?? (keyv.store as { pendingSets?: PendingSets }).pendingSets ?? new MemoryPendingSets();
  }

  /** Keys currently locked or waited on; zero when idle. For diagnostics and tests. */
  get lockedKeyCount(): number {
    return this.#locks.size;
  }

  async get<T>(key: string): Promise<T | undefined> {
    this.#assertOpen();
    return this.#backend(() => this.#keyv.get<T>(key));
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    this.#assertOpen();
    const ttl = checkedTtl(ttlMs);
    assertStorable(key, value);
    await this.#locks.run(key, () => this.#backend(() => this.#keyv.set(key, value, ttl)));
  }

  async delete(key: string): Promise<boolean> {
    this.#assertOpen();
    return this.#locks.run(key, () =>
      this.#backend(async () => {
        // The backends may still hold an expired entry; only a live one counts as "something removed".
        const existed = await this.#keyv.has(key);
        await this.#keyv.delete(key);
        return existed;
      }),
    );
  }

  async claim<T>(key: string, value: T, ttlMs?: number): Promise<Claim<T>> {
    this.#assertOpen();
    const ttl = checkedTtl(ttlMs);
    assertStorable(key, value);
    return this.#locks.run(key, () =>
      this.#backend(async (): Promise<Claim<T>> => {
        const existing = await this.#keyv.get<T>(key);
        if (existing !== undefined) return { claimed: false, value: existing };
        await this.#keyv.set(key, value, ttl);
        return { claimed: true, value };
      }),
    );
  }

  async update<T>(
    key: string,
    change: (current: T | undefined) => T | undefined,
    ttlMs?: number,
  ): Promise<T | undefined> {
    this.#assertOpen();
    const ttl = checkedTtl(ttlMs);
    return this.#locks.run(key, async () => {
      const raw = await this.#backend(() => this.#keyv.getRaw<T>(key));
      const current = raw?.value;
      const next = change(current);
      if (next === undefined) return current;
      assertStorable(key, next);
      const keptTtl = typeof raw?.expires === 'number' ? Math.max(1, raw.expires - Date.now()) : undefined;
      await this.#backend(() => this.#keyv.set(key, next, ttl ?? keptTtl));
      return next;
    });
  }

  async pendingAdd(list: string, id: string, score?: number): Promise<boolean> {
    this.#assertOpen();
    const chosen = checkedPending(list, id, score);
    return this.#backend(async () => this.#pending.add(list, id, chosen));
  }

  async pendingRemove(list: string, id: string): Promise<boolean> {
    this.#assertOpen();
    checkedPending(list, id, 0);
    return this.#backend(async () => this.#pending.remove(list, id));
  }

  async pendingList(list: string, limit?: number): Promise<string[]> {
    this.#assertOpen();
    checkedList(list);
    const bound = checkedLimit(limit);
    return this.#backend(async () => this.#pending.ids(list, bound));
  }

  async pendingSize(list: string): Promise<number> {
    this.#assertOpen();
    checkedList(list);
    return this.#backend(async () => this.#pending.size(list));
  }

  async pendingOldest(list: string): Promise<PendingEntry | undefined> {
    this.#assertOpen();
    checkedList(list);
    return this.#backend(async () => this.#pending.oldest(list));
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    // A read of one key through the backend: for the embedded store, proof that the file still answers.
    await this.#backend(() => this.#keyv.has('store:ping'));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#keyv.disconnect();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  async #backend<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new StoreUnavailableError(`The store's backend failed: ${(error as Error)?.message ?? error}`, {
        cause: error,
      });
    }
  }
}
