import type { Clock, Store } from './ports.js';

/**
 * A list of ids whose records still need work (the outbox, the webhook inbox, pending groups), kept
 * as one value in the store so that every replica's sweep finds them.
 *
 * Ids are added just before their record is claimed, so a sweep may see an id whose record is not
 * written yet. Such an id is only dropped once its record has been missing for a grace period on
 * this replica: a record about to be written is never dropped, a dangling id (a crash between the
 * two writes) is.
 */
export class PendingIndex {
  private readonly missingSince = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly key: string,
    private readonly clock: Clock,
    private readonly graceMs = 60_000,
  ) {}

  async add(id: string): Promise<void> {
    await this.store.update<string[]>(this.key, (ids = []) => (ids.includes(id) ? undefined : [...ids, id]));
  }

  async remove(id: string): Promise<void> {
    this.missingSince.delete(id);
    await this.store.update<string[]>(this.key, (ids = []) =>
      ids.includes(id) ? ids.filter((i) => i !== id) : undefined,
    );
  }

  async list(): Promise<string[]> {
    return (await this.store.get<string[]>(this.key)) ?? [];
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
}
