import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A throwaway redis-server on loopback that a test can stop (an outage) and start again on the same port. */
export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

const NOT_FOUND = 'redis-server not found: install it (apt-get install redis-server) or set REDIS_URL';

function findRedisServer(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory; keep looking.
    }
  }
  throw new Error(NOT_FOUND);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('Could not find a free port');
  return address.port;
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** Children still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

async function spawnRedis(binary: string, port: number, dataDir?: string): Promise<ChildProcess> {
  // With a data dir, every write is appended and fsynced, so a restart keeps the data (a production Redis).
  const persistence = dataDir
    ? ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dataDir]
    : ['--save', '', '--appendonly', 'no', '--dir', tmpdir()];
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', ...persistence], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    running.delete(child);
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`redis-server exited on port ${port}:\n${output}`);
    if (await answersPing(port)) return child;
    await sleep(25);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer PING on port ${port} within 10 s:\n${output}`);
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killer);
}

/**
 * Starts a throwaway redis-server on a free loopback port and waits until it answers. With
 * `persistent`, its data survives stop/restart (append-only file in a temp dir), like a production Redis.
 */
export async function startRedisServer(options: { persistent?: boolean } = {}): Promise<RedisServer> {
  const dataDir = options.persistent ? mkdtempSync(join(tmpdir(), 'redis-data-')) : undefined;
  const binary = findRedisServer();
  let lastError: unknown;
  // Another process may take the free port before redis-server binds it; try a fresh one then.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      let child: ChildProcess | undefined = await spawnRedis(binary, port, dataDir);
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        async stop() {
          if (child) await stopRedis(child);
          child = undefined;
        },
        async restart() {
          if (child) await stopRedis(child);
          child = await spawnRedis(binary, port, dataDir);
        },
      };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
