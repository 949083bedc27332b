import { tmpdir } from 'node:os';
import { createStore } from '../src/adapters/store/create-store.js';
import { type RedisServer, startRedisServer } from '../test/support/redis-server.js';

/**
 * A Redis for a bench's store rows (REDIS_URL, else 127.0.0.1:6379, else a throwaway redis-server) and the server to
 * stop afterwards, if one was started; `skipped` with the reason when there is none.
 */
export async function findRedis(): Promise<{ url: string; server?: RedisServer } | { skipped: string }> {
  const candidates = process.env.REDIS_URL ? [process.env.REDIS_URL] : ['redis://127.0.0.1:6379'];
  for (const url of candidates) {
    try {
      const probe = await createStore({ url, dataDir: tmpdir(), namespace: 'bench-probe', connectTimeoutMs: 1_000 });
      await probe.close();
      return { url };
    } catch {
      // Not reachable; try to start one below.
    }
  }
  if (process.env.REDIS_URL) return { skipped: `REDIS_URL (${process.env.REDIS_URL}) is unreachable` };
  try {
    const server = await startRedisServer();
    return { url: server.url, server };
  } catch (error) {
    return { skipped: `no Redis on 127.0.0.1:6379 and none could be started (${(error as Error).message})` };
  }
}
