import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Keyv } from 'keyv';
import type { Logger, Store } from '../../core/ports.js';
import { KeyvStore } from './keyv-store.js';
import { RedisStore } from './redis-store.js';
import { SqliteAdapter } from './sqlite-adapter.js';

export interface CreateStoreOptions {
  /** STORE_URL: empty for the embedded file, `memory://`, or `redis://` / `rediss://`. */
  url?: string | undefined;
  /** Where the embedded store keeps `state.sqlite`. */
  dataDir: string;
  /** Redis key prefix; default `waping-bot`. The embedded and memory stores own their backend and need none. */
  namespace?: string | undefined;
  logger?: Logger | undefined;
  /** How long to wait for Redis at start-up; default 5 s. */
  connectTimeoutMs?: number | undefined;
}

/**
 * A Keyv over one of our own single-process backends. Plain JSON (not @keyv/serialize, which rewrites strings
 * starting with ':'), and no key prefix: Keyv skips the prefix for keys that already start with it, so
 * `ns:x` and `x` would be the same entry.
 */
function ownedKeyv(store?: SqliteAdapter): Keyv {
  return new Keyv({
    ...(store ? { store } : {}),
    namespace: undefined,
    useKeyPrefix: false,
    serialize: JSON.stringify,
    deserialize: JSON.parse,
  });
}

/**
 * The Store that STORE_URL names: the embedded durable SQLite file (`<dataDir>/state.sqlite`) when empty,
 * Keyv's in-memory Map for `memory://` (tests, one-off runs), Redis for `redis://` and `rediss://` (several
 * replicas). Resolves once the backend is ready.
 */
export async function createStore(options: CreateStoreOptions): Promise<Store> {
  const url = options.url?.trim() ?? '';
  if (url === '') {
    await mkdir(options.dataDir, { recursive: true });
    return new KeyvStore(ownedKeyv(new SqliteAdapter({ path: join(options.dataDir, 'state.sqlite') })));
  }
  if (url === 'memory://') return new KeyvStore(ownedKeyv());
  if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    // `?namespace=` lets deployments (and test processes) that share one Redis keep their keys apart.
    const parsed = new URL(url);
    const namespace = parsed.searchParams.get('namespace') ?? options.namespace ?? 'waping-bot';
    parsed.searchParams.delete('namespace');
    return RedisStore.connect({
      url: parsed.toString(),
      namespace,
      logger: options.logger,
      connectTimeoutMs: options.connectTimeoutMs,
    });
  }
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? 'a value without a scheme';
  throw new Error(
    `STORE_URL must be empty (embedded store in DATA_DIR), memory://, redis://… or rediss://…; got ${scheme}`,
  );
}
