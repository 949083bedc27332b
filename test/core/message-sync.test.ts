import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/adapters/store/create-store.js';
import { FakeWaping } from '../support/fake-waping.js';
import { RecordingNotifier } from '../support/fakes.js';
import { wireTestServices } from '../support/services.js';

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
