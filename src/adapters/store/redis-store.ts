import { setTimeout as sleep } from 'node:timers/promises';
import KeyvRedis from '@keyv/redis';
import type { Claim, ClaimRequest, Claims, PendingAdd, PendingEntry, Store } from '../../core/ports.js';
import {
  assertStorable,
  checkedClaims,
  checkedLimit,
  checkedList,
  checkedPending,
  checkedTtl,
  StoreClosedError,
  StoreConflictError,
} from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import { KnownTexts } from './known-texts.js';
import {
  boundedCall,
  CLAIM,
  CLAIM_ALL,
  COMPARE_AND_SET,
  claimAllCall,
  claimsFromReply,
  closeClient,
  connectClient,
  DELETE_IF,
  type RedisClient,
  type RedisStoreOptions,
  reconnectingClient,
  redisAddress,
  runScript,
  type Script,
  textsAfterClaimAll,
} from './redis-protocol.js';

export type { RedisStoreOptions } from './redis-protocol.js';

/**
 * A Store shared by every replica through one Redis. Atomic across processes: `claim` and `claimAll` are one Lua
 * script each (SET NX, else GET), `deleteIf` one (GET, compare, DEL), `increment` INCR, `update` an optimistic
 * compare-and-set loop. Within one process, updates of a key also queue behind a local mutex, so replicas contend
 * with each other rather than with their own requests.
 *
 * `update` first offers the compare-and-set the text this process last read or wrote for the key (`KnownTexts`),
 * saving the GET when no other replica wrote since; when one did, or the key expired, the script refuses on the
 * exact bytes and the loop reads and tries again: a stale text costs a round trip (and a call of `change`), never a
 * lost write. `get` always reads Redis.
 *
 * Built on @keyv/redis: its KeyvRedis adapter does the plain get/set/delete (values are our own JSON text,
 * keys `<namespace>:<key>`), and its node-redis client runs the scripts under the same key names.
 *
 * A pending list is one sorted set, `<namespace>:pending:<list>` (score = enqueue time): ZADD NX, ZREM, ZRANGE
 * and ZCARD are single atomic commands costing O(log n) at most, so replicas never contend on a whole list.
 *
 * When Redis is down every operation rejects with StoreUnavailableError at once (no offline queue) or at
 * the latest after `operationTimeoutMs`; the client keeps reconnecting in the background.
 */
export class RedisStore implements Store {
  readonly #client: RedisClient;
  readonly #adapter: KeyvRedis<string>;
  readonly #namespace: string;
  readonly #address: string;
  readonly #operationTimeoutMs: number;
  readonly #maxUpdateAttempts: number;
  readonly #updates = new KeyedMutex();
  /** By full key, the text this process last read or wrote: `update`'s first guess at what the key holds. */
  readonly #known = new KnownTexts();
  #closed = false;

  private constructor(options: RedisStoreOptions) {
    this.#namespace = options.namespace ?? 'waping-bot';
    this.#address = redisAddress(options.url);
    this.#operationTimeoutMs = options.operationTimeoutMs ?? 2_000;
    this.#maxUpdateAttempts = options.maxUpdateAttempts ?? 50;
    this.#client = reconnectingClient(options.url, options.connectTimeoutMs ?? 5_000, options.logger);
    this.#adapter = new KeyvRedis<string>(this.#client, {
      namespace: this.#namespace,
      keyPrefixSeparator: ':',
      throwOnErrors: true,
      throwOnConnectError: true,
    });
  }

  /** Connects and resolves once Redis answers; rejects with StoreUnavailableError naming the host. */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const store = new RedisStore(options);
    await connectClient(store.#client, store.#address);
    return store;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const raw = await this.#read(this.#key(key));
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    const ttl = checkedTtl(ttlMs);
    assertStorable(key, value);
    const text = JSON.stringify(value);
    await this.#redis('SET', () => this.#adapter.set(key, text, ttl));
    this.#known.note(this.#key(key), text);
  }

  async delete(key: string): Promise<boolean> {
    this.#known.forget(this.#key(key));
    return this.#redis('DELETE', () => this.#adapter.delete(key));
  }

  async deleteIf<T>(key: string, value: T): Promise<boolean> {
    assertStorable(key, value);
    const fullKey = this.#key(key);
    this.#known.forget(fullKey);
    return (await this.#run(DELETE_IF, fullKey, [JSON.stringify(value)])) === 1;
  }

  async claim<T>(key: string, value: T, ttlMs?: number): Promise<Claim<T>> {
    const ttl = checkedTtl(ttlMs);
    assertStorable(key, value);
    const fullKey = this.#key(key);
    const text = JSON.stringify(value);
    const existing = (await this.#run(CLAIM, fullKey, [text, ttl?.toString() ?? ''])) as string | null;
    this.#known.note(fullKey, existing ?? text);
    if (existing === null) return { claimed: true, value };
    return { claimed: false, value: JSON.parse(existing) as T };
  }

  async update<T>(
    key: string,
    change: (current: T | undefined) => T | undefined,
    ttlMs?: number,
  ): Promise<T | undefined> {
    const ttl = checkedTtl(ttlMs)?.toString() ?? '';
    const fullKey = this.#key(key);
    return this.#updates.run(key, async () => {
      // The text this process last saw is tried without a GET; if it is stale, the compare-and-set says so.
      let guess = this.#known.get(fullKey);
      for (let attempt = 1; attempt <= this.#maxUpdateAttempts; ) {
        const raw = guess ?? (await this.#read(fullKey));
        const current = raw === null ? undefined : (JSON.parse(raw) as T);
        const next = change(current);
        // Leaving the key alone is decided on what Redis holds, never on a guess.
        if (next === undefined && guess === undefined) return current;
        if (next !== undefined) {
          assertStorable(key, next);
          const text = JSON.stringify(next);
          const written = await this.#run(COMPARE_AND_SET, fullKey, [raw === null ? '0' : '1', raw ?? '', text, ttl]);
          this.#known.note(fullKey, written === 1 ? text : null);
          if (written === 1) return next;
        }
        if (guess !== undefined) {
          guess = undefined; // stale (another replica wrote, or it expired) or declined: read Redis, costing no attempt
          continue;
        }
        // Another replica wrote in between: back off a little, with jitter so the losers spread out.
        await sleep(Math.random() * Math.min(2 ** attempt, 50));
        attempt++;
      }
      throw new StoreConflictError(key, this.#maxUpdateAttempts);
    });
  }

  async claimAll(claims: readonly ClaimRequest[], pending: readonly PendingAdd[] = []): Promise<Claims> {
    const checked = checkedClaims(claims, pending);
    const { keys, args } = claimAllCall(
      checked,
      (key) => this.#key(key),
      (list) => this.#pendingKey(list),
    );
    const reply = await this.#run(CLAIM_ALL, keys, args);
    for (const [i, text] of textsAfterClaimAll(args, reply).entries()) this.#known.note(keys[i] as string, text);
    return claimsFromReply(reply);
  }

  async increment(key: string): Promise<number> {
    const fullKey = this.#key(key);
    const count = await this.#redis('INCR', () => this.#client.incr(fullKey));
    this.#known.note(fullKey, String(count));
    return count;
  }

  async pendingAdd(list: string, id: string, score?: number): Promise<boolean> {
    const chosen = checkedPending(list, id, score);
    const key = this.#pendingKey(list);
    const added = await this.#redis('ZADD', () =>
      this.#client.zAdd(key, { score: chosen, value: id }, { condition: 'NX' }),
    );
    return added > 0;
  }

  async pendingRemove(list: string, id: string): Promise<boolean> {
    checkedPending(list, id, 0);
    const key = this.#pendingKey(list);
    return (await this.#redis('ZREM', () => this.#client.zRem(key, id))) > 0;
  }

  async pendingList(list: string, limit?: number): Promise<string[]> {
    checkedList(list);
    const bound = checkedLimit(limit);
    const key = this.#pendingKey(list);
    return this.#redis('ZRANGE', () => this.#client.zRange(key, 0, bound === undefined ? -1 : bound - 1));
  }

  async pendingSize(list: string): Promise<number> {
    checkedList(list);
    return this.#redis('ZCARD', () => this.#client.zCard(this.#pendingKey(list)));
  }

  async pendingOldest(list: string): Promise<PendingEntry | undefined> {
    checkedList(list);
    const key = this.#pendingKey(list);
    const [first] = await this.#redis('ZRANGE', () => this.#client.zRangeWithScores(key, 0, 0));
    return first && { id: first.value, score: first.score };
  }

  async ping(): Promise<void> {
    await this.#redis('PING', () => this.#client.ping());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeClient(this.#client, this.#operationTimeoutMs);
  }

  #key(key: string): string {
    return this.#adapter.createKeyPrefix(key, this.#namespace);
  }

  #pendingKey(list: string): string {
    return this.#key(`pending:${list}`);
  }

  /** GET of a full key, noting the text for `update` (or forgetting it, when absent). */
  async #read(fullKey: string): Promise<string | null> {
    const raw = await this.#redis('GET', () => this.#client.get(fullKey));
    this.#known.note(fullKey, raw);
    return raw;
  }

  async #run(lua: Script, keys: string | string[], args: string[]): Promise<unknown> {
    return this.#redis('EVAL', () => runScript(this.#client, lua, typeof keys === 'string' ? [keys] : keys, args));
  }

  async #redis<T>(command: string, call: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreClosedError();
    return boundedCall(this.#address, command, this.#operationTimeoutMs, call);
  }
}
