import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/adapters/store/create-store.js';
import { HOME_RECENT_SENDS } from '../../src/core/home-feed.js';
import { homeSendsKey } from '../../src/core/store-keys.js';
import { FakeWaping } from '../support/fake-waping.js';
import { ManualClock, RecordingNotifier } from '../support/fakes.js';
import { wireTestServices } from '../support/services.js';
import { notingCalls } from '../support/store-calls.js';

describe('HomeFeed: a person’s recent sends', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'waping-home-feed-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps a busy sender’s list short without every concurrent claim walking the whole excess', async () => {
    const backend = await createStore({ url: 'memory://', dataDir });
    const calls: string[] = [];
    const store = notingCalls(backend, calls);
    const clock = new ManualClock();
    const services = wireTestServices({
      store,
      waping: new FakeWaping({ clock }),
      notifier: new RecordingNotifier(),
      clock,
    });
    const claims = 200;
    // As many claims at once as a load of form submissions makes: each lists its send in the Home.
    await Promise.all(
      Array.from({ length: claims }, (_, i) => services.home.remember('U0BUSY', `key-${i}`, clock.now() + i)),
    );
    await services.idle();
    // At most one removal per claim: the old code let each of them remove the excess it saw (about 20,000 here).
    expect(calls.filter((call) => call.startsWith('pendingRemove ')).length).toBeLessThanOrEqual(claims);
    const listed = await store.pendingSize(homeSendsKey('U0BUSY'));
    expect(listed).toBeGreaterThanOrEqual(HOME_RECENT_SENDS);
    expect(listed).toBeLessThan(2 * HOME_RECENT_SENDS);
    await backend.close();
  });
});
