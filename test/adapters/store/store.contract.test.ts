import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Keyv } from 'keyv';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStore } from '../../../src/adapters/store/create-store.js';
import { StoreError, StoreUnavailableError } from '../../../src/adapters/store/errors.js';
import { KeyvStore } from '../../../src/adapters/store/keyv-store.js';
import { RedisStore } from '../../../src/adapters/store/redis-store.js';
import { SqliteAdapter } from '../../../src/adapters/store/sqlite-adapter.js';
import { PendingIndex } from '../../../src/core/pending-index.js';
import type { Clock, Store } from '../../../src/core/ports.js';
import { type RedisServer, startRedisServer, testRedisUrl, uniqueNamespace } from '../../support/redis.js';

const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'store-contract-'));
  tempDirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Backend {
  name: string;
  open(): Promise<Store>;
  /**
   * Two stores over one backend, as two replicas (Redis: one namespace) or two handles on one file (SQLite)
   * see it; the memory store cannot be shared, so both are the same instance.
   */
  openPair(): Promise<[Store, Store]>;
}

const backends: Backend[] = [
  {
    name: 'memory',
    open: async () => createStore({ url: 'memory://', dataDir: await tempDir() }),
    openPair: async () => {
      const store = await createStore({ url: 'memory://', dataDir: await tempDir() });
      return [store, store];
    },
  },
  {
    name: 'embedded SQLite',
    open: async () => createStore({ dataDir: await tempDir() }),
    openPair: async () => {
      const dataDir = await tempDir();
      return [await createStore({ dataDir }), await createStore({ dataDir })];
    },
  },
  {
    name: 'Redis',
    open: () => createStore({ url: testRedisUrl(), dataDir: '/nonexistent', namespace: uniqueNamespace('contract') }),
    openPair: async () => {
      const namespace = uniqueNamespace('contract-pair');
      const open = () => createStore({ url: testRedisUrl(), dataDir: '/nonexistent', namespace });
      return [await open(), await open()];
    },
  },
];

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

const increment = (current: number | undefined) => (current ?? 0) + 1;

describe.each(backends)('the $name store', ({ open }) => {
  let store: Store;

  beforeEach(async () => {
    store = await open();
  });

  afterEach(async () => {
    await store.close();
  });

  it('returns undefined for a key that was never set', async () => {
    expect(await store.get('missing')).toBeUndefined();
  });

  it('gives back nested JSON exactly as it was set', async () => {
    const record = { id: 'send-1', to: ['+1', '+2'], meta: { attempts: 2, ok: true, note: null, text: ':colon' } };
    await store.set('record', record);
    expect(await store.get('record')).toEqual(record);
  });

  it('overwrites a value on a second set', async () => {
    await store.set('key', 'first');
    await store.set('key', 'second');
    expect(await store.get('key')).toBe('second');
  });

  it('forgets a value once its ttl has passed', async () => {
    await store.set('short', 'lived', 50);
    await store.set('long', 'lived', 60_000);
    expect(await store.get('short')).toBe('lived');
    await sleep(120);
    expect(await store.get('short')).toBeUndefined();
    expect(await store.get('long')).toBe('lived');
  });

  it('deletes a value and says whether there was one', async () => {
    await store.set('key', 1);
    expect(await store.delete('key')).toBe(true);
    expect(await store.get('key')).toBeUndefined();
    expect(await store.delete('key')).toBe(false);
  });

  it('does not count an expired value as deleted', async () => {
    await store.set('key', 1, 30);
    await sleep(80);
    expect(await store.delete('key')).toBe(false);
  });

  it('deletes a value with deleteIf only while it equals the value given', async () => {
    const lock = { holder: 'bot-1', token: 'a1', at: [1, 2] };
    await store.set('lock', lock);
    expect(await store.deleteIf('lock', { ...lock, token: 'b2' })).toBe(false);
    expect(await store.deleteIf('lock', 'bot-1')).toBe(false);
    expect(await store.get('lock')).toEqual(lock);
    expect(await store.deleteIf('lock', { holder: 'bot-1', token: 'a1', at: [1, 2] })).toBe(true);
    expect(await store.get('lock')).toBeUndefined();
    expect(await store.deleteIf('lock', lock)).toBe(false);
    expect(await store.deleteIf('never', lock)).toBe(false);
  });

  it('deletes with deleteIf what claim, claimAll, update and increment wrote, telling a number from its text', async () => {
    await store.claim('claimed', ':colon');
    expect(await store.deleteIf('claimed', ':colon')).toBe(true);
    await store.claimAll([{ key: 'all', value: { n: 1 } }]);
    expect(await store.deleteIf('all', { n: 1 })).toBe(true);
    await store.update('updated', increment);
    expect(await store.deleteIf('updated', '1')).toBe(false);
    expect(await store.deleteIf('updated', 1)).toBe(true);
    await store.increment('counted');
    expect(await store.deleteIf('counted', 1)).toBe(true);
    for (const key of ['claimed', 'all', 'updated', 'counted']) expect(await store.get(key)).toBeUndefined();
  });

  it('does not delete with deleteIf a value that expired, and refuses a value JSON cannot carry', async () => {
    await store.set('lock', 'token', 30);
    await sleep(80);
    expect(await store.deleteIf('lock', 'token')).toBe(false);
    await expect(store.deleteIf('lock', undefined)).rejects.toMatchObject({ code: 'STORE_INVALID_INPUT' });
  });

  it('deletes with exactly one of 20 concurrent deleteIfs of the same value, racing writes of others', async () => {
    await store.set('lock', 'mine');
    const outcomes = await Promise.all([
      ...Array.from({ length: 20 }, () => store.deleteIf('lock', 'mine')),
      store.claim('lock', 'theirs').then(() => false),
    ]);
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect(await store.get('lock')).toBe('theirs');
  });

  it('claims a free key once, then returns the original value to later claims', async () => {
    expect(await store.claim('key', { by: 'first' })).toEqual({ claimed: true, value: { by: 'first' } });
    expect(await store.claim('key', { by: 'second' })).toEqual({ claimed: false, value: { by: 'first' } });
    expect(await store.get('key')).toEqual({ by: 'first' });
  });

  it('lets a key be claimed again after its claim expired', async () => {
    await store.claim('key', 'first', 50);
    await sleep(120);
    expect(await store.claim('key', 'second')).toEqual({ claimed: true, value: 'second' });
  });

  it('grants exactly one of 50 concurrent claims on one key', async () => {
    const claims = await Promise.all(Array.from({ length: 50 }, (_, i) => store.claim('key', i)));
    const winners = claims.filter((claim) => claim.claimed);
    expect(winners).toHaveLength(1);
    for (const claim of claims) expect(claim.value).toBe(winners[0]?.value);
  });

  it('loses no increment among 100 concurrent updates', async () => {
    await Promise.all(Array.from({ length: 100 }, () => store.update('counter', increment)));
    expect(await store.get('counter')).toBe(100);
  });

  it('returns the value it stored from update', async () => {
    expect(await store.update('counter', increment)).toBe(1);
    expect(await store.update('counter', increment)).toBe(2);
  });

  it('leaves the value unchanged when the change returns undefined', async () => {
    await store.set('key', { state: 'sent' });
    const result = await store.update<{ state: string }>('key', () => undefined);
    expect(result).toEqual({ state: 'sent' });
    expect(await store.get('key')).toEqual({ state: 'sent' });
    expect(await store.update('absent', () => undefined)).toBeUndefined();
    expect(await store.get('absent')).toBeUndefined();
  });

  it('keeps the remaining ttl when update is given none', async () => {
    await store.set('key', 1, 100);
    await store.update('key', increment);
    expect(await store.get('key')).toBe(2);
    await sleep(200);
    expect(await store.get('key')).toBeUndefined();
  });

  it('applies the ttl update is given', async () => {
    await store.set('key', 1);
    await store.update('key', increment, 50);
    await sleep(120);
    expect(await store.get('key')).toBeUndefined();
  });

  it('refuses values JSON cannot carry and ttls that are not positive', async () => {
    await expect(store.set('key', undefined)).rejects.toMatchObject({ code: 'STORE_INVALID_INPUT' });
    await expect(store.set('key', 1, 0)).rejects.toMatchObject({ code: 'STORE_INVALID_INPUT' });
    await expect(store.claim('key', 1, -5)).rejects.toMatchObject({ code: 'STORE_INVALID_INPUT' });
  });

  it('answers a ping while its backend is there, and refuses one after close', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    store = await open();
  });

  it('refuses operations after close', async () => {
    await store.close();
    await expect(store.get('key')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    await expect(store.pendingAdd('outbox', 'a')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    await expect(store.pendingList('outbox')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    store = await open();
  });

  it('adds a pending id once and keeps the score it was first added with', async () => {
    expect(await store.pendingAdd('outbox', 'a', 200)).toBe(true);
    expect(await store.pendingAdd('outbox', 'b', 300)).toBe(true);
    expect(await store.pendingAdd('outbox', 'a', 400)).toBe(false);
    expect(await store.pendingSize('outbox')).toBe(2);
    expect(await store.pendingOldest('outbox')).toEqual({ id: 'a', score: 200 });
    expect(await store.pendingList('outbox')).toEqual(['a', 'b']);
  });

  it('scores a pending id with the current time when given no score', async () => {
    const before = Date.now();
    await store.pendingAdd('outbox', 'a');
    const oldest = await store.pendingOldest('outbox');
    expect(oldest?.id).toBe('a');
    expect(oldest?.score).toBeGreaterThanOrEqual(before);
    expect(oldest?.score).toBeLessThanOrEqual(Date.now());
  });

  it('lists pending ids lowest score first, ties by id, whatever order they were added in', async () => {
    const scores: Array<[string, number]> = [
      ['late', 1_700_000_000_900],
      ['early', 1_700_000_000_100],
      ['tie-b', 1_700_000_000_500],
      ['tie-a', 1_700_000_000_500],
      ['middle', 1_700_000_000_400.5],
    ];
    for (const [id, score] of scores) await store.pendingAdd('inbox', id, score);
    expect(await store.pendingList('inbox')).toEqual(['early', 'middle', 'tie-a', 'tie-b', 'late']);
    expect(await store.pendingOldest('inbox')).toEqual({ id: 'early', score: 1_700_000_000_100 });
  });

  it('lists at most the limit it is given, from the oldest', async () => {
    for (let i = 0; i < 30; i++) await store.pendingAdd('outbox', `id-${String(i).padStart(2, '0')}`, 1_000 + i);
    expect(await store.pendingList('outbox', 3)).toEqual(['id-00', 'id-01', 'id-02']);
    expect(await store.pendingList('outbox', 100)).toHaveLength(30);
    expect(await store.pendingList('outbox')).toHaveLength(30);
    await store.pendingRemove('outbox', 'id-00');
    expect(await store.pendingList('outbox', 2)).toEqual(['id-01', 'id-02']);
  });

  it('removes a pending id and says whether it was there', async () => {
    await store.pendingAdd('outbox', 'a', 1);
    await store.pendingAdd('outbox', 'b', 2);
    expect(await store.pendingRemove('outbox', 'a')).toBe(true);
    expect(await store.pendingRemove('outbox', 'a')).toBe(false);
    expect(await store.pendingRemove('never', 'a')).toBe(false);
    expect(await store.pendingList('outbox')).toEqual(['b']);
    expect(await store.pendingOldest('outbox')).toEqual({ id: 'b', score: 2 });
    await store.pendingRemove('outbox', 'b');
    expect(await store.pendingSize('outbox')).toBe(0);
    expect(await store.pendingOldest('outbox')).toBeUndefined();
    expect(await store.pendingList('outbox')).toEqual([]);
  });

  it('adds an id removed earlier again, with its new score', async () => {
    await store.pendingAdd('outbox', 'a', 1);
    await store.pendingAdd('outbox', 'b', 2);
    await store.pendingRemove('outbox', 'a');
    await store.pendingAdd('outbox', 'a', 3);
    expect(await store.pendingList('outbox')).toEqual(['b', 'a']);
  });

  it('keeps pending lists apart from each other and from the key of the same name', async () => {
    await store.set('outbox', ['legacy']);
    await store.pendingAdd('outbox', 'a', 1);
    await store.pendingAdd('inbox', 'b', 1);
    expect(await store.pendingList('outbox')).toEqual(['a']);
    expect(await store.pendingList('inbox')).toEqual(['b']);
    expect(await store.get('outbox')).toEqual(['legacy']);
    await store.delete('outbox');
    expect(await store.pendingList('outbox')).toEqual(['a']);
  });

  it('refuses empty pending ids and list names, scores that are not finite and limits that are not positive integers', async () => {
    await expect(store.pendingAdd('outbox', '')).rejects.toMatchObject({ code: 'STORE_INVALID_INPUT' });
    await expect(store.pendingAdd('', 'a')).rejects.toMatchObject({ code: 'STORE_INVALID_INPUT' });
    await expect(store.pendingAdd('outbox', 'a', Number.NaN)).rejects.toMatchObject({ code: 'STORE_INVALID_INPUT' });
    await expect(store.pendingAdd('outbox', 'a', Infinity)).rejects.toMatchObject({ code: 'STORE_INVALID_INPUT' });
    await expect(store.pendingList('outbox', 0)).rejects.toMatchObject({ code: 'STORE_INVALID_INPUT' });
    await expect(store.pendingList('outbox', 1.5)).rejects.toMatchObject({ code: 'STORE_INVALID_INPUT' });
    expect(await store.pendingSize('outbox')).toBe(0);
  });

  it('claims every key and adds every pending id in one claimAll when all keys are free', async () => {
    const outcome = await store.claimAll(
      [
        { key: 'a', value: { n: 1 }, ttlMs: 60_000 },
        { key: 'b', value: 'two' },
      ],
      [
        { list: 'inbox', id: 'a', score: 5 },
        { list: 'outbox', id: 'b' },
      ],
    );
    expect(outcome).toEqual({ claimed: true });
    expect(await store.get('a')).toEqual({ n: 1 });
    expect(await store.get('b')).toBe('two');
    expect(await store.pendingOldest('inbox')).toEqual({ id: 'a', score: 5 });
    expect(await store.pendingList('outbox')).toEqual(['b']);
    // The claimed keys are ordinary keys: claim, update and delete see them.
    expect(await store.claim('a', 'other')).toEqual({ claimed: false, value: { n: 1 } });
    expect(await store.update<string>('b', (b) => `${b}!`)).toBe('two!');
  });

  it('writes nothing in claimAll when one key is held, and says what each key holds', async () => {
    await store.set('held', { by: 'earlier' });
    const outcome = await store.claimAll(
      [
        { key: 'free', value: 1 },
        { key: 'held', value: 2 },
      ],
      [{ list: 'inbox', id: 'free' }],
    );
    expect(outcome).toEqual({ claimed: false, values: [undefined, { by: 'earlier' }] });
    expect(await store.get('free')).toBeUndefined();
    expect(await store.get('held')).toEqual({ by: 'earlier' });
    expect(await store.pendingSize('inbox')).toBe(0);
  });

  it('keeps the first score of a pending id that claimAll adds again', async () => {
    await store.pendingAdd('inbox', 'x', 1);
    expect(await store.claimAll([{ key: 'x', value: true }], [{ list: 'inbox', id: 'x', score: 9 }])).toEqual({
      claimed: true,
    });
    expect(await store.pendingOldest('inbox')).toEqual({ id: 'x', score: 1 });
  });

  it('lets claimAll claim a key again after it expired, and expires what it wrote with its ttl', async () => {
    await store.set('old', 'gone soon', 50);
    await store.claimAll([{ key: 'short', value: 'lived', ttlMs: 50 }]);
    await sleep(120);
    expect(await store.get('short')).toBeUndefined();
    expect(await store.claimAll([{ key: 'old', value: 'new' }])).toEqual({ claimed: true });
    expect(await store.get('old')).toBe('new');
  });

  it('refuses a claimAll without keys, with a key twice, or with a bad value, ttl or pending id', async () => {
    const invalid = { code: 'STORE_INVALID_INPUT' };
    await expect(store.claimAll([])).rejects.toMatchObject(invalid);
    await expect(
      store.claimAll([
        { key: 'k', value: 1 },
        { key: 'k', value: 2 },
      ]),
    ).rejects.toMatchObject(invalid);
    await expect(store.claimAll([{ key: 'k', value: undefined }])).rejects.toMatchObject(invalid);
    await expect(store.claimAll([{ key: 'k', value: 1, ttlMs: 0 }])).rejects.toMatchObject(invalid);
    await expect(store.claimAll([{ key: 'k', value: 1 }], [{ list: 'l', id: '' }])).rejects.toMatchObject(invalid);
    await expect(
      store.claimAll([{ key: 'k', value: 1 }], [{ list: 'l', id: 'i', score: Number.NaN }]),
    ).rejects.toMatchObject(invalid);
    expect(await store.get('k')).toBeUndefined();
  });

  it('grants exactly one of 50 concurrent claimAlls of one key, adding its pending id once', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.claimAll([{ key: 'webhook', value: { writer: i } }], [{ list: 'inbox', id: 'webhook', score: i }]),
      ),
    );
    const winners = outcomes.flatMap((outcome, i) => (outcome.claimed ? [i] : []));
    expect(winners).toHaveLength(1);
    const winner = { writer: winners[0] };
    for (const outcome of outcomes) if (!outcome.claimed) expect(outcome.values).toEqual([winner]);
    expect(await store.get('webhook')).toEqual(winner);
    expect(await store.pendingList('inbox')).toEqual(['webhook']);
    expect(await store.pendingOldest('inbox')).toEqual({ id: 'webhook', score: winners[0] });
  });

  it('never half-writes a claimAll raced against others sharing one of its keys, nor against claim', async () => {
    // Writer i claims keys i and i+1 (a ring of 20), and claim() races for each key as well: whoever wins a key
    // owns it, and a claimAll either owns both of its keys with its pending id added, or neither and no id.
    const n = 20;
    const [multi, single] = await Promise.all([
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          store.claimAll(
            [
              { key: `k${i}`, value: `multi-${i}` },
              { key: `k${(i + 1) % n}`, value: `multi-${i}` },
            ],
            [{ list: 'won', id: `multi-${i}` }],
          ),
        ),
      ),
      Promise.all(Array.from({ length: n }, (_, i) => store.claim(`k${i}`, `single-${i}`))),
    ]);
    const won = multi.flatMap((outcome, i) => (outcome.claimed ? [`multi-${i}`] : []));
    expect([...(await store.pendingList('won'))].sort()).toEqual([...won].sort());
    for (let i = 0; i < n; i++) {
      const owner = await store.get(`k${i}`);
      const mine = multi[i]?.claimed;
      const before = multi[(i + n - 1) % n]?.claimed;
      if (mine) expect([owner, await store.get(`k${(i + 1) % n}`)]).toEqual([`multi-${i}`, `multi-${i}`]);
      const byMulti = mine || before;
      expect(owner).toBe(byMulti ? (mine ? `multi-${i}` : `multi-${(i + n - 1) % n}`) : `single-${i}`);
      expect(single[i]?.claimed).toBe(!byMulti);
    }
  });

  it('increments a counter from nothing, from a value set earlier, and loses none of 100 concurrent increments', async () => {
    expect(await store.increment('fresh')).toBe(1);
    await store.set('counter', 41);
    expect(await store.increment('counter')).toBe(42);
    const results = await Promise.all(Array.from({ length: 100 }, () => store.increment('counter')));
    expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => 43 + i));
    expect(await store.get('counter')).toBe(142);
    expect(await store.update<number>('counter', (c = 0) => c + 1)).toBe(143);
  });

  it('ends with exactly the expected pending ids after 8 writers race 200 adds and removes each', async () => {
    // Writer w adds its ids w-0..w-199, re-adds every id of its neighbour's it can (contention on the same
    // members), and removes its own odd ids: the even ids of every writer must remain, each exactly once.
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 200; i++) {
          await store.pendingAdd('race', `${w}-${i}`, i);
          if (i % 10 === 0) await store.pendingAdd('race', `${(w + 1) % 8}-${i}`, 10_000 + i);
          if (i % 2 === 1) await store.pendingRemove('race', `${w}-${i}`);
        }
      }),
    );
    const expected = Array.from({ length: 8 }, (_, w) => Array.from({ length: 100 }, (_, j) => `${w}-${j * 2}`)).flat();
    const listed = await store.pendingList('race');
    expect([...listed].sort()).toEqual([...expected].sort());
    expect(await store.pendingSize('race')).toBe(800);
    // Every even id kept the score of its first add (i), whoever added it first, or the neighbour's 10_000 + i.
    const oldest = await store.pendingOldest('race');
    expect(oldest?.score).toBe(0);
  });
});

describe.each(backends)('two handles on one $name store', ({ openPair }) => {
  let stores: [Store, Store];

  beforeEach(async () => {
    stores = await openPair();
  });

  afterEach(async () => {
    await Promise.all([...new Set(stores)].map((store) => store.close()));
  });

  it('end with exactly the expected pending ids when 8 writers race over both', async () => {
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        const store = stores[w % 2] as Store;
        const other = stores[(w + 1) % 2] as Store;
        for (let i = 0; i < 200; i++) {
          await store.pendingAdd('race', `${w}-${i}`, w * 1_000 + i);
          // The other handle removes what this one added, for the odd ids.
          if (i % 2 === 1) await other.pendingRemove('race', `${w}-${i}`);
        }
      }),
    );
    const expected = Array.from({ length: 8 }, (_, w) => Array.from({ length: 100 }, (_, j) => `${w}-${j * 2}`)).flat();
    for (const store of stores) {
      expect(await store.pendingList('race')).toEqual(expected);
      expect(await store.pendingSize('race')).toBe(800);
      expect(await store.pendingOldest('race')).toEqual({ id: '0-0', score: 0 });
    }
  });

  it('grant exactly one of 40 claimAlls of the same keys raced over both, with its pending id once', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (stores[i % 2] as Store).claimAll(
          [
            { key: 'submission', value: i },
            { key: 'send', value: i },
          ],
          [{ list: 'outbox', id: 'send', score: i }],
        ),
      ),
    );
    const winners = outcomes.flatMap((outcome, i) => (outcome.claimed ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const outcome of outcomes) if (!outcome.claimed) expect(outcome.values).toEqual([winners[0], winners[0]]);
    for (const store of stores) {
      expect(await store.get('send')).toBe(winners[0]);
      expect(await store.pendingOldest('outbox')).toEqual({ id: 'send', score: winners[0] });
      expect(await store.pendingSize('outbox')).toBe(1);
    }
  });

  it('let only the holder of a lock free it with deleteIf, while a former holder tries at the same time', async () => {
    const [a, b] = stores;
    for (let round = 0; round < 20; round++) {
      const [holder, former] = round % 2 === 0 ? [a, b] : [b, a];
      expect((await holder.claim('lock', `token-${round}`, 60_000)).claimed).toBe(true);
      const freed = await Promise.all([
        former.deleteIf('lock', `token-${round - 1}`),
        holder.deleteIf('lock', `token-${round}`),
        former.deleteIf('lock', `token-${round - 1}`),
      ]);
      expect(freed).toEqual([false, true, false]);
    }
    expect(await a.get('lock')).toBeUndefined();
  });

  it('leave a lock taken over after its lease alone when its former holder frees it with deleteIf', async () => {
    const [a, b] = stores;
    await a.claim('lock', 'a-token', 50);
    await sleep(120);
    expect(await b.claim('lock', 'b-token', 60_000)).toEqual({ claimed: true, value: 'b-token' });
    expect(await a.deleteIf('lock', 'a-token')).toBe(false);
    expect(await a.get('lock')).toBe('b-token');
    expect(await b.deleteIf('lock', 'b-token')).toBe(true);
    expect(await a.get('lock')).toBeUndefined();
  });

  it('see the score of the first add when both add the same ids at once', async () => {
    const [a, b] = stores;
    const added = await Promise.all(
      Array.from({ length: 100 }, (_, i) => [
        a.pendingAdd('race', `id-${i}`, i),
        b.pendingAdd('race', `id-${i}`, i),
      ]).flat(),
    );
    expect(added.filter(Boolean)).toHaveLength(100);
    expect(await b.pendingSize('race')).toBe(100);
  });
});

describe('a PendingIndex', () => {
  /** `store`, recording each call it passes on and how many characters of JSON each carried. */
  function recording(store: Store): { store: Store; calls: Array<[string, number]> } {
    const calls: Array<[string, number]> = [];
    const size = (value: unknown) => (value === undefined ? 0 : JSON.stringify(value).length);
    const call = <T>(name: string, carried: unknown, result: Promise<T>): Promise<T> => {
      calls.push([name, size(carried)]);
      return result;
    };
    return {
      calls,
      store: {
        get: (key) => call('get', key, store.get(key)),
        set: (key, value, ttlMs) => call('set', value, store.set(key, value, ttlMs)),
        delete: (key) => call('delete', key, store.delete(key)),
        deleteIf: (key, value) => call('deleteIf', value, store.deleteIf(key, value)),
        claim: (key, value, ttlMs) => call('claim', value, store.claim(key, value, ttlMs)),
        update: (key, change, ttlMs) =>
          call(
            'update',
            key,
            store.update(
              key,
              (current) => {
                const next = change(current);
                calls.push(['update wrote', size(next)]);
                return next;
              },
              ttlMs,
            ),
          ),
        claimAll: (claims, pending) => call('claimAll', claims, store.claimAll(claims, pending)),
        increment: (key) => call('increment', key, store.increment(key)),
        pendingAdd: (list, id, score) => call('pendingAdd', id, store.pendingAdd(list, id, score)),
        pendingRemove: (list, id) => call('pendingRemove', id, store.pendingRemove(list, id)),
        pendingList: (list, limit) => call('pendingList', limit, store.pendingList(list, limit)),
        pendingSize: (list) => call('pendingSize', list, store.pendingSize(list)),
        pendingOldest: (list) => call('pendingOldest', list, store.pendingOldest(list)),
        ping: () => call('ping', undefined, store.ping()),
        close: () => store.close(),
      },
    };
  }

  it('asks the store for the same small calls to add and remove an id whether 0 or 10,000 ids are pending', async () => {
    const backend = await createStore({ url: 'memory://', dataDir: await tempDir() });
    const clock = manualClock();
    const callsWith = async (list: string, backlog: number) => {
      const filling = new PendingIndex(backend, list, clock);
      for (let i = 0; i < backlog; i++) await filling.add(`send-${String(i).padStart(6, '0')}`);
      const { store, calls } = recording(backend);
      const index = new PendingIndex(store, list, clock);
      await index.add('warm-up'); // the first use looks for a legacy array once
      await index.remove('warm-up');
      calls.length = 0;
      await index.add('fresh-send-key');
      await index.remove('fresh-send-key');
      return calls;
    };
    const empty = await callsWith('outbox-a', 0);
    const full = await callsWith('outbox-b', 10_000);
    expect(full).toEqual(empty);
    expect(full.map(([name]) => name)).toEqual(['pendingAdd', 'pendingRemove']);
    await backend.close();
  });

  it('claims a record and adds its id in one store call, and writes neither when the record was there', async () => {
    const backend = await createStore({ url: 'memory://', dataDir: await tempDir() });
    const { store, calls } = recording(backend);
    const clock = manualClock();
    const index = new PendingIndex(store, 'webhooks:inbox', clock);
    await index.add('warm-up'); // the first use looks for a legacy array once
    clock.advance(1);
    calls.length = 0;
    const record = { key: 'webhook:w-1', value: { state: 'received' }, ttlMs: 60_000 };
    expect(await index.addClaiming('w-1', [record])).toEqual({ claimed: true });
    expect(calls.map(([name]) => name)).toEqual(['claimAll']);
    expect(await backend.pendingList('webhooks:inbox')).toEqual(['warm-up', 'w-1']);
    await index.remove('w-1');
    // A redelivery of a recorded id finds its record and leaves the list alone.
    expect(await index.addClaiming('w-1', [record])).toEqual({ claimed: false, values: [{ state: 'received' }] });
    expect(await backend.pendingList('webhooks:inbox')).toEqual(['warm-up']);
    await backend.close();
  });
});

describe.each(backends)('a PendingIndex over the $name store', ({ open }) => {
  let store: Store;

  beforeEach(async () => {
    store = await open();
  });

  afterEach(async () => {
    await store.close();
  });

  it('lists its ids in the order they were first added, once each', async () => {
    const clock = manualClock();
    const index = new PendingIndex(store, 'outbox:pending', clock);
    for (const id of ['c', 'a', 'b', 'a']) {
      await index.add(id);
      clock.advance(1);
    }
    expect(await index.list()).toEqual(['c', 'a', 'b']);
    expect(await index.size()).toBe(3);
    expect(await index.oldest()).toEqual({ id: 'c', score: 1_000_000 });
    await index.remove('c');
    expect(await index.list()).toEqual(['a', 'b']);
  });

  it('moves the ids of a legacy JSON array into the pending list on first use, in their order', async () => {
    await store.set('outbox:pending', ['k-3', 'k-1', 'k-2']);
    const index = new PendingIndex(store, 'outbox:pending', manualClock());
    await index.add('k-new');
    expect(await store.pendingList('outbox:pending')).toEqual(['k-3', 'k-1', 'k-2', 'k-new']);
    expect(await store.get('outbox:pending')).toEqual([]);
    expect(await index.list()).toEqual(['k-3', 'k-1', 'k-2', 'k-new']);
  });

  it('moves the legacy array first also when its first use is addClaiming', async () => {
    await store.set('webhooks:inbox', ['w-old']);
    const index = new PendingIndex(store, 'webhooks:inbox', manualClock());
    expect(await index.addClaiming('w-new', [{ key: 'webhook:w-new', value: 1 }])).toEqual({ claimed: true });
    expect(await store.pendingList('webhooks:inbox')).toEqual(['w-old', 'w-new']);
    expect(await store.get('webhooks:inbox')).toEqual([]);
  });

  it('moves ids an older replica still appends to the legacy array on its next list', async () => {
    const index = new PendingIndex(store, 'groups:pending', manualClock());
    await index.add('g-1');
    await store.update<string[]>('groups:pending', (ids = []) => [...ids, 'g-2']);
    // An id moved from the array is scored just before the move: its real enqueue time is not known.
    expect(await index.list()).toEqual(['g-2', 'g-1']);
    expect(await store.get('groups:pending')).toEqual([]);
  });

  it('drops an id whose record stays missing for the grace period, and keeps one whose record appears', async () => {
    const clock = manualClock();
    const index = new PendingIndex(store, 'webhooks:inbox', clock, 60_000);
    await index.add('dangling');
    await index.add('late');
    const records = new Map<string, string>();
    const sweep = async () => {
      const found: string[] = [];
      for await (const [id] of index.withRecords(async (id) => records.get(id))) found.push(id);
      return found;
    };
    expect(await sweep()).toEqual([]);
    clock.advance(30_000);
    records.set('late', 'written');
    expect(await sweep()).toEqual(['late']);
    clock.advance(30_000);
    expect(await sweep()).toEqual(['late']);
    expect(await index.list()).toEqual(['late']);
  });
});

describe('the embedded SQLite store', () => {
  it('keeps its values and pending lists when the file is closed and opened again', async () => {
    const dataDir = await tempDir();
    const first = await createStore({ dataDir });
    await first.set('kept', { n: 1 });
    await first.claim('claimed', 'mine');
    await first.update('counter', increment);
    await first.set('expiring', 'soon', 60_000);

    await first.pendingAdd('outbox', 'pending-b', 20);
    await first.pendingAdd('outbox', 'pending-a', 10);
    await first.close();

    const second = await createStore({ dataDir });
    expect(await second.pendingList('outbox')).toEqual(['pending-a', 'pending-b']);
    expect(await second.pendingOldest('outbox')).toEqual({ id: 'pending-a', score: 10 });
    expect(await second.get('kept')).toEqual({ n: 1 });
    expect(await second.claim('claimed', 'yours')).toEqual({ claimed: false, value: 'mine' });
    expect(await second.update('counter', increment)).toBe(2);
    expect(await second.get('expiring')).toBe('soon');
    await second.close();
  });

  it('commits the writes that arrive together in one transaction, each on disk once it resolves', async () => {
    const path = join(await tempDir(), 'state.sqlite');
    const adapter = new SqliteAdapter({ path });
    const store = new KeyvStore(new Keyv({ store: adapter, useKeyPrefix: false }));
    const before = adapter.commits;
    const written = await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => store.set(`key-${i}`, i)),
      ...Array.from({ length: 50 }, (_, i) => store.pendingAdd('outbox', `id-${i}`, i)),
      ...Array.from({ length: 10 }, (_, i) => store.claimAll([{ key: `claim-${i}`, value: i }])),
    ]);
    // 110 writes, one fsync each before; now they share a few (Keyv's own awaits may spread them over turns).
    expect(adapter.commits - before).toBeLessThanOrEqual(5);
    expect(written.slice(50, 100)).toEqual(Array.from({ length: 50 }, () => true));
    // A second handle on the file, which sees only what was committed, reads every write.
    const reader = new KeyvStore(new Keyv({ store: new SqliteAdapter({ path }), useKeyPrefix: false }));
    expect(await Promise.all(Array.from({ length: 50 }, (_, i) => reader.get(`key-${i}`)))).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    expect(await reader.pendingSize('outbox')).toBe(50);
    expect(await reader.get('claim-9')).toBe(9);
    await Promise.all([store.close(), reader.close()]);
  });

  it('purges expired rows from the file', async () => {
    const adapter = new SqliteAdapter({ path: join(await tempDir(), 'state.sqlite') });
    const store = new KeyvStore(new Keyv({ store: adapter, useKeyPrefix: false }));
    await store.set('gone', 1, 20);
    await store.set('kept', 2);
    await sleep(60);
    expect(adapter.purgeExpired()).toBe(1);
    expect(await store.get('kept')).toBe(2);
    await store.close();
  });

  it('keeps pending lists in the file also when its KeyvStore is built by hand', async () => {
    const path = join(await tempDir(), 'state.sqlite');
    const first = new KeyvStore(new Keyv({ store: new SqliteAdapter({ path }), useKeyPrefix: false }));
    await first.pendingAdd('outbox', 'kept', 1);
    await first.close();
    const second = new KeyvStore(new Keyv({ store: new SqliteAdapter({ path }), useKeyPrefix: false }));
    expect(await second.pendingList('outbox')).toEqual(['kept']);
    await second.close();
  });

  it('clears only the keys of its Keyv namespace', async () => {
    const adapter = new SqliteAdapter({ path: join(await tempDir(), 'state.sqlite') });
    const keyv = new Keyv({ store: adapter, namespace: 'ours' });
    await keyv.set('x', 1);
    await adapter.set('theirs:y', 'kept');
    await keyv.clear();
    expect(await keyv.get('x')).toBeUndefined();
    expect(await adapter.get('theirs:y')).toBe('kept');
    await adapter.disconnect();
  });
});

describe('the in-process stores', () => {
  it('release every per-key lock once they are idle', async () => {
    const store = new KeyvStore(new Keyv());
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => store.claim(`key-${i % 3}`, i)),
      ...Array.from({ length: 20 }, () => store.update('counter', increment)),
    ]);
    expect(store.lockedKeyCount).toBe(0);
    await store.close();
  });
});

describe('two RedisStore replicas sharing one Redis', () => {
  let replicas: RedisStore[];

  beforeEach(async () => {
    const namespace = uniqueNamespace('replicas');
    replicas = await Promise.all([1, 2, 3].map(() => RedisStore.connect({ url: testRedisUrl(), namespace })));
  });

  afterEach(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
  });

  it('see each other’s writes', async () => {
    await replicas[0]?.set('key', { from: 0 });
    expect(await replicas[1]?.get('key')).toEqual({ from: 0 });
  });

  it('grant exactly one of 50 claims raced between them', async () => {
    const claims = await Promise.all(
      Array.from({ length: 50 }, (_, i) => replicas[i % 2]?.claim('key', { by: i % 2, i })),
    );
    expect(claims.filter((claim) => claim?.claimed)).toHaveLength(1);
    expect(new Set(claims.map((claim) => JSON.stringify(claim?.value))).size).toBe(1);
  });

  it('lose no increment when they race updates on one key', async () => {
    await Promise.all(Array.from({ length: 150 }, (_, i) => replicas[i % 3]?.update('counter', increment)));
    expect(await replicas[0]?.get('counter')).toBe(150);
  });

  it('lose no increment and hand out each count once when they race increments on one key', async () => {
    const counts = await Promise.all(Array.from({ length: 150 }, (_, i) => replicas[i % 3]?.increment('ticket')));
    expect(new Set(counts).size).toBe(150);
    expect(await replicas[0]?.get('ticket')).toBe(150);
  });

  it('keep keys of different namespaces apart', async () => {
    const other = await RedisStore.connect({ url: testRedisUrl(), namespace: uniqueNamespace('other') });
    await replicas[0]?.set('key', 'ours');
    expect(await other.get('key')).toBeUndefined();
    await other.close();
  });

  it('keep pending lists of different namespaces apart', async () => {
    const other = await RedisStore.connect({ url: testRedisUrl(), namespace: uniqueNamespace('other') });
    await replicas[0]?.pendingAdd('outbox', 'ours', 1);
    await other.pendingAdd('outbox', 'theirs', 1);
    expect(await replicas[1]?.pendingList('outbox')).toEqual(['ours']);
    expect(await other.pendingList('outbox')).toEqual(['theirs']);
    expect(await other.pendingSize('outbox')).toBe(1);
    await other.close();
  });
});

describe('a RedisStore whose Redis goes away', () => {
  let server: RedisServer;
  let store: RedisStore;

  beforeAll(async () => {
    server = await startRedisServer();
  });

  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it('rejects every operation with StoreUnavailableError quickly, then works again once Redis is back', async () => {
    store = await RedisStore.connect({ url: server.url, namespace: uniqueNamespace('outage') });
    await store.set('before', 1);
    await server.stop();

    const operations: Array<() => Promise<unknown>> = [
      () => store.get('before'),
      () => store.set('key', 1),
      () => store.claim('key', 1),
      () => store.update('counter', increment),
      () => store.delete('key'),
      () => store.deleteIf('key', 1),
      () => store.ping(),
    ];
    for (const operation of operations) {
      const startedAt = Date.now();
      const error = await operation().then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      // The bound is generous; what matters is that nothing waits for Redis to come back.
      expect(Date.now() - startedAt).toBeLessThan(3_000);
    }

    await server.restart();
    await vi.waitFor(() => store.set('after', 2), { timeout: 10_000, interval: 100 });
    expect(await store.get('after')).toBe(2);
    expect(await store.claim('fresh', 'x')).toEqual({ claimed: true, value: 'x' });
    expect(await store.update('counter', increment)).toBe(1);
  });
});

describe('createStore', () => {
  it('names STORE_URL and the accepted forms for an unknown scheme', async () => {
    await expect(createStore({ url: 'postgres://user:secret@db/x', dataDir: '/tmp' })).rejects.toThrow(
      /STORE_URL.*memory:\/\/.*redis:\/\/.*rediss:\/\//,
    );
    await expect(createStore({ url: 'postgres://user:secret@db/x', dataDir: '/tmp' })).rejects.not.toThrow(/secret/);
  });

  it('fails clearly, naming the host but not the password, when Redis cannot be reached', async () => {
    const server = await startRedisServer();
    await server.stop();
    const url = `redis://:hunter2@127.0.0.1:${server.port}`;
    const error = await createStore({ url, dataDir: '/tmp', connectTimeoutMs: 300 }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toContain(`127.0.0.1:${server.port}`);
    expect((error as Error).message).not.toContain('hunter2');
  });
});
