/*
 * `npx tsx bench/sweep-cost.ts [count…]`: what one sweep of the webhook inbox costs with 0 and with N events for
 * messages this bot never sent (default 12,000), on the memory and embedded SQLite stores. Prints numbers, asserts
 * nothing. Each row: the events are recorded and applied as the webhook route does, then one sweep
 * (`resumeInbox` and the work it starts) is measured: store operations, CPU time, peak heap growth (sampled every
 * millisecond; run with `node --expose-gc --import tsx` for a clean baseline). The embedded store fsyncs each write,
 * so filling it with 12,000 events takes minutes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createStore } from '../src/adapters/store/create-store.js';
import { BackgroundWork } from '../src/core/background.js';
import { DeliveryService } from '../src/core/deliveries.js';
import { DeviceHealth } from '../src/core/device-health.js';
import { MessageSync } from '../src/core/message-sync.js';
import { type SendNotifier, type Store, systemClock } from '../src/core/ports.js';
import { createLogger } from '../src/logger.js';

/** `store`, counting every call. */
function counted(store: Store): { store: Store; ops: () => number } {
  let ops = 0;
  const count = <T>(call: () => Promise<T>) => {
    ops++;
    return call();
  };
  return {
    ops: () => ops,
    store: {
      get: (key) => count(() => store.get(key)),
      set: (key, value, ttlMs) => count(() => store.set(key, value, ttlMs)),
      delete: (key) => count(() => store.delete(key)),
      deleteIf: (key, value) => count(() => store.deleteIf(key, value)),
      claim: (key, value, ttlMs) => count(() => store.claim(key, value, ttlMs)),
      update: (key, change, ttlMs) => count(() => store.update(key, change, ttlMs)),
      claimAll: (claims, pending) => count(() => store.claimAll(claims, pending)),
      increment: (key) => count(() => store.increment(key)),
      pendingAdd: (list, id, score) => count(() => store.pendingAdd(list, id, score)),
      pendingRemove: (list, id) => count(() => store.pendingRemove(list, id)),
      pendingList: (list, limit) => count(() => store.pendingList(list, limit)),
      pendingSize: (list) => count(() => store.pendingSize(list)),
      pendingOldest: (list) => count(() => store.pendingOldest(list)),
      ping: () => count(() => store.ping()),
      close: () => store.close(),
    },
  };
}

async function sweepCost(kind: 'memory' | 'embedded', unknownEvents: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'waping-bench-sweep-'));
  const backend = await createStore({ url: kind === 'memory' ? 'memory://' : undefined, dataDir });
  const { store, ops } = counted(backend);
  const logger = createLogger('info', new Writable({ write: (_chunk, _encoding, done) => done() }));
  const notifier = {} as SendNotifier; // never reached: none of these events names a send of ours
  const clock = systemClock;
  const background = new BackgroundWork(logger);
  const sync = new MessageSync({ store, notifier, background, clock, logger, instanceId: 'bench', lockMs: 60_000 });
  const health = new DeviceHealth({ store, notifier, clock, logger, nameOf: async (id) => id });
  const deliveries = new DeliveryService({ store, sync, background, health, clock, logger, replyMode: () => 'all' });
  try {
    const fillStart = performance.now();
    for (let i = 0; i < unknownEvents; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, unknownEvents - i) }, async (_, j) => {
          const id = `evt_foreign_${i + j}`;
          await deliveries.record(id, { kind: 'message', messageId: `msg_foreign_${i + j}`, status: 'read', at: 0 });
          await deliveries.apply(id);
        }),
      );
    }
    const fillMs = performance.now() - fillStart;
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const sample = () => {
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    };
    const sampler = setInterval(sample, 1);
    const opsBefore = ops();
    const cpu = process.cpuUsage();
    const reapplied = await deliveries.resumeInbox();
    sample();
    await background.idle();
    const used = process.cpuUsage(cpu);
    clearInterval(sampler);
    return {
      reapplied,
      ops: ops() - opsBefore,
      cpuMs: (used.user + used.system) / 1000,
      heapMb: Math.max(0, heapPeak - heapBefore) / 1e6,
      fillS: fillMs / 1000,
    };
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const counts = process.argv.slice(2).map(Number);
const sizes = counts.length > 0 ? counts : [0, 12_000];
console.log('store     unknown events  re-applied  store ops  CPU ms  peak heap MB  fill s');
for (const kind of ['memory', 'embedded'] as const) {
  for (const n of sizes) {
    const r = await sweepCost(kind, n);
    console.log(
      `${kind.padEnd(8)}  ${String(n).padStart(14)}  ${String(r.reapplied).padStart(10)}  ${String(r.ops).padStart(9)}` +
        `  ${r.cpuMs.toFixed(0).padStart(6)}  ${r.heapMb.toFixed(1).padStart(12)}  ${r.fillS.toFixed(1).padStart(6)}`,
    );
  }
}
