import type { ClaimRequest, Claims, Clock, PendingEntry, Store } from './ports.js';

/**
 * A list of ids whose records still need work (the outbox, the webhook inbox, pending groups), kept as one
 * of the store's pending lists so that every replica's sweep finds them. Each id is scored with the time it
 * was first added, so the list reads oldest first, and adding or removing one id costs the same however
 * many are pending.
 *
 * Ids are added just before their record is claimed, so a sweep may see an id whose record is not
 * written yet. Such an id is only dropped once its record has been missing for a grace period on
 * this replica: a record about to be written is never dropped, a dangling id (a crash between the
 * two writes) is.
 *
 * Earlier versions kept the list as one JSON array under the same key. Its ids are moved into the pending
 * list on first use and again by every `list()`, so replicas of an older version that still write the array
 * during a rolling upgrade lose nothing.
 */
export class PendingIndex {
  private readonly missingSince = new Map<string, number>();
  private migrated: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly key: string,
    private readonly clock: Clock,
    private readonly graceMs = 60_000,
  ) {}

  /** Add `id` unless it is there; it keeps its place (its first enqueue time). */
  async add(id: string): Promise<void> {
    await this.firstUse();
    await this.store.pendingAdd(this.key, id, this.clock.now());
  }

  /**
   * Claim the records in `claims` and add `id` as one atomic step, in one round trip (`Store.claimAll`): every
   * record claimed with `id` added, or nothing written when one of them was there already.
   */
  async addClaiming(id: string, claims: readonly ClaimRequest[]): Promise<Claims> {
    await this.firstUse();
    return this.store.claimAll(claims, [{ list: this.key, id, score: this.clock.now() }]);
  }

  /** Take `id` off the list (its work is done). */
  async remove(id: string): Promise<void> {
    this.missingSince.delete(id);
    await this.firstUse();
    await this.store.pendingRemove(this.key, id);
  }

  /**
   * Every id, oldest first. Not bounded: the callers count it (the backlog metric) and walk all of it (a
   * send waiting out its backoff stays at the head, so a bounded head would starve the ids behind it).
   */
  async list(): Promise<string[]> {
    await this.moveLegacyIds();
    return this.store.pendingList(this.key);
  }

  /** How many ids are pending. */
  async size(): Promise<number> {
    await this.firstUse();
    return this.store.pendingSize(this.key);
  }

  /** The id pending the longest, with the time it was added; undefined when none is. */
  async oldest(): Promise<PendingEntry | undefined> {
    await this.firstUse();
    return this.store.pendingOldest(this.key);
  }

  /** Each id whose record `load` finds, with that record; an id whose record stays missing is dropped. */
  async *withRecords<T>(load: (id: string) => Promise<T | undefined>): AsyncGenerator<[string, T]> {
    for (const id of await this.list()) {
      const record = await load(id);
      if (record === undefined) {
        await this.recordMissing(id);
        continue;
      }
      this.recordFound(id);
      yield [id, record];
    }
  }

  /** The record behind `id` was not found: drop the id once it has stayed missing for the grace period. */
  async recordMissing(id: string): Promise<void> {
    const since = this.missingSince.get(id);
    if (since === undefined) {
      this.missingSince.set(id, this.clock.now());
      return;
    }
    if (this.clock.now() - since >= this.graceMs) await this.remove(id);
  }

  /** The record behind `id` was found: forget any earlier suspicion. */
  recordFound(id: string): void {
    this.missingSince.delete(id);
  }

  /** Moves the legacy array's ids once per instance (retried after a failure). */
  private firstUse(): Promise<void> {
    this.migrated ??= this.moveLegacyIds().catch((error: unknown) => {
      this.migrated = undefined;
      throw error;
    });
    return this.migrated;
  }

  /**
   * Moves the ids of the legacy JSON array, if the key holds one, into the pending list, keeping their order
   * (scored just before now), then takes exactly those ids out of the array. The array is left empty rather
   * than deleted: a delete could drop an id an older replica appended in between.
   */
  private async moveLegacyIds(): Promise<void> {
    const legacy = await this.store.get<unknown>(this.key);
    if (!Array.isArray(legacy) || legacy.length === 0) return;
    const ids = legacy.filter((id): id is string => typeof id === 'string' && id !== '');
    const now = this.clock.now();
    for (const [i, id] of ids.entries()) await this.store.pendingAdd(this.key, id, now - ids.length + i);
    const moved = new Set<unknown>(legacy);
    await this.store.update<unknown[]>(this.key, (current) =>
      Array.isArray(current) && current.some((id) => moved.has(id))
        ? current.filter((id) => !moved.has(id))
        : undefined,
    );
  }
}
