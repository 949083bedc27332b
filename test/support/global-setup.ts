import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startRedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Redis every test file shares; each file keeps to its own namespace (see uniqueNamespace). */
    redisUrl: string;
  }
}

/** Uses REDIS_URL when given, otherwise starts a throwaway redis-server for the whole run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Tests of the compiled bot as a child process (test/support/bot-process.ts) run dist/main.js: build it once.
  execFileSync(
    process.execPath,
    [resolve(import.meta.dirname, '../../node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: resolve(import.meta.dirname, '../..'),
      stdio: 'inherit',
    },
  );
  const given = process.env.REDIS_URL;
  if (given) {
    project.provide('redisUrl', given);
    return async () => {};
  }
  const server = await startRedisServer();
  project.provide('redisUrl', server.url);
  return () => server.stop();
}
