import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyForOrigin } from '../src/core/idempotency.js';
import { createWapingSandbox, type WapingSandbox } from '../src/sandbox/waping-sandbox.js';
import {
  BOT_TOKEN,
  DEPLOYED_STORES,
  SIGNING_SECRET,
  submitSendModal,
  WAPING_KEY,
  waitFor,
} from './support/bot-harness.js';
import { testRedisUrl, uniqueNamespace } from './support/redis.js';
import { type SlackFake, startSlackFake } from './support/slack-fake.js';

const ROOT = resolve(import.meta.dirname, '..');
/** tsx's loader by absolute URL: the bot runs in a temp folder (no .env there), and is one process to kill. */
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

interface BotProcess {
  child: ChildProcess;
  port: number;
  output: () => string;
}

/** Start the real entry point (`src/main.ts`) as its own process and wait for its "bot started" line. */
async function startBotProcess(env: Record<string, string>, cwd: string): Promise<BotProcess> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, join(ROOT, 'src/main.ts')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const port = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`bot exited early: ${output}`);
      const started = output.split('\n').find((line) => line.includes('"bot started"'));
      return started ? (JSON.parse(started).port as number) : undefined;
    },
    20_000,
    'the bot process to start',
  );
  return { child, port, output: () => output };
}

describe.each(DEPLOYED_STORES)('a bot process killed mid-send, on the %s store', (store) => {
  let slack: SlackFake;
  let waping: WapingSandbox;
  let dataDir: string;
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    slack = await startSlackFake();
    waping = createWapingSandbox({ apiKey: WAPING_KEY, emitWebhooks: false });
    await waping.listen(0);
    dataDir = mkdtempSync(join(tmpdir(), 'waping-crash-'));
  });
  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await waping.close();
    await slack.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is resumed by the restarted process, which sends it once', async () => {
    const env = {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      WAPING_API_URL: waping.url,
      WAPING_API_KEY: WAPING_KEY,
      WAPING_TIMEOUT_MS: '600', // shorter than the sandbox's 3 s answer: the resumed attempts time out until it lands
      DATA_DIR: dataDir,
      PORT: '0',
      SEND_LEASE_MS: '1500',
      SWEEP_INTERVAL_MS: '200',
      ...(store === 'redis' ? { STORE_URL: `${testRedisUrl()}?namespace=${uniqueNamespace('crash')}` } : {}),
    };
    const first = await startBotProcess(env, dataDir);
    running.push(first.child);
    // WAPing takes 3 s to answer the first attempt: the process dies while it waits.
    waping.script({ delayMs: 3_000 });
    const viewId = `V0CRASH${store}`;
    const key = keyForOrigin('T0TEAM', viewId);
    const submitted = await submitSendModal({ eventsUrl: `http://127.0.0.1:${first.port}/slack/events` }, { viewId });
    expect(submitted.status).toBe(200);
    await waitFor(() => waping.requests.some((r) => r.key === key), 10_000, 'the first attempt to reach WAPing');
    first.child.kill('SIGKILL');
    await waitFor(() => first.child.exitCode !== null || first.child.signalCode !== null, 5_000, 'the process to die');
    const killedAt = Date.now();

    const second = await startBotProcess(env, dataDir);
    running.push(second.child);
    await waitFor(
      () =>
        waping.requests.some(
          (r) => r.key === key && r.at > killedAt && (r.outcome === 'replayed' || r.outcome === 'accepted'),
        ),
      15_000,
      'the restarted process to resume the send',
    );
    const parent = slack.callsTo('chat.postMessage')[0];
    await waitFor(
      () =>
        slack
          .callsTo('chat.update')
          .some((c) => c.args.ts === parent?.args.ts || String(c.args.text).includes('Queued')),
      10_000,
      'the parent message to show Queued',
    );
    expect(waping.sendsFor(key)).toBe(1);
    expect(waping.totalSends()).toBe(1);
    expect(new Set(waping.requests.filter((r) => r.key === key).map((r) => r.body)).size).toBe(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    const logs = first.output() + second.output();
    expect(logs).not.toContain('+14155552671');
    expect(logs).not.toContain('Your order is ready');
    expect(logs).not.toContain(BOT_TOKEN);
    second.child.kill('SIGTERM');
  });
});
