import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KnownTexts } from '../../../src/adapters/store/known-texts.js';
import { RedisStore } from '../../../src/adapters/store/redis-store.js';
import { testRedisUrl, uniqueNamespace } from '../../support/redis.js';
import { type CountingProxy, countingProxy } from '../../support/redis-round-trips.js';

/*
 * RedisStore.update tries the text this process last read or wrote for a key as the expected value of its
 * compare-and-set, without a GET first: these check that another replica's writes, an expiry or a deletion in
 * between cost at most a failed attempt, never a lost write, and that the GET is saved when nobody else wrote.
 */

const increment = (current: number | undefined) => (current ?? 0) + 1;

describe('a RedisStore updating a key whose text it knows, beside another replica', () => {
  let a: RedisStore;
  let b: RedisStore;

  beforeEach(async () => {
    const namespace = uniqueNamespace('known-texts');
    [a, b] = await Promise.all([1, 2].map(() => RedisStore.connect({ url: testRedisUrl(), namespace })));
  });

  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('hands its change the value the other replica wrote since, and loses neither write', async () => {
    await a.update('counter', increment);
    await b.update<number>('counter', (n = 0) => n + 10);
    const seen: Array<number | undefined> = [];
    const result = await a.update<number>('counter', (n) => {
      seen.push(n);
      return (n ?? 0) + 1;
    });
    expect(result).toBe(12);
    expect(seen.at(-1)).toBe(11);
    expect(await b.get('counter')).toBe(12);
  });

  it('loses no increment when both race updates on keys each of them has read or written before', async () => {
    for (const key of ['x', 'y']) {
      await a.set(key, 0);
      expect(await b.get(key)).toBe(0);
    }
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).update(i % 4 < 2 ? 'x' : 'y', increment)),
    );
    // And once more from each side after the race, each starting from what it last wrote.
    await a.update('x', increment);
    await b.update('x', increment);
    expect([await a.get('x'), await b.get('y')]).toEqual([102, 100]);
  });

  it('leaves nothing undone when its change declines on a text the other replica has replaced', async () => {
    await a.set('state', 'open');
    await b.set('state', 'closed');
    // Decided on the stale 'open', this change would do nothing; on the current 'closed' it reopens.
    const result = await a.update<string>('state', (state) => (state === 'closed' ? 'reopened' : undefined));
    expect(result).toBe('reopened');
    expect(await b.get('state')).toBe('reopened');
  });

  it('writes from nothing once the key it knew has expired, with the ttl it is given', async () => {
    await a.set('short', 5, 50);
    expect(await a.get('short')).toBe(5);
    await sleep(120);
    const seen: Array<number | undefined> = [];
    const result = await a.update<number>(
      'short',
      (n) => {
        seen.push(n);
        return n === undefined ? 1 : n + 100;
      },
      60_000,
    );
    expect(result).toBe(1);
    expect(seen.at(-1)).toBeUndefined();
    expect(await b.get('short')).toBe(1);
  });

  it('writes from nothing once the other replica deleted the key it knew', async () => {
    await a.claim('k', { n: 1 });
    expect(await b.delete('k')).toBe(true);
    expect(await a.update<{ n: number }>('k', (v) => ({ n: (v?.n ?? 0) + 10 }))).toEqual({ n: 10 });
    expect(await b.get('k')).toEqual({ n: 10 });
  });

  it('always reads Redis on get, whatever it knows', async () => {
    await a.set('k', 'mine');
    await b.set('k', 'theirs');
    expect(await a.get('k')).toBe('theirs');
    await b.delete('k');
    expect(await a.get('k')).toBeUndefined();
  });
});

describe('the round trips to Redis a RedisStore update costs', () => {
  let proxy: CountingProxy;
  let store: RedisStore;
  let other: RedisStore;

  beforeAll(async () => {
    proxy = await countingProxy(testRedisUrl());
    const namespace = uniqueNamespace('round-trips');
    store = await RedisStore.connect({ url: proxy.url, namespace });
    other = await RedisStore.connect({ url: testRedisUrl(), namespace });
    // The first call of each script may load it (EVALSHA, then EVAL).
    await store.update('warm-up', increment);
    await store.deleteIf('warm-up', 0);
  });

  afterAll(async () => {
    await Promise.all([store?.close(), other?.close()]);
    await proxy?.close();
  });

  /** The commands `store` sent to Redis for `work`, in order. */
  async function commandsOf(work: () => Promise<unknown>): Promise<string[]> {
    const before = proxy.commands.length;
    await work();
    return proxy.commands.slice(before);
  }

  it('is one script call after a get, a set, a claim, a claimAll or another update of the key', async () => {
    await other.set('counter', 1);
    expect(await commandsOf(() => store.get('counter'))).toEqual(['get']);
    expect(await commandsOf(() => store.update('counter', increment))).toEqual(['evalsha']);
    expect(await commandsOf(() => store.update('counter', increment))).toEqual(['evalsha']);
    expect(await commandsOf(() => store.update('counter', increment))).toEqual(['evalsha']);
    await store.set('a', 1);
    await store.claim('b', 1);
    await store.claim('b', 2); // lost: the value it returns is known too
    await store.claimAll([{ key: 'c', value: 1 }]);
    await store.claimAll([{ key: 'c', value: 2 }]);
    await store.get('counter');
    for (const key of ['a', 'b', 'c', 'counter']) {
      expect(await commandsOf(() => store.update(key, increment))).toEqual(['evalsha']);
    }
    expect(await other.get('c')).toBe(2);
    expect(await other.get('counter')).toBe(5);
  });

  it('is a failed script call, a GET and a script call once another replica wrote the key, then one again', async () => {
    await store.set('shared', 1);
    await other.set('shared', 7);
    expect(await commandsOf(() => store.update('shared', increment))).toEqual(['evalsha', 'get', 'evalsha']);
    expect(await commandsOf(() => store.update('shared', increment))).toEqual(['evalsha']);
    expect(await other.get('shared')).toBe(9);
  });

  it('is a GET and a script call for a key it has not seen, or seen absent, or deleted (deleteIf: one script call)', async () => {
    expect(await commandsOf(() => store.update('new', increment))).toEqual(['get', 'evalsha']);
    await store.get('absent');
    expect(await commandsOf(() => store.update('absent', increment))).toEqual(['get', 'evalsha']);
    await store.set('gone', 1);
    await store.delete('gone');
    expect(await commandsOf(() => store.update('gone', increment))).toEqual(['get', 'evalsha']);
    expect(await other.get('gone')).toBe(1);
    expect(await commandsOf(() => store.deleteIf('gone', 1))).toEqual(['evalsha']);
    expect(await commandsOf(() => store.update('gone', increment))).toEqual(['get', 'evalsha']);
    expect(await other.get('gone')).toBe(1);
  });
});

describe('KnownTexts', () => {
  it('keeps at most its limit of keys, forgetting the one used least recently', () => {
    const known = new KnownTexts(3);
    known.note('a', '1');
    known.note('b', '2');
    known.note('c', '3');
    expect(known.get('a')).toBe('1'); // a is now the most recently used
    known.note('d', '4');
    expect(known.size).toBe(3);
    expect(known.get('b')).toBeUndefined();
    expect([known.get('a'), known.get('c'), known.get('d')]).toEqual(['1', '3', '4']);
    known.note('c', '33'); // a new text for a key it holds takes no more room
    known.forget('a');
    expect(known.size).toBe(2);
    expect([known.get('a'), known.get('c')]).toEqual([undefined, '33']);
  });
});
