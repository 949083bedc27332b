import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bot, startBot } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { BOT_TOKEN, expectCleanLogs, SIGNING_SECRET, submitSendModal, waitFor } from './support/bot-harness.js';
import { createLogCapture } from './support/log-capture.js';
import { type SlackFake, startSlackFake } from './support/slack-fake.js';

describe('WAPING_SANDBOX=true on the embedded store', () => {
  let slack: SlackFake;
  let bot: Bot;
  let dataDir: string;
  const logs = createLogCapture();

  beforeAll(async () => {
    slack = await startSlackFake();
    dataDir = mkdtempSync(join(tmpdir(), 'waping-sandbox-mode-'));
    // Exactly what .env.example configures: no WAPing URL or key, no webhook secret, no STORE_URL.
    const config = loadConfig({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      WAPING_SANDBOX: 'true',
      DATA_DIR: dataDir,
      PORT: '0',
    });
    bot = await startBot(config, { logger: createLogger('debug', logs.stream) });
  });
  afterAll(async () => {
    await bot.stop();
    await slack.close();
    rmSync(dataDir, { recursive: true, force: true });
    expectCleanLogs(logs, ['Your order is ready']);
  });

  it('sends through the built-in simulator and follows its signed webhooks to Read', async () => {
    expect(bot.sandbox).toBeDefined();
    await submitSendModal({ eventsUrl: `${bot.url}/slack/events` }, { viewId: 'V0SANDBOX1' });
    const parent = await waitFor(() => slack.callsTo('chat.postMessage')[0]);
    await waitFor(
      () => slack.message(String(parent.args.channel), String(slack.messages()[0]?.ts))?.text?.includes('Read'),
      15_000,
      'Read',
    );
    const message = slack.messages()[0];
    const replies = slack.threadReplies(message?.channel ?? '', message?.ts ?? '').map((c) => String(c.args.text));
    expect(replies).toEqual([
      expect.stringContaining('Sent'),
      expect.stringContaining('Delivered'),
      expect.stringContaining('Read'),
    ]);
    expect(bot.sandbox?.totalSends()).toBe(1);
  });
});
