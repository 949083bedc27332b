import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bot, startBot } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { CUSTOMER_ANSWER } from '../src/sandbox/customer.js';
import { BOT_TOKEN, expectCleanLogs, SIGNING_SECRET, submitSendModal, waitFor } from './support/bot-harness.js';
import { createLogCapture } from './support/log-capture.js';
import { type SlackFake, startSlackFake } from './support/slack-fake.js';
import { readableMessageText } from './support/slack-reader.js';

const TO = '+14155550107';

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
    expectCleanLogs(logs, ['Your order is ready', 'Is Tuesday fine', CUSTOMER_ANSWER, 'the blue one', TO.slice(1)]);
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

  /** The texts of the customers' messages posted in a thread, in order. */
  const thread = (channel: string, ts: string) =>
    slack
      .threadReplies(channel, ts)
      .filter((c) => JSON.stringify(c.args.blocks ?? []).includes('inbound_actions'))
      .map((c) => readableMessageText(c.args.blocks));

  const inject = (body: unknown) =>
    request(`${bot.url}/sandbox/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('plays the customer: answers a question in its thread, and POST /sandbox/inbound injects any message', async () => {
    await submitSendModal(
      { eventsUrl: `${bot.url}/slack/events` },
      { viewId: 'V0SANDBOXQ', recipient: TO, text: 'Is Tuesday fine?' },
    );
    const parent = await waitFor(() => slack.messages().find((m) => m.text?.includes('+1 415 555 0107')));
    await waitFor(() => thread(parent.channel, parent.ts).length === 1, 15_000, "the customer's answer");
    expect(thread(parent.channel, parent.ts)).toEqual([CUSTOMER_ANSWER]);

    const injected = await inject({ from: TO, deviceId: 'dev_support', text: 'Also, the blue one.' });
    expect(injected.statusCode).toBe(202);
    expect(await injected.body.json()).toMatchObject({ messageId: expect.any(String), webhookId: expect.any(String) });
    await waitFor(() => thread(parent.channel, parent.ts).length === 2, 10_000, 'the injected message');
    expect(thread(parent.channel, parent.ts)).toEqual([CUSTOMER_ANSWER, 'Also, the blue one.']);
  });

  it('refuses a malformed injection with the reason', async () => {
    const res = await inject({ from: '555', text: 'x' });
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(await res.body.json())).toContain('from');
  });
});
