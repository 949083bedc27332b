import type { Store } from '../../src/core/ports.js';

/** Lets `count` turns of the event loop pass, as a network call would. */
export async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A pause that cycles through `values` (turns of the event loop), one per call. */
export function latencies(values: number[]): () => Promise<void> {
  let calls = 0;
  return () => turns(values[calls++ % values.length] ?? 0);
}

/** `store`, with each call starting after `pause`, as over a network: widens the races property tests look for. */
export function slowed(store: Store, pause: () => Promise<void>): Store {
  const later = async <T>(call: () => Promise<T>): Promise<T> => {
    await pause();
    return call();
  };
  return {
    get: (key) => later(() => store.get(key)),
    set: (key, value, ttlMs) => later(() => store.set(key, value, ttlMs)),
    delete: (key) => later(() => store.delete(key)),
    deleteIf: (key, value) => later(() => store.deleteIf(key, value)),
    claim: (key, value, ttlMs) => later(() => store.claim(key, value, ttlMs)),
    update: (key, change, ttlMs) => later(() => store.update(key, change, ttlMs)),
    claimAll: (claims, pending) => later(() => store.claimAll(claims, pending)),
    increment: (key) => later(() => store.increment(key)),
    pendingAdd: (list, id, score) => later(() => store.pendingAdd(list, id, score)),
    pendingRemove: (list, id) => later(() => store.pendingRemove(list, id)),
    pendingList: (list, limit) => later(() => store.pendingList(list, limit)),
    pendingSize: (list) => later(() => store.pendingSize(list)),
    pendingOldest: (list) => later(() => store.pendingOldest(list)),
    ping: () => later(() => store.ping()),
    close: () => store.close(),
  };
}
