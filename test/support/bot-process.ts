/**
 * The compiled bot (`dist/main.js`, built once by the global setup) as a real child process: for tests of what an
 * operator sees (signals, exit codes, probes, start failures). Its stdout is pino's JSON, one object per line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LogLine } from './log-capture.js';

export const COMPILED_MAIN = resolve(import.meta.dirname, '../../dist/main.js');

/** The environment of a bot on the embedded store and the sandbox; Slack is never reached in these tests. */
export function sandboxEnv(dataDir = './data'): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: 'xoxb-test-token-000',
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    SLACK_API_URL: 'http://127.0.0.1:9/api/',
    WAPING_SANDBOX: 'true',
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'info',
  };
}

export interface BotProcessOptions {
  /** The bot's whole environment, besides PATH and HOME (the test's own environment is not inherited). */
  env: Record<string, string>;
  /** Working directory; a fresh empty one by default, so no developer's `.env` is loaded. */
  cwd?: string;
  /** What to run; `node dist/main.js` by default (e.g. `['npm', 'start']`). */
  command?: string[];
  /** Run as this user and group (only root may ask), e.g. an unprivileged user as in the container. */
  user?: { uid: number; gid: number };
}

export interface BotProcess {
  child: ChildProcess;
  /** stdout lines parsed as JSON so far; a line that is not JSON is kept as `{ notJson: line }`. */
  lines(): LogLine[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the first log line (already written or still to come) that matches, or rejects after `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** The port from the `bot started` line (waits for it). */
  port(timeoutMs?: number): Promise<number>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Send a signal (SIGTERM by default) and wait for the exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startBotProcess(options: BotProcessOptions): BotProcess {
  const [command, ...args] = options.command ?? [process.execPath, COMPILED_MAIN];
  const child = spawn(command as string, args, {
    cwd: options.cwd ?? mkdtempSync(join(tmpdir(), 'bot-process-')),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options.user,
  });
  const parsed: LogLine[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete.filter((l) => l.trim() !== '')) {
      try {
        parsed.push(JSON.parse(line));
      } catch {
        parsed.push({ notJson: line });
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => {
      for (const wake of waiters) wake();
      done({ code, signal });
    }),
  );

  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 15_000) =>
    new Promise<LogLine>((resolveLine, reject) => {
      const check = () => {
        const found = parsed.find(match);
        if (found) {
          finish();
          resolveLine(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          finish();
          reject(new Error(`bot exited (${child.exitCode ?? child.signalCode}) before the awaited log line`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no matching log line within ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    child,
    lines: () => [...parsed],
    stderr: () => stderr,
    waitForLog,
    port: async (timeoutMs) => (await waitForLog((l) => l.msg === 'bot started', timeoutMs)).port as number,
    exited,
    async stop(signal = 'SIGTERM', graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(killer);
      }
    },
  };
}
