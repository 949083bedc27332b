import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/adapters/store/create-store.js';
import { FakeWaping } from '../support/fake-waping.js';
import { RecordingNotifier } from '../support/fakes.js';
import { wireTestServices } from '../support/services.js';
import { notingCalls } from '../support/store-calls.js';

describe('MessageSync: sync targets left behind', () => {
  it('are read from the JSON array an older version kept under sync:behind, and cleared once synced', async () => {
    const store = await createStore({ url: 'memory://', dataDir: '/nonexistent' });
    const notifier = new RecordingNotifier();
    const { sync, background } = wireTestServices({
      store,
      waping: new FakeWaping(),
      notifier,
      clock: { now: () => 1_700_000_000_000, sleep: async () => {} },
    });
    await store.set('sync:behind', ['send-key-1', 'group:g1']);
    expect(await sync.resumeBehind()).toBe(2);
    await background.idle();
    expect(await store.pendingList('sync:behind')).toEqual([]);
    expect(await store.get('sync:behind')).toEqual([]);
    expect(notifier.calls).toEqual([]); // neither target has a record to show
    await store.close();
  });
});

describe('MessageSync: the lock on a target', () => {
  it('is taken and released in one store call each', async () => {
    const backend = await createStore({ url: 'memory://', dataDir: '/nonexistent' });
    const calls: string[] = [];
    const { sync } = wireTestServices({
      store: notingCalls(backend, calls),
      waping: new FakeWaping(),
      notifier: new RecordingNotifier(),
      clock: { now: () => 1_700_000_000_000, sleep: async () => {} },
    });
    await sync.sync('send-key-1');
    expect(calls.filter((call) => call.includes('sync-lock:'))).toEqual([
      'claim sync-lock:send-key-1',
      'deleteIf sync-lock:send-key-1',
    ]);
    expect(await backend.get('sync-lock:send-key-1')).toBeUndefined();
    await backend.close();
  });

  it('is left to the replica that took it over once the lease ran out while this one worked', async () => {
    const backend = await createStore({ url: 'memory://', dataDir: '/nonexistent' });
    // The lease runs out as soon as it is taken, and another replica takes the lock over.
    const store = new Proxy(backend, {
      get(target, property) {
        const member = Reflect.get(target, property);
        if (property !== 'claim') return typeof member === 'function' ? member.bind(target) : member;
        return async (key: string, value: unknown, ttlMs?: number) => {
          const claim = await target.claim(key, value, ttlMs);
          if (key.startsWith('sync-lock:')) await target.set(key, 'bot-2:lock', ttlMs);
          return claim;
        };
      },
    });
    const { sync } = wireTestServices({
      store,
      waping: new FakeWaping(),
      notifier: new RecordingNotifier(),
      clock: { now: () => 1_700_000_000_000, sleep: async () => {} },
    });
    await sync.sync('send-key-1');
    expect(await backend.get('sync-lock:send-key-1')).toBe('bot-2:lock');
    await backend.close();
  });
});
