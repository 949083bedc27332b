import type { Keyv } from 'keyv';
import type { Claim, ClaimRequest, Claims, PendingAdd, PendingEntry, Store } from '../../core/ports.js';
import {
  assertStorable,
  type CheckedClaims,
  checkedClaims,
  checkedLimit,
  checkedList,
  checkedPending,
  checkedTtl,
  StoreClosedError,
  StoreUnavailableError,
} from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { ClaimRow, ConditionalDeletes, TransactionalClaims } from './keyv-backend.js';
import { MemoryPendingSets, type PendingSets } from './pending-sets.js';

/**
 * A Store over any Keyv instance whose backend lives in this process (Keyv's in-memory Map, the embedded
 * SQLite file). `claim`, `update` and `deleteIf` are atomic through an in-process per-key mutex, which is enough
 * only because no other process writes the same backend; several replicas need RedisStore. (The file's `claimAll`
 * and `deleteIf` hold even against a second handle: one transaction, and a DELETE of the exact row text compared.)
 *
 * `update` without a ttl keeps the remaining life of the value it replaces, as Redis's KEEPTTL does.
 *
 * Pending lists bypass Keyv, whose key-value interface cannot order or count: they live in `pending`, else in
 * the backend's own (the embedded file's `pending` table), else in memory.
 */
export class KeyvStore implements Store {
  readonly #keyv: Keyv;
  readonly #pending: PendingSets;
  readonly #transactional: TransactionalClaims | undefined;
  readonly #conditional: ConditionalDeletes | undefined;
  readonly #locks = new KeyedMutex();
  #closed = false;

  constructor(keyv: Keyv, pending?: PendingSets) {
    // Keyv swallows backend errors by default (get resolves undefined, set resolves false): a caller
    // must be able to tell "absent" from "the store is broken".
    keyv.throwOnErrors = true;
    this.#keyv = keyv;
    // A backend with pending lists of its own (the SQLite file) keeps them durable beside its keys.
    const backend = keyv.store as Partial<TransactionalClaims & ConditionalDeletes> & { pendingSets?: PendingSets };
    this.#pending = pending ?? backend.pendingSets ?? new MemoryPendingSets();
    // One transaction can hold the claims and the pending ids only when both live in the backend's file.
    this.#transactional =
      typeof backend.claimAll === 'function' && this.#pending === backend.pendingSets
        ? (backend as TransactionalClaims)
        : undefined;
    this.#conditional = typeof backend.deleteIfText === 'function' ? (backend as ConditionalDeletes) : undefined;
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

  async deleteIf<T>(key: string, value: T): Promise<boolean> {
    this.#assertOpen();
    assertStorable(key, value);
    const expected = JSON.stringify(value);
    const conditional = this.#conditional;
    // The key's lock keeps this process's own writes out between the comparison and the removal.
    return this.#locks.run(key, () =>
      this.#backend(async () => {
        if (!conditional) return JSON.stringify(await this.#keyv.get(key)) === expected && this.#keyv.delete(key);
        // A second handle on the file may write in between: the row goes only if it still holds the text compared.
        for (;;) {
          const text = await conditional.get(key);
          if (typeof text !== 'string') return false;
          if (JSON.stringify((await this.#keyv.deserializeData(text))?.value) !== expected) return false;
          if (await conditional.deleteIfText(key, text)) return true;
        }
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

  async claimAll(claims: readonly ClaimRequest[], pending: readonly PendingAdd[] = []): Promise<Claims> {
    this.#assertOpen();
    const checked = checkedClaims(claims, pending);
    const keys = checked.claims.map((claim) => claim.key);
    // The keys' locks keep out claim, set and update of the same keys, which read and write them in separate steps.
    return this.#locks.runAll(keys, () =>
      this.#backend(async (): Promise<Claims> => {
        if (this.#transactional) return this.#claimInTransaction(this.#transactional, checked);
        const values = await Promise.all(keys.map((key) => this.#keyv.get(key)));
        if (values.some((value) => value !== undefined)) return { claimed: false, values };
        for (const { key, value, ttl } of checked.claims) await this.#keyv.set(key, value, ttl);
        for (const { list, id, score } of checked.pending) await this.#pending.add(list, id, score);
        return { claimed: true };
      }),
    );
  }

  async increment(key: string): Promise<number> {
    // update() is atomic here: only this process writes the backend, and the key's lock serialises it.
    const next = await this.update<number>(key, (current = 0) => current + 1);
    return next as number;
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

  /** The claims as rows in Keyv's own format (so get() reads them back), written by the backend in one transaction. */
  async #claimInTransaction(backend: TransactionalClaims, checked: CheckedClaims): Promise<Claims> {
    const rows: ClaimRow[] = [];
    for (const { key, value, ttl } of checked.claims) {
      const expires = ttl === undefined ? undefined : Date.now() + ttl;
      rows.push({
        key,
        text: (await this.#keyv.serializeData({ value, expires })) as string,
        expires: expires ?? null,
      });
    }
    const held = await backend.claimAll(rows, checked.pending);
    if (held === undefined) return { claimed: true };
    const values = await Promise.all(
      held.map(async (text) => (text === undefined ? undefined : (await this.#keyv.deserializeData(text))?.value)),
    );
    return { claimed: false, values };
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
