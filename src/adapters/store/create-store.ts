import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Keyv } from 'keyv';
import type { Logger, Store } from '../../core/ports.js';
import { StoreError } from './errors.js';
import { KeyvStore } from './keyv-store.js';
import type { SqliteAdapter } from './sqlite-adapter.js';

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
 *
 * Each backend's driver (better-sqlite3; @keyv/redis with node-redis) is loaded only when STORE_URL picks it, so a
 * process keeps in memory only the one it uses.
 */
export async function createStore(options: CreateStoreOptions): Promise<Store> {
  const url = options.url?.trim() ?? '';
  if (url === '') {
    await prepareDataDir(options.dataDir);
    const sqlite = await openSqlite(join(options.dataDir, 'state.sqlite'));
    return new KeyvStore(ownedKeyv(sqlite), sqlite.pendingSets);
  }
  if (url === 'memory://') return new KeyvStore(ownedKeyv());
  if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    // `?namespace=` lets deployments (and test processes) that share one Redis keep their keys apart.
    const parsed = new URL(url);
    const namespace = parsed.searchParams.get('namespace') ?? options.namespace ?? 'waping-bot';
    parsed.searchParams.delete('namespace');
    const { RedisStore } = await import('./redis-store.js');
    return RedisStore.connect({
      url: parsed.toString(),
      namespace,
      logger: options.logger,
      connectTimeoutMs: options.connectTimeoutMs,
    });
  }
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? 'a value without a scheme';
  throw new StoreError(
    'STORE_URL_SCHEME',
    `STORE_URL must be empty (embedded store in DATA_DIR), memory://, redis://… or rediss://…; got ${scheme}`,
  );
}

/** What the file system says when a directory cannot be created or written, as opposed to a bug of ours. */
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'ENOSPC', 'EDQUOT']);

/**
 * Creates DATA_DIR and checks that this process may write there, so a bad DATA_DIR fails at start with its
 * name instead of a stack from SQLite. `/proc` is refused up front: Node's recursive mkdir loops forever there.
 */
async function prepareDataDir(dataDir: string): Promise<void> {
  const absolute = resolve(dataDir);
  if (absolute === '/proc' || absolute.startsWith(`/proc${sep}`)) {
    throw new StoreError('DATA_DIR_UNUSABLE', `DATA_DIR ${dataDir} is under /proc, which cannot hold files`);
  }
  try {
    await mkdir(absolute, { recursive: true });
    await access(absolute, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!code || !UNWRITABLE.has(code)) throw error;
    throw new StoreError('DATA_DIR_UNUSABLE', `DATA_DIR ${dataDir} cannot be created or written (${code})`, {
      cause: error,
    });
  }
}

/** The SQLite file, or a StoreError that says the native module is missing (installed with --ignore-scripts). */
async function openSqlite(path: string): Promise<SqliteAdapter> {
  try {
    const { SqliteAdapter } = await import('./sqlite-adapter.js');
    return new SqliteAdapter({ path });
  } catch (error) {
    if (/Could not locate the bindings file|better_sqlite3\.node/.test(String((error as Error)?.message))) {
      throw new StoreError(
        'NATIVE_MODULE_MISSING',
        "better-sqlite3's native module is not built (was the install run with --ignore-scripts?): run `npm rebuild better-sqlite3`",
        { cause: error },
      );
    }
    throw error;
  }
}
