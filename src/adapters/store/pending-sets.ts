import type { PendingEntry } from '../../core/ports.js';

/**
 * Where an in-process store keeps its pending lists: the embedded SQLite file's `pending` table, or memory.
 * Each call is atomic within the one process that owns the backend (the file's writes resolve once committed).
 * Arguments are checked by the store before they get here.
 */
export interface PendingSets {
  /** Add unless present (the first score stays); true when added. */
  add(list: string, id: string, score: number): boolean | Promise<boolean>;
  /** Remove; true when it was there. */
  remove(list: string, id: string): boolean | Promise<boolean>;
  /** Ids by score, then id; at most `limit` when given. */
  ids(list: string, limit?: number): string[];
  /** How many ids the list holds. */
  size(list: string): number;
  /** The entry with the lowest score (then id). */
  oldest(list: string): PendingEntry | undefined;
}

/** Code-unit order, as SQLite's BINARY collation and Redis's member order sort ASCII ids. */
function byScoreThenId(a: [string, number], b: [string, number]): number {
  return a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

interface MemoryList {
  entries: Map<string, number>;
  /** Whether `entries` iterates in score order. Adds are usually in enqueue-time order, so it mostly stays so. */
  ordered: boolean;
  last?: [string, number];
}

/**
 * Pending lists in a Map of Maps. A Map iterates in insertion order, and ids are mostly added in score order
 * (their enqueue time), so adding and removing are O(1) and the list is only re-sorted after an id arrived
 * out of order.
 */
export class MemoryPendingSets implements PendingSets {
  readonly #lists = new Map<string, MemoryList>();

  add(list: string, id: string, score: number): boolean {
    let found = this.#lists.get(list);
    if (!found) {
      found = { entries: new Map(), ordered: true };
      this.#lists.set(list, found);
    }
    if (found.entries.has(id)) return false;
    const entry: [string, number] = [id, score];
    if (found.last && byScoreThenId(found.last, entry) > 0) found.ordered = false;
    else found.last = entry;
    found.entries.set(id, score);
    return true;
  }

  remove(list: string, id: string): boolean {
    const found = this.#lists.get(list);
    if (!found?.entries.delete(id)) return false;
    if (found.entries.size === 0) this.#lists.delete(list);
    return true;
  }

  ids(list: string, limit?: number): string[] {
    const ids: string[] = [];
    for (const [id] of this.#sorted(list)) {
      if (limit !== undefined && ids.length >= limit) break;
      ids.push(id);
    }
    return ids;
  }

  size(list: string): number {
    return this.#lists.get(list)?.entries.size ?? 0;
  }

  oldest(list: string): PendingEntry | undefined {
    for (const [id, score] of this.#sorted(list)) return { id, score };
    return undefined;
  }

  #sorted(list: string): Map<string, number> {
    const found = this.#lists.get(list);
    if (!found) return new Map();
    if (!found.ordered) {
      const entries = [...found.entries].sort(byScoreThenId);
      found.entries = new Map(entries);
      found.ordered = true;
      found.last = entries.at(-1);
    }
    return found.entries;
  }
}
