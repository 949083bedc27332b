import { setTimeout as sleep } from 'node:timers/promises';
import KeyvRedis from '@keyv/redis';
import type { Claim, ClaimRequest, Claims, Logger, PendingAdd, PendingEntry, Store } from '../../core/ports.js';
import { withDeadline } from '../../deadline.js';
import {
  assertStorable,
  checkedClaims,
  checkedLimit,
  checkedList,
  checkedPending,
  checkedTtl,
  StoreClosedError,
  StoreConflictError,
  StoreUnavailableError,
} from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import {
  CLAIM,
  CLAIM_ALL,
  COMPARE_AND_SET,
  claimAllCall,
  claimsFromReply,
  type RedisClient,
  type RedisStoreOptions,
  reconnectingClient,
  redisAddress,
  redisStoreError,
  runScript,
  type Script,
} from './redis-protocol.js';

export type { RedisStoreOptions } from './redis-protocol.js';

/**
 * A Store shared by every replica through one Redis. Atomic across processes: `claim` and `claimAll` are one Lua
 * script each (SET NX, else GET), `increment` INCR, `update` an optimistic compare-and-set loop. Within one process, updates of a key also
 * queue behind a local mutex, so replicas contend with each other rather than with their own requests.
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
  readonly #logger: Logger | undefined;
  readonly #operationTimeoutMs: number;
  readonly #maxUpdateAttempts: number;
  readonly #updates = new KeyedMutex();
  #everReady = false;
  #connected = false;
  #closed = false;

  private constructor(options: RedisStoreOptions) {
    this.#namespace = options.namespace ?? 'waping-bot';
    this.#address = redisAddress(options.url);
    this.#logger = options.logger;
    this.#operationTimeoutMs = options.operationTimeoutMs ?? 2_000;
    this.#maxUpdateAttempts = options.maxUpdateAttempts ?? 50;
    this.#client = reconnectingClient(options.url, options.connectTimeoutMs ?? 5_000, () => this.#everReady);
    // An EventEmitter 'error' with no listener would crash the process; connection errors are expected
    // while Redis is away, and operations report them to their callers.
    this.#client.on('error', (error: Error) => this.#onConnectionError(error));
    this.#client.on('ready', () => this.#onReady());
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
    try {
      await store.#client.connect();
    } catch (error) {
      const cause = (error as { socketError?: unknown }).socketError ?? error;
      throw new StoreUnavailableError(
        `Cannot connect to Redis at ${store.#address}: ${(cause as Error)?.message ?? cause}`,
        { cause },
      );
    }
    return store;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const raw = await this.#redis('GET', () => this.#adapter.get(key));
    return raw === undefined || raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    const ttl = checkedTtl(ttlMs);
    assertStorable(key, value);
    const text = JSON.stringify(value);
    await this.#redis('SET', () => this.#adapter.set(key, text, ttl));
  }

  async delete(key: string): Promise<boolean> {
    return this.#redis('DELETE', () => this.#adapter.delete(key));
  }

  async claim<T>(key: string, value: T, ttlMs?: number): Promise<Claim<T>> {
    const ttl = checkedTtl(ttlMs);
    assertStorable(key, value);
    const existing = await this.#run(CLAIM, this.#key(key), [JSON.stringify(value), ttl?.toString() ?? '']);
    if (existing === null) return { claimed: true, value };
    return { claimed: false, value: JSON.parse(existing as string) as T };
  }

  async update<T>(
    key: string,
    change: (current: T | undefined) => T | undefined,
    ttlMs?: number,
  ): Promise<T | undefined> {
    const ttl = checkedTtl(ttlMs)?.toString() ?? '';
    const fullKey = this.#key(key);
    return this.#updates.run(key, async () => {
      for (let attempt = 1; attempt <= this.#maxUpdateAttempts; attempt++) {
        const raw = await this.#redis('GET', () => this.#client.get(fullKey));
        const current = raw === null ? undefined : (JSON.parse(raw) as T);
        const next = change(current);
        if (next === undefined) return current;
        assertStorable(key, next);
        const written = await this.#run(COMPARE_AND_SET, fullKey, [
          raw === null ? '0' : '1',
          raw ?? '',
          JSON.stringify(next),
          ttl,
        ]);
        if (written === 1) return next;
        // Another replica wrote in between: back off a little, with jitter so the losers spread out.
        await sleep(Math.random() * Math.min(2 ** attempt, 50));
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
    return claimsFromReply(await this.#run(CLAIM_ALL, keys, args));
  }

  async increment(key: string): Promise<number> {
    const fullKey = this.#key(key);
    return this.#redis('INCR', () => this.#client.incr(fullKey));
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
    if (!this.#client.isOpen) return;
    if (this.#client.isReady) {
      // close() waits for replies still owed; a server dying at this moment must not hold shutdown up.
      await Promise.race([this.#client.close(), sleep(this.#operationTimeoutMs, undefined, { ref: false })]);
    } else {
      this.#client.destroy();
    }
  }

  #key(key: string): string {
    return this.#adapter.createKeyPrefix(key, this.#namespace);
  }

  #pendingKey(list: string): string {
    return this.#key(`pending:${list}`);
  }

  async #run(lua: Script, keys: string | string[], args: string[]): Promise<unknown> {
    return this.#redis('EVAL', () => runScript(this.#client, lua, typeof keys === 'string' ? [keys] : keys, args));
  }

  /** One call to Redis, bounded by the operation deadline, with its failure told as a StoreError. */
  async #redis<T>(command: string, call: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreClosedError();
    const late = `Redis at ${this.#address} did not answer ${command} within ${this.#operationTimeoutMs} ms`;
    try {
      return await withDeadline(call(), this.#operationTimeoutMs, () => new StoreUnavailableError(late));
    } catch (error) {
      throw redisStoreError(this.#address, command, error);
    }
  }

  #onConnectionError(error: Error): void {
    if (this.#connected) {
      this.#connected = false;
      this.#logger?.warn({ redis: this.#address, error: error.message }, 'Lost the connection to Redis; reconnecting');
    } else {
      this.#logger?.debug({ redis: this.#address, error: error.message }, 'Redis connection attempt failed');
    }
  }

  #onReady(): void {
    if (this.#everReady) this.#logger?.info({ redis: this.#address }, 'Reconnected to Redis');
    this.#everReady = true;
    this.#connected = true;
  }
}
