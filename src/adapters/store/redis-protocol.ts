import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@keyv/redis';
import type { Claims, Logger } from '../../core/ports.js';
import { withDeadline } from '../../deadline.js';
import { type CheckedClaims, StoreError, StoreUnavailableError } from './errors.js';

/*
 * How RedisStore talks to Redis: the Lua scripts behind `claim`, `update`, `deleteIf` and `claimAll`, how Redis's
 * answers and failures become the store's errors, and the client's reconnect policy.
 */

export interface RedisStoreOptions {
  /** `redis://` or `rediss://` URL, credentials included. */
  url: string;
  /** Every key is stored as `<namespace>:<key>`, so deployments and test files can share one Redis. */
  namespace?: string;
  logger?: Logger;
  /** How long connect() keeps trying before it gives up. Default 5 s. */
  connectTimeoutMs?: number;
  /** Deadline for each operation, so callers fail fast instead of waiting on a dead socket. Default 2 s. */
  operationTimeoutMs?: number;
  /** How many optimistic attempts update() makes before it throws StoreConflictError. Default 50. */
  maxUpdateAttempts?: number;
}

export interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** SET NX (with PX when there is a ttl); on loss, the value already there, read in the same atomic step. */
export const CLAIM = script(`
if ARGV[2] == '' then
  if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return false end
else
  if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
end
return redis.call('GET', KEYS[1])
`);

/**
 * Compare-and-set on the raw text: writes only if the key still holds exactly what the caller read
 * (ARGV[1] = '0' means "read nothing"). Without a ttl the remaining one is kept (KEEPTTL, Redis >= 6).
 */
export const COMPARE_AND_SET = script(`
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[4] == '' then
  redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL')
else
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
end
return 1
`);

/** DEL only while the key holds exactly ARGV[1]; 1 when it deleted, else 0. */
export const DELETE_IF = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/**
 * `claimAll` in one step: KEYS are the n keys to claim (ARGV[1] = n), then one sorted set per pending id.
 * ARGV then holds value and ttl ('' for none) per key, then id and score per pending id. If any key exists,
 * nothing is written and the reply is every key's value (nil where absent); else all are written, the ids
 * added (ZADD NX keeps a first score) and the reply is 1.
 */
export const CLAIM_ALL = script(`
local n = tonumber(ARGV[1])
local held, lost = {}, false
for i = 1, n do
  held[i] = redis.call('GET', KEYS[i])
  if held[i] then lost = true end
end
if lost then return held end
for i = 1, n do
  local value, ttl = ARGV[2 * i], ARGV[2 * i + 1]
  if ttl == '' then redis.call('SET', KEYS[i], value) else redis.call('SET', KEYS[i], value, 'PX', ttl) end
end
for j = n + 1, #KEYS do
  local at = 2 * j
  redis.call('ZADD', KEYS[j], 'NX', ARGV[at + 1], ARGV[at])
end
return 1
`);

/** The keys and arguments of CLAIM_ALL for checked claims, given how a key and a pending list are named. */
export function claimAllCall(
  checked: CheckedClaims,
  keyOf: (key: string) => string,
  listOf: (list: string) => string,
): { keys: string[]; args: string[] } {
  const keys = [...checked.claims.map((c) => keyOf(c.key)), ...checked.pending.map((p) => listOf(p.list))];
  const args = [String(checked.claims.length)];
  for (const c of checked.claims) args.push(JSON.stringify(c.value), c.ttl?.toString() ?? '');
  for (const p of checked.pending) args.push(p.id, String(p.score));
  return { keys, args };
}

/** What each key of a CLAIM_ALL call holds after `reply`: the text it wrote, or the one the reply says was there. */
export function textsAfterClaimAll(args: readonly string[], reply: unknown): (string | null)[] {
  const texts = Array.from({ length: Number(args[0]) }, (_, i) => args[2 * i + 1] as string);
  return Array.isArray(reply) ? (reply as (string | null)[]) : texts;
}

/** CLAIM_ALL's reply as Claims: 1 when claimed, else each key's JSON text or nil. */
export function claimsFromReply(reply: unknown): Claims {
  if (!Array.isArray(reply)) return { claimed: true };
  return { claimed: false, values: reply.map((raw) => (raw === null ? undefined : JSON.parse(raw as string))) };
}

/** Runs a script by EVALSHA, falling back to EVAL the first time a server has not seen it. */
export async function runScript(client: RedisClient, lua: Script, keys: string[], args: string[]): Promise<unknown> {
  const options = { keys, arguments: args };
  try {
    return await client.evalSha(lua.sha, options);
  } catch (error) {
    if (!(isServerReply(error) && error.message.startsWith('NOSCRIPT'))) throw error;
    return await client.eval(lua.source, options);
  }
}

/** Connects `client`; rejects with StoreUnavailableError naming the host (never the URL's credentials). */
export async function connectClient(client: RedisClient, address: string): Promise<void> {
  try {
    await client.connect();
  } catch (error) {
    const cause = (error as { socketError?: unknown }).socketError ?? error;
    throw new StoreUnavailableError(`Cannot connect to Redis at ${address}: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
  }
}

/** Closes `client`, waiting at most `timeoutMs` for the replies still owed: a server dying then must not hold shutdown up. */
export async function closeClient(client: RedisClient, timeoutMs: number): Promise<void> {
  if (!client.isOpen) return;
  if (!client.isReady) return client.destroy();
  await Promise.race([client.close(), sleep(timeoutMs, undefined, { ref: false })]);
}

/** Server replies that mean "not now" rather than "never": the caller should treat them as an outage. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;

/** `host:port` of a Redis URL, never its credentials. */
export function redisAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return '(unparseable URL)';
  }
}

/** node-redis does not name its error classes; a reply from the server is an ErrorReply (or a subclass). */
export function isServerReply(error: unknown): error is Error {
  for (let proto = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === 'ErrorReply') return true;
  }
  return false;
}

/** One call to Redis, bounded by `timeoutMs`, with its failure told as a StoreError (see `redisStoreError`). */
export async function boundedCall<T>(
  address: string,
  command: string,
  timeoutMs: number,
  call: () => Promise<T>,
): Promise<T> {
  const late = `Redis at ${address} did not answer ${command} within ${timeoutMs} ms`;
  try {
    return await withDeadline(call(), timeoutMs, () => new StoreUnavailableError(late));
  } catch (error) {
    throw redisStoreError(address, command, error);
  }
}

/** A failed Redis call as a StoreError: a refusal by the server is final, anything else an outage. */
export function redisStoreError(address: string, command: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const message = (error as Error)?.message ?? String(error);
  if (isServerReply(error) && !TRANSIENT_REPLY.test(message)) {
    return new StoreError('STORE_FAILED', `Redis at ${address} refused ${command}: ${message}`, { cause: error });
  }
  return new StoreUnavailableError(`Redis at ${address} is unavailable (${command}): ${message}`, { cause: error });
}

export type RedisClient = ReturnType<typeof createClient>;

/**
 * A node-redis client that fails fast while disconnected and reconnects in the background. Until the first
 * connection it gives up after `connectTimeoutMs`, so a start fails clearly; after it, it never gives up: a
 * node-redis client whose strategy says "stop" closes for good. It logs when the connection is lost and back.
 */
export function reconnectingClient(url: string, connectTimeoutMs: number, logger: Logger | undefined): RedisClient {
  const startedAt = Date.now();
  const redis = redisAddress(url);
  let everReady = false;
  let connected = false;
  const client: RedisClient = createClient({
    url,
    // Commands sent while disconnected fail at once instead of waiting, unbounded, for a reconnect.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: Math.min(connectTimeoutMs, 2_000),
      reconnectStrategy: (retries) => {
        if (!everReady && Date.now() - startedAt >= connectTimeoutMs) {
          return new Error(`gave up connecting after ${connectTimeoutMs} ms`);
        }
        return Math.min(50 * 2 ** retries, 1_000) + Math.floor(Math.random() * 100);
      },
    },
  });
  // An EventEmitter 'error' with no listener would crash the process; connection errors are expected
  // while Redis is away, and operations report them to their callers.
  client.on('error', (error: Error) => {
    if (connected) logger?.warn({ redis, error: error.message }, 'Lost the connection to Redis; reconnecting');
    else logger?.debug({ redis, error: error.message }, 'Redis connection attempt failed');
    connected = false;
  });
  client.on('ready', () => {
    if (everReady) logger?.info({ redis }, 'Reconnected to Redis');
    everReady = true;
    connected = true;
  });
  return client;
}
