import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';

export { type RedisServer, startRedisServer } from './redis-server.js';

/** The shared Redis from the global setup. */
export function testRedisUrl(): string {
  return inject('redisUrl');
}

/** A key namespace no other test file or run uses, so tests sharing one Redis never see each other's keys. */
export function uniqueNamespace(label: string): string {
  return `test:${label}:${randomUUID().slice(0, 8)}`;
}
