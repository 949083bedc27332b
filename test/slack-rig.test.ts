import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, type Logger, LogLevel, webApi } from '@slack/bolt';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogCapture } from './support/log-capture.js';
import { type SlackFake, startSlackFake } from './support/slack-fake.js';
import {
  blockAction,
  blockSuggestion,
  sendRaw,
  signSlackRequest,
  slashCommand,
  viewSubmission,
} from './support/slack-requests.js';

const SECRET = 'test-signing-secret';

/** Bolt's Logger, silent, remembering warnings so tests can see why Bolt rejected a request. */
function recordingLogger(): Logger & { warnings: string[] } {
  let level = LogLevel.DEBUG;
  const warnings: string[] = [];
  return {
    warnings,
    debug: () => {},
    info: () => {},
    warn: (...msg: unknown[]) => {
      warnings.push(msg.map(String).join(' '));
    },
    error: () => {},
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

describe('the Slack test rig against a real Bolt app', () => {
  let fake: SlackFake;
  let app: App;
  let eventsUrl: string;
  const logger = recordingLogger();

  beforeAll(async () => {
    fake = await startSlackFake({ usergroups: { S0ADMINS: ['U0ALICE'] } });
    const receiver = new HTTPReceiver({
      signingSecret: SECRET,
      logger,
      // Bolt answers 404 when nothing acks in time; 1 s keeps that test short.
      unhandledRequestTimeoutMillis: 1_000,
    });
    app = new App({
      token: 'xoxb-test',
      receiver,
      logger,
      clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
    });

    app.command('/whatsapp', async ({ ack, command, client }) => {
      await ack();
      await client.views.open({
        trigger_id: command.trigger_id,
        view: {
          type: 'modal',
          callback_id: 'send_modal',
          private_metadata: JSON.stringify({ channel_id: command.channel_id }),
          title: { type: 'plain_text', text: 'WhatsApp' },
          submit: { type: 'plain_text', text: 'Send' },
          blocks: [
            {
              type: 'input',
              block_id: 'recipient',
              label: { type: 'plain_text', text: 'Phone' },
              element: { type: 'plain_text_input', action_id: 'phone' },
            },
          ],
        },
      });
    });
    app.command('/boom', async () => {
      throw new Error('listener failed before ack');
    });
    app.command('/silent', async () => {});
    app.view('send_modal', async ({ ack, view }) => {
      if (!view.state.values.recipient?.phone?.value) {
        await ack({ response_action: 'errors', errors: { recipient: 'Enter a phone number' } });
        return;
      }
      await ack();
    });
    app.action('retry_send', async ({ ack, respond }) => {
      await ack();
      await respond({ text: 'Retrying…', replace_original: false });
    });
    app.options<'block_suggestion'>({ action_id: 'recipient_search' }, async ({ ack, options }) => {
      await ack({ options: [{ text: { type: 'plain_text', text: `Match ${options.value}` }, value: options.value }] });
    });

    // app.start() returns the receiver's http.Server; listen options pick an OS port on loopback only.
    const server = await app.start({ port: 0, host: '127.0.0.1' });
    eventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });

  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  beforeEach(() => {
    fake.reset();
    logger.warnings.length = 0;
  });

  it('opens the modal through the fake Web API when a user runs /whatsapp', async () => {
    const response = await slashCommand(eventsUrl, SECRET, {
      text: '+49 151 2345678',
      user_id: 'U0ALICE',
      channel_id: 'C0SUPPORT',
      trigger_id: '123.456.abc',
    });

    expect(response.status).toBe(200);
    expect(response.body).toBe('');
    await vi.waitFor(() => expect(fake.callsTo('views.open')).toHaveLength(1));
    const [open] = fake.callsTo('views.open');
    expect(open?.token).toBe('xoxb-test');
    expect(open?.args).toMatchObject({
      trigger_id: '123.456.abc',
      team_id: 'T0TEAM',
      view: { callback_id: 'send_modal', private_metadata: '{"channel_id":"C0SUPPORT"}' },
    });
  });

  it('rejects a request signed with the wrong secret with 401 and an empty body', async () => {
    const response = await slashCommand(eventsUrl, 'not-the-secret', {
      text: '',
      user_id: 'U0ALICE',
      channel_id: 'C1',
    });

    expect(response.status).toBe(401);
    expect(response.body).toBe('');
    expect(logger.warnings.join('\n')).toContain('signature mismatch');
    expect(fake.callsTo('views.open')).toHaveLength(0);
  });

  it('rejects a correctly signed request whose timestamp is ten minutes old', async () => {
    const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;
    const response = await slashCommand(
      eventsUrl,
      SECRET,
      { text: '', user_id: 'U0ALICE', channel_id: 'C1' },
      { timestampSeconds: tenMinutesAgo },
    );

    expect(response.status).toBe(401);
    expect(logger.warnings.join('\n')).toContain('stale');
  });

  it('accepts a timestamp from the future, because Bolt only rejects old ones', async () => {
    const inTenMinutes = Math.floor(Date.now() / 1000) + 600;
    const response = await slashCommand(
      eventsUrl,
      SECRET,
      { text: '', user_id: 'U0ALICE', channel_id: 'C1' },
      { timestampSeconds: inTenMinutes },
    );

    expect(response.status).toBe(200);
  });

  it('answers 400 when the form content-type carries a charset, since Bolt then parses the body as JSON', async () => {
    const signed = await slashCommand(eventsUrl, SECRET, { text: '', user_id: 'U0ALICE', channel_id: 'C1' });
    const response = await sendRaw(eventsUrl, {
      body: signed.sent.body,
      headers: { ...signed.sent.headers, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    });

    expect(response.status).toBe(400);
  });

  it('rejects a request without signature headers and a tampered body under the original signature', async () => {
    const signed = await slashCommand(eventsUrl, SECRET, { text: 'hi', user_id: 'U0ALICE', channel_id: 'C1' });
    const unsigned = await sendRaw(eventsUrl, {
      body: signed.sent.body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const tampered = await sendRaw(eventsUrl, {
      body: signed.sent.body.replace('text=hi', 'text=ho'),
      headers: signed.sent.headers,
    });

    expect(signed.status).toBe(200);
    expect(unsigned.status).toBe(401);
    expect(tampered.status).toBe(401);
  });

  it('accepts a byte-identical replay within five minutes, so deduplication is the app’s job', async () => {
    const first = await slashCommand(eventsUrl, SECRET, { text: '', user_id: 'U0ALICE', channel_id: 'C1' });
    const replay = await sendRaw(eventsUrl, first.sent);

    expect(replay.status).toBe(200);
    await vi.waitFor(() => expect(fake.callsTo('views.open')).toHaveLength(2));
  });

  it('signs exactly as Slack documents: v0= plus the hex HMAC-SHA256 of v0:timestamp:body', () => {
    // Slack's documented example (https://docs.slack.dev/authentication/verifying-requests-from-slack).
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const headers = signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618);

    expect(headers).toEqual({
      'x-slack-request-timestamp': '1531420618',
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    });
  });

  it('returns the view_submission ack as JSON in the HTTP response', async () => {
    const response = await viewSubmission(eventsUrl, SECRET, {
      user_id: 'U0ALICE',
      view: {
        id: 'V0MODAL',
        callback_id: 'send_modal',
        private_metadata: '{}',
        state: { values: { recipient: { phone: { type: 'plain_text_input', value: null } } } },
      },
    });

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.json).toEqual({ response_action: 'errors', errors: { recipient: 'Enter a phone number' } });
  });

  it('answers an empty 200 when the view_submission listener acks without a body', async () => {
    const response = await viewSubmission(eventsUrl, SECRET, {
      user_id: 'U0ALICE',
      view: {
        id: 'V0MODAL',
        callback_id: 'send_modal',
        state: { values: { recipient: { phone: { type: 'plain_text_input', value: '+4915123456789' } } } },
      },
    });

    expect(response.status).toBe(200);
    expect(response.body).toBe('');
  });

  it('routes a block action to its listener and records what respond() posts to the response_url', async () => {
    const response = await blockAction(eventsUrl, SECRET, {
      user_id: 'U0ALICE',
      channel_id: 'C0SUPPORT',
      message_ts: '1700000000.000100',
      actions: [{ action_id: 'retry_send', value: 'send-1' }],
      response_url: fake.responseUrlFor('retry-1'),
    });

    expect(response.status).toBe(200);
    await vi.waitFor(() => expect(fake.responses).toHaveLength(1));
    expect(fake.responses[0]).toMatchObject({ id: 'retry-1', body: { text: 'Retrying…', replace_original: false } });
  });

  it('answers a block_suggestion with the options the listener acks', async () => {
    const response = await blockSuggestion(eventsUrl, SECRET, {
      action_id: 'recipient_search',
      block_id: 'recipient',
      value: 'ali',
      user_id: 'U0ALICE',
    });

    expect(response.status).toBe(200);
    expect(response.json).toEqual({ options: [{ text: { type: 'plain_text', text: 'Match ali' }, value: 'ali' }] });
  });

  it('answers 500 when a listener throws before acking, and 404 when nothing acks in time', async () => {
    const thrown = await slashCommand(eventsUrl, SECRET, {
      command: '/boom',
      text: '',
      user_id: 'U0ALICE',
      channel_id: 'C1',
    });
    const unacked = await slashCommand(eventsUrl, SECRET, {
      command: '/silent',
      text: '',
      user_id: 'U0ALICE',
      channel_id: 'C1',
    });

    expect(thrown.status).toBe(500);
    expect(unacked.status).toBe(404);
  });

  it('makes chat.postMessage reject with not_in_channel for a failed channel', async () => {
    fake.failChannel('C0PRIVATE', 'not_in_channel');

    const error = await app.client.chat.postMessage({ channel: 'C0PRIVATE', text: 'hello' }).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'slack_webapi_platform_error', data: { ok: false, error: 'not_in_channel' } });
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('keeps the current state of posted and updated messages and lists thread replies', async () => {
    const parent = await app.client.chat.postMessage({
      channel: 'C0SUPPORT',
      text: 'Sending…',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Sending…' } }],
    });
    const ts = String(parent.ts);
    await app.client.chat.update({ channel: 'C0SUPPORT', ts, text: 'Delivered' });
    await app.client.chat.postMessage({ channel: 'C0SUPPORT', thread_ts: ts, text: 'Read by recipient' });
    const dm = await app.client.conversations.open({ users: 'U0ALICE' });
    const members = await app.client.usergroups.users.list({ usergroup: 'S0ADMINS' });

    expect(ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(fake.message('C0SUPPORT', ts)).toMatchObject({
      text: 'Delivered',
      edits: 1,
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Sending…' } }],
    });
    expect(fake.threadReplies('C0SUPPORT', ts).map((call) => call.args.text)).toEqual(['Read by recipient']);
    expect(fake.messages('C0SUPPORT')).toHaveLength(2);
    expect(dm.channel?.id).toBe('D0ALICE');
    expect(members.users).toEqual(['U0ALICE']);
  });

  it('records an unknown method and answers unknown_method', async () => {
    const error = await app.client.apiCall('reactions.add', { channel: 'C1', name: 'eyes' }).catch((e: unknown) => e);

    expect(error).toMatchObject({ data: { error: 'unknown_method' } });
    expect(fake.callsTo('reactions.add')[0]?.args).toMatchObject({ channel: 'C1', name: 'eyes' });
  });
});

describe('rate limits from the fake Web API', () => {
  let fake: SlackFake;

  beforeAll(async () => {
    fake = await startSlackFake();
  });

  afterAll(async () => {
    await fake.close();
  });

  beforeEach(() => fake.reset());

  it('lets WebClient retry by itself after Retry-After, recording the 429 it got', async () => {
    const client = new webApi.WebClient('xoxb-test', {
      slackApiUrl: fake.apiUrl,
      retryConfig: webApi.retryPolicies.rapidRetryPolicy,
      logLevel: webApi.LogLevel.ERROR,
    });
    fake.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 0 });

    const result = await client.chat.postMessage({ channel: 'C1', text: 'hello' });

    expect(result.ok).toBe(true);
    expect(fake.callsTo('chat.postMessage').map((call) => call.rateLimited ?? false)).toEqual([true, false]);
  });

  it('throws slack_webapi_rate_limited_error with retryAfter when the client rejects rate-limited calls', async () => {
    const client = new webApi.WebClient('xoxb-test', {
      slackApiUrl: fake.apiUrl,
      rejectRateLimitedCalls: true,
      logLevel: webApi.LogLevel.ERROR,
    });
    fake.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 7 });

    const error = await client.chat.postMessage({ channel: 'C1', text: 'hello' }).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 7 });
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('gives up with a plain Error after Retry-After when retries are off', async () => {
    const client = new webApi.WebClient('xoxb-test', {
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
      logLevel: webApi.LogLevel.ERROR,
    });
    fake.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 0 });

    const error = await client.chat.postMessage({ channel: 'C1', text: 'hello' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('A rate limit was exceeded');
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
  });
});

describe('the pino log capture', () => {
  it('collects pino JSON lines in memory as soon as they are logged', () => {
    const capture = createLogCapture();
    const log = pino({ base: undefined }, capture.stream);

    log.info({ sendId: 'send-1' }, 'message queued');
    log.warn('device disconnected');

    expect(capture.lines().map((line) => [line.level, line.msg, line.sendId])).toEqual([
      [30, 'message queued', 'send-1'],
      [40, 'device disconnected', undefined],
    ]);
    expect(capture.text()).toContain('"sendId":"send-1"');
  });
});
