/*
 * `npm run bench` (also `tsx bench/pending-ops.ts` alone): prints numbers, asserts nothing.
 *
 * What one enqueue + dequeue costs (an id added to a pending list, then removed, as a send goes through the
 * outbox) with 0 and with 10,000 ids already pending, on the memory, embedded SQLite and Redis stores:
 * - old: the list as one JSON array rewritten by `update` (compare-and-set), as PendingIndex kept it before;
 * - new: PendingIndex over the store's pending lists (a Map of Maps, an indexed SQLite table, a sorted set).
 * Shown as µs per enqueue + dequeue and as ratios (10,000 pending ÷ none; old ÷ new), measured in the same run.
 *
 * Redis: REDIS_URL, else redis://127.0.0.1:6379 when it answers, else a throwaway redis-server when one is
 * installed; otherwise the Redis rows are skipped with a note. Everything runs in this one process, on loopback.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore } from '../src/adapters/store/create-store.js';
import { PendingIndex } from '../src/core/pending-index.js';
import { type Store, systemClock } from '../src/core/ports.js';
import { findRedis } from './find-redis.js';

const BACKLOGS = [0, 10_000];
const WARMUP_MS = 300;
const MEASURE_MS = 1_500;

/** One way of keeping a pending list: enqueue, dequeue, and filling it with a backlog first. */
interface Approach {
  name: string;
  fill(store: Store, list: string, ids: string[]): Promise<void>;
  /** Leaves nothing behind (a shared REDIS_URL keeps what a run writes). */
  clear(store: Store, list: string): Promise<void>;
  open(store: Store, list: string): { add(id: string): Promise<void>; remove(id: string): Promise<void> };
}

const approaches: Approach[] = [
  {
    name: 'old (JSON array)',
    fill: (store, list, ids) => store.set(list, ids),
    clear: async (store, list) => {
      await store.delete(list);
    },
    // PendingIndex's add and remove as they were before pending lists.
    open: (store, list) => ({
      add: async (id) => {
        await store.update<string[]>(list, (ids = []) => (ids.includes(id) ? undefined : [...ids, id]));
      },
      remove: async (id) => {
        await store.update<string[]>(list, (ids = []) => (ids.includes(id) ? ids.filter((i) => i !== id) : undefined));
      },
    }),
  },
  {
    name: 'new (pending list)',
    fill: async (store, list, ids) => {
      // 64 at a time: SQLite commits (and syncs) each add on its own, Redis answers them pipelined.
      for (let i = 0; i < ids.length; i += 64) {
        await Promise.all(ids.slice(i, i + 64).map((id, j) => store.pendingAdd(list, id, i + j)));
      }
    },
    clear: async (store, list) => {
      for (let ids = await store.pendingList(list, 512); ids.length > 0; ids = await store.pendingList(list, 512)) {
        await Promise.all(ids.map((id) => store.pendingRemove(list, id)));
      }
    },
    open: (store, list) => new PendingIndex(store, list, systemClock),
  },
];

/** Microseconds per enqueue + dequeue of a fresh id, one after the other, over `ms`. */
async function cycleMicros(index: ReturnType<Approach['open']>, ms: number): Promise<number> {
  let cycles = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    const id = `bench-${randomUUID()}`;
    await index.add(id);
    await index.remove(id);
    cycles++;
  }
  return ((performance.now() - start) * 1000) / cycles;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A plain-text table: the first `textColumns` columns left-aligned, numbers right-aligned. */
function table(header: string[], rows: string[][], textColumns = 2): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i < textColumns ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'waping-bench-pending-'));
  const redis = await findRedis();
  const run = randomUUID().slice(0, 8);
  const backends: Array<{ name: string; open: () => Promise<Store> }> = [
    { name: 'memory', open: () => createStore({ url: 'memory://', dataDir }) },
    { name: 'embedded SQLite', open: () => createStore({ dataDir }) },
  ];
  if ('url' in redis) {
    backends.push({ name: 'Redis', open: () => createStore({ url: redis.url, dataDir, namespace: `bench:${run}` }) });
  }

  const rows: string[][] = [];
  for (const backend of backends) {
    const store = await backend.open();
    const micros = new Map<string, number[]>();
    for (const approach of approaches) {
      const costs: number[] = [];
      for (const backlog of BACKLOGS) {
        const list = `bench:${run}:${approach.name.split(' ')[0]}:${backlog}`;
        await approach.fill(
          store,
          list,
          Array.from({ length: backlog }, (_, i) => `send-${randomUUID()}-${i}`),
        );
        const index = approach.open(store, list);
        await cycleMicros(index, WARMUP_MS);
        costs.push(await cycleMicros(index, MEASURE_MS));
        await approach.clear(store, list);
      }
      micros.set(approach.name, costs);
    }
    const newCosts = micros.get('new (pending list)') ?? [];
    for (const [name, costs] of micros) {
      const [empty = Number.NaN, full = Number.NaN] = costs;
      rows.push([
        backend.name,
        name,
        fmt(empty, 1),
        fmt(full, 1),
        `${fmt(full / empty, 2)}×`,
        `${fmt(full / (newCosts[1] ?? Number.NaN), 1)}×`,
      ]);
    }
    await store.close();
  }

  console.log('\nPending lists: one enqueue + dequeue (µs), with 0 and with 10,000 ids already pending\n');
  console.log(table(['store', 'approach', 'µs at 0', 'µs at 10,000', '10,000 ÷ 0', 'at 10,000: ÷ new'], rows));
  if ('skipped' in redis) console.log(`\nRedis skipped: ${redis.skipped}.`);
  else console.log(`\nRedis: ${redis.url}${redis.server ? ' (throwaway redis-server started for this run)' : ''}.`);

  await ('server' in redis ? redis.server?.stop() : undefined);
  rmSync(dataDir, { recursive: true, force: true });
}

await main();
