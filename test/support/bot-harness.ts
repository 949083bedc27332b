import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type Bot, type BotOverrides, startBot } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createWapingSandbox, type WapingSandbox } from '../../src/sandbox/waping-sandbox.js';
import { createLogCapture, type LogCapture } from './log-capture.js';
import { testRedisUrl, uniqueNamespace } from './redis.js';
import { type FakeFile, type SlackFake, startSlackFake } from './slack-fake.js';
import { type SlackResponse, viewSubmission } from './slack-requests.js';

export type StoreKind = 'redis' | 'embedded' | 'memory';

/** The two stores a deployment can run on; e2e suites run against both. */
export const DEPLOYED_STORES: StoreKind[] = ['redis', 'embedded'];

export const SIGNING_SECRET = 'test-signing-secret';
export const BOT_TOKEN = 'xoxb-test-token-000';
export const WAPING_KEY = 'waping-test-key';
export const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export interface HarnessOptions {
  store: StoreKind;
  /** CONFIG_FILE contents (written to a temp file). */
  configFile?: object;
  env?: Record<string, string>;
  overrides?: BotOverrides;
  /** Share a sandbox, Slack fake, data dir and Redis namespace with another harness (a second replica). */
  shareWith?: Harness;
}

/** A real bot on a real port, a Slack fake, the WAPing sandbox and a log capture. */
export interface Harness {
  bot: Bot;
  slack: SlackFake;
  waping: WapingSandbox;
  logs: LogCapture;
  dataDir: string;
  namespace: string;
  storeUrl?: string;
  /** `${bot.url}/slack/events` */
  eventsUrl: string;
  stop(): Promise<void>;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const shared = options.shareWith;
  const slack = shared?.slack ?? (await startSlackFake());
  const waping =
    shared?.waping ?? createWapingSandbox({ apiKey: WAPING_KEY, webhookSecret: WEBHOOK_SECRET, emitWebhooks: false });
  if (!shared) await waping.listen(0);
  const dataDir = shared?.dataDir ?? mkdtempSync(join(tmpdir(), 'waping-bot-'));
  const namespace = shared?.namespace ?? uniqueNamespace('e2e');
  const storeUrl = options.store === 'redis' ? testRedisUrl() : options.store === 'memory' ? 'memory://' : undefined;
  const env: Record<string, string> = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    WAPING_API_URL: waping.url,
    WAPING_API_KEY: WAPING_KEY,
    WAPING_WEBHOOK_SECRET: WEBHOOK_SECRET,
    WAPING_TIMEOUT_MS: '3000',
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'debug',
    ...(storeUrl ? { STORE_URL: storeUrl } : {}),
    ...options.env,
  };
  if (options.configFile) {
    const path = join(dataDir, `config-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(options.configFile));
    env.CONFIG_FILE = path;
  }
  const logs = createLogCapture();
  const bot = await startBot(loadConfig(env), {
    logger: createLogger('debug', logs.stream),
    storeNamespace: namespace,
    sendPolicy: { baseDelayMs: 100, maxDelayMs: 5_000 },
    // The suites send the default text to the default number from many forms within seconds; the same-text
    // warning would stop all but the first. Its own suite (same-text.e2e.test.ts) turns it on.
    sameTextWindowMs: 0,
    ...options.overrides,
  });
  if (!shared) waping.setWebhookUrl(`${bot.url}/waping/webhooks`);
  return {
    bot,
    slack,
    waping,
    logs,
    dataDir,
    namespace,
    storeUrl,
    eventsUrl: `${bot.url}/slack/events`,
    async stop() {
      await bot.stop();
      if (!shared) {
        await waping.close();
        await slack.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

export interface SendFormValues {
  viewId: string;
  recipient?: string;
  deviceId?: string;
  text?: string;
  user?: string;
  channel?: string;
  responseUrl?: string;
  /** "Send it again" ticked (asked when the same text went to the same number a few minutes ago). */
  sendAgain?: boolean;
  /** A file attached with the form's file_input (see `SlackFake.uploadFile`). */
  file?: FakeFile;
  /** A link to a file, typed in the form. */
  mediaUrl?: string;
}

/** The view_submission Slack sends when the send modal's Send button is pressed. */
export function sendModalView(values: SendFormValues) {
  return {
    id: values.viewId,
    callback_id: 'send_modal',
    private_metadata: JSON.stringify({ channelId: values.channel ?? 'C0SUPPORT', responseUrl: values.responseUrl }),
    state: {
      values: {
        recipient: { recipient_input: { type: 'plain_text_input', value: values.recipient ?? '+14155552671' } },
        device: {
          device_select: {
            type: 'static_select',
            selected_option:
              values.deviceId === undefined
                ? null
                : { value: values.deviceId, text: { type: 'plain_text', text: values.deviceId } },
          },
        },
        message: { message_input: { type: 'plain_text_input', value: values.text ?? 'Your order is ready' } },
        media_file: { media_file_input: { type: 'file_input', files: values.file ? [values.file] : [] } },
        media_url: { media_url_input: { type: 'url_text_input', value: values.mediaUrl ?? null } },
        send_again: {
          send_again_choice: {
            type: 'checkboxes',
            selected_options: values.sendAgain
              ? [{ value: 'send_again', text: { type: 'plain_text', text: 'Send it again' } }]
              : [],
          },
        },
      },
    },
  };
}

/** Submit the send modal as Slack would, signed. */
export function submitSendModal(h: Pick<Harness, 'eventsUrl'>, values: SendFormValues): Promise<SlackResponse> {
  return viewSubmission(h.eventsUrl, SIGNING_SECRET, {
    view: sendModalView({ deviceId: 'dev_support', ...values }),
    user_id: values.user ?? 'U0ALICE',
  });
}

/** Submit the approval modal (the Review button's form) as `user` would, signed: a decision and an optional comment. */
export function submitApprovalModal(
  h: Pick<Harness, 'eventsUrl'>,
  review: { groupId: string; user: string; decision: 'approve' | 'reject'; comment?: string },
): Promise<SlackResponse> {
  return viewSubmission(h.eventsUrl, SIGNING_SECRET, {
    user_id: review.user,
    view: {
      id: `V0REVIEW${randomUUID().slice(0, 8).toUpperCase()}`,
      callback_id: 'approval_modal',
      private_metadata: JSON.stringify({ groupId: review.groupId }),
      state: {
        values: {
          decision: { decision_choice: { type: 'radio_buttons', selected_option: { value: review.decision } } },
          comment: { comment_input: { type: 'plain_text_input', value: review.comment ?? null } },
        },
      },
    },
  });
}

/** Poll until `check` returns a truthy value (or throws no more), or fail after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Assert that no log line carries a phone number, a message text or a secret. */
export function expectCleanLogs(logs: LogCapture, forbidden: string[]): void {
  const lines = logs.text().split('\n');
  expect(lines.length).toBeGreaterThan(1);
  for (const secret of [BOT_TOKEN, SIGNING_SECRET, WAPING_KEY, WEBHOOK_SECRET, ...forbidden]) {
    const leak = lines.find((line) => line.includes(secret));
    expect(leak, `a log line contains ${secret.slice(0, 6)}…`).toBeUndefined();
  }
  // Any E.164 number at all, in any log field.
  expect(lines.find((line) => /\+\d{8,15}/.test(line))).toBeUndefined();
}
