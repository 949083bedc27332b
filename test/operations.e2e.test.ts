/**
 * What an operator sees of the compiled bot as a process: how it stops, how a start that cannot succeed ends,
 * and that stdout carries JSON lines only.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyForOrigin } from '../src/core/idempotency.js';
import { createWapingSandbox, type WapingSandbox } from '../src/sandbox/waping-sandbox.js';
import { BOT_TOKEN, SIGNING_SECRET, submitSendModal, WAPING_KEY, waitFor } from './support/bot-harness.js';
import { type BotProcess, COMPILED_MAIN, sandboxEnv, startBotProcess } from './support/bot-process.js';
import { type SlackFake, startSlackFake } from './support/slack-fake.js';
import { slashCommand } from './support/slack-requests.js';

const REPO = resolve(import.meta.dirname, '..');
const AS_ROOT = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534 };

/** Whether an unprivileged user can run the compiled bot from where this checkout lies (not under /root, say). */
function nobodyCanRunTheBot(): boolean {
  const probe = spawnSync(process.execPath, ['-e', `require('node:fs').accessSync(${JSON.stringify(COMPILED_MAIN)})`], {
    ...NOBODY,
    cwd: tmpdir(),
  });
  return probe.status === 0;
}

function listen(port = 0): Promise<Server> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(port, () => done(server));
  });
}

function portOf(server: Server): number {
  return (server.address() as { port: number }).port;
}

function close(server: Server): Promise<void> {
  return new Promise((done) => server.close(() => done()));
}

/** A loopback port that nothing listens on (taken and released). */
async function closedPort(): Promise<number> {
  const server = await listen();
  const port = portOf(server);
  await close(server);
  return port;
}

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'bot-ops-'));
}

/** The start fails: one fatal line naming the problem, no stack, a non-zero code, nothing on stderr. */
async function expectOneLineStartFailure(bot: BotProcess, problem: RegExp, exitCode: number) {
  const bounded = new Promise<'still running'>((done) => setTimeout(done, 15_000, 'still running').unref());
  const exit = await Promise.race([bot.exited, bounded]);
  expect(exit).not.toBe('still running');
  expect(exit).toEqual({ code: exitCode, signal: null });
  const lines = bot.lines();
  const fatal = lines.filter((line) => line.level === 60);
  expect(fatal).toHaveLength(1);
  expect(lines.at(-1)).toBe(fatal[0]);
  expect(fatal[0]?.msg).toBe('start failed');
  expect(fatal[0]?.problem).toMatch(problem);
  expect(JSON.stringify(fatal[0])).not.toMatch(/\bat .*\(|stack/);
  expect(lines.filter((line) => 'notJson' in line)).toEqual([]);
  expect(bot.stderr()).toBe('');
}

describe('starting and stopping the compiled bot', () => {
  let bot: BotProcess | undefined;
  let blocker: Server | undefined;
  afterEach(async () => {
    await bot?.stop('SIGKILL');
    bot = undefined;
    if (blocker) await close(blocker);
    blocker = undefined;
  });

  it('frees its port within 10 s when the npm start process gets SIGTERM', async () => {
    bot = startBotProcess({ env: sandboxEnv(freshDir()), cwd: REPO, command: ['npm', 'start'] });
    const port = await bot.port(30_000);
    const exit = await bot.stop('SIGTERM', 10_000);
    expect(exit.signal).toBeNull();
    expect(bot.lines().some((line) => line.msg === 'stopped')).toBe(true);
    // The port is free again: nothing of the bot kept running behind npm.
    blocker = await listen(port);
    expect(portOf(blocker)).toBe(port);
  });

  it('names the version in its start line', async () => {
    bot = startBotProcess({ env: sandboxEnv(freshDir()) });
    const started = await bot.waitForLog((line) => line.msg === 'bot started');
    expect(started.version).toMatch(/^0\.1\.0(\+g[0-9a-f]{7,12})?$/);
  });

  it('ends the start with one line when the port is taken', async () => {
    blocker = await listen();
    const port = portOf(blocker);
    bot = startBotProcess({ env: { ...sandboxEnv(freshDir()), PORT: String(port) } });
    await expectOneLineStartFailure(bot, new RegExp(`PORT ${port} is already in use`), 75);
  });

  it('ends the start with one line when Redis cannot be reached', async () => {
    const port = await closedPort();
    bot = startBotProcess({ env: { ...sandboxEnv(freshDir()), STORE_URL: `redis://127.0.0.1:${port}` } });
    await expectOneLineStartFailure(bot, new RegExp(`Cannot connect to Redis at 127\\.0\\.0\\.1:${port}`), 69);
  });

  it('ends the start with one line when STORE_URL has an unknown scheme', async () => {
    bot = startBotProcess({ env: { ...sandboxEnv(freshDir()), STORE_URL: 'mongodb://127.0.0.1/bot' } });
    await expectOneLineStartFailure(bot, /STORE_URL must be .*; got mongodb:/, 78);
  });

  it.skipIf(AS_ROOT && !nobodyCanRunTheBot())(
    'ends the start with one line when DATA_DIR cannot be created for lack of permission',
    async () => {
      // As in the container: the working directory belongs to someone else and DATA_DIR=./data is relative to it.
      // Root may write anywhere, so as root the bot runs as an unprivileged user (when that user can read dist/).
      const cwd = freshDir();
      chmodSync(cwd, AS_ROOT ? 0o755 : 0o555);
      bot = startBotProcess({ env: sandboxEnv('./data'), cwd, ...(AS_ROOT ? { user: NOBODY } : {}) });
      await expectOneLineStartFailure(bot, /DATA_DIR \.\/data cannot be created or written \(EACCES\)/, 73);
    },
  );

  it.skipIf(AS_ROOT && !nobodyCanRunTheBot())(
    'ends the start with one line when DATA_DIR is an existing directory it may not write',
    async () => {
      const cwd = freshDir();
      mkdirSync(join(cwd, 'data'), { mode: 0o555 });
      chmodSync(cwd, 0o755);
      bot = startBotProcess({ env: sandboxEnv('./data'), cwd, ...(AS_ROOT ? { user: NOBODY } : {}) });
      await expectOneLineStartFailure(bot, /DATA_DIR \.\/data cannot be created or written \(EACCES\)/, 73);
    },
  );

  it('ends the start with one line when DATA_DIR runs through a file', async () => {
    const cwd = freshDir();
    writeFileSync(join(cwd, 'state'), 'not a directory');
    bot = startBotProcess({ env: sandboxEnv('./state/data'), cwd });
    await expectOneLineStartFailure(bot, /DATA_DIR \.\/state\/data cannot be created or written \(ENOTDIR\)/, 73);
  });

  it('ends the start with one line when DATA_DIR is under /proc', async () => {
    bot = startBotProcess({ env: sandboxEnv('/proc/waping-bot') });
    await expectOneLineStartFailure(bot, /DATA_DIR \/proc\/waping-bot is under \/proc/, 73);
  });

  it('writes only JSON lines to stdout and nothing to stderr while Slack is unreachable', async () => {
    bot = startBotProcess({ env: sandboxEnv(freshDir()) });
    const port = await bot.port();
    // The start-up auth.test fails once the WebClient's retries against the closed port end (about 8 s)...
    await bot.waitForLog((line) => / failed; retrying with backoff$/.test(line.msg ?? ''), 20_000);
    // ...and a command then must not await an old rejection (Bolt's own auth did: PromiseRejectionHandledWarning).
    await slashCommand(`http://127.0.0.1:${port}/slack/events`, 'test-signing-secret', {
      text: 'help',
      user_id: 'U0SENDER',
      channel_id: 'C0CHANNEL',
    });
    await bot.waitForLog((line) => line.warning === 'PromiseRejectionHandledWarning', 5_000).catch(() => undefined);
    const exit = await bot.stop('SIGTERM', 10_000);
    expect(exit.code).toBe(0);
    expect(bot.lines().filter((line) => 'notJson' in line)).toEqual([]);
    expect(bot.stderr()).toBe('');
    // Each failed Slack call says which method failed against which host.
    const failed = bot
      .lines()
      .filter((line) => line.component === 'bolt' && line.msg.startsWith('http request failed'));
    expect(failed.length).toBeGreaterThan(0);
    for (const line of failed) expect(line.msg).toMatch(/^http request failed auth\.test at 127\.0\.0\.1:9: /);
    for (const line of bot.lines()) expect(line).not.toHaveProperty('detail');
    expect(bot.lines().filter((line) => line.msg === 'unhandled rejection')).toEqual([]);
  }, 40_000);
});

describe('draining on SIGTERM', () => {
  let slack: SlackFake;
  let waping: WapingSandbox;
  let bot: BotProcess | undefined;
  beforeAll(async () => {
    slack = await startSlackFake();
    waping = createWapingSandbox({ apiKey: WAPING_KEY, emitWebhooks: false });
    await waping.listen(0);
  });
  afterAll(async () => {
    await bot?.stop('SIGKILL');
    await waping.close();
    await slack.close();
  });

  it('finishes a send that is waiting for WAPing before it exits, within 10 s', async () => {
    bot = startBotProcess({
      env: {
        ...sandboxEnv(freshDir()),
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        WAPING_SANDBOX: 'false',
        WAPING_API_URL: waping.url,
        WAPING_API_KEY: WAPING_KEY,
      },
    });
    const port = await bot.port();
    // WAPing answers the send after 3 s: the signal arrives while the bot waits for it.
    waping.script({ delayMs: 3_000 });
    const viewId = 'V0DRAIN';
    const key = keyForOrigin('T0TEAM', viewId);
    const submitted = await submitSendModal({ eventsUrl: `http://127.0.0.1:${port}/slack/events` }, { viewId });
    expect(submitted.status).toBe(200);
    await waitFor(() => waping.requests.some((r) => r.key === key), 10_000, 'the send to reach WAPing');
    const exit = await bot.stop('SIGTERM', 10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    // WAPing took the message once, and the bot saw its answer through before exiting: Slack shows it queued.
    expect(waping.sendsFor(key)).toBe(1);
    expect(bot.lines().some((line) => line.msg === 'stopped')).toBe(true);
    expect(slack.callsTo('chat.update').some((call) => String(call.args.text).includes('Queued'))).toBe(true);
  });

  it('exits after 10 s of draining when a send is still waiting, and says it left work for the next start', async () => {
    const dataDir = freshDir();
    bot = startBotProcess({
      env: {
        ...sandboxEnv(dataDir),
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        WAPING_SANDBOX: 'false',
        WAPING_API_URL: waping.url,
        WAPING_API_KEY: WAPING_KEY,
        WAPING_TIMEOUT_MS: '60000',
        SEND_LEASE_MS: '130000',
      },
    });
    const port = await bot.port();
    waping.script({ delayMs: 40_000 });
    const key = keyForOrigin('T0TEAM', 'V0DRAINLONG');
    await submitSendModal({ eventsUrl: `http://127.0.0.1:${port}/slack/events` }, { viewId: 'V0DRAINLONG' });
    await waitFor(() => waping.requests.some((r) => r.key === key), 10_000, 'the send to reach WAPing');
    const exit = await bot.stop('SIGTERM', 15_000);
    expect(exit).toEqual({ code: 0, signal: null });
    const unfinished = bot.lines().find((line) => line.msg.includes('did not finish in time'));
    expect(unfinished).toMatchObject({ drainMs: 10_000 });
  }, 40_000);
});
