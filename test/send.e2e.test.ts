import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyForOrigin } from '../src/core/idempotency.js';
import {
  DEPLOYED_STORES,
  expectCleanLogs,
  type Harness,
  SIGNING_SECRET,
  startHarness,
  submitSendModal,
  waitFor,
} from './support/bot-harness.js';
import { blockAction, sendRaw, signSlackRequest, slashCommand } from './support/slack-requests.js';

const TEAM = 'T0TEAM';
const CHANNEL = 'C0SUPPORT';
const NUMBER = '+14155552671';
const TEXT = 'Your order is ready';
let views = 0;
const nextViewId = () => `V0SEND${++views}${Math.random().toString(36).slice(2, 8).toUpperCase()}`;

describe.each(DEPLOYED_STORES)('the send path on the %s store', (store) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      store,
      configFile: { defaultDevice: 'dev_support', devices: [], access: { users: [], userGroups: [], channels: [] } },
    });
  });
  afterEach(async () => {
    await h.bot.idle();
    h.slack.reset();
  });
  afterAll(async () => {
    expectCleanLogs(h.logs, [NUMBER, TEXT, 'Retry me', 'Concurrent text', 'Replayed text']);
    await h.stop();
  });

  /** Wait until the send's parent message shows it was queued, and return that message. */
  async function queuedMessage(channel = CHANNEL) {
    return waitFor(
      () => h.slack.messages(channel).find((m) => (m.text ?? '').includes('Queued')),
      10_000,
      'the parent message to show Queued',
    );
  }

  it('opens the send modal, pre-filled, from /whatsapp send with a number and a text', async () => {
    const res = await slashCommand(h.eventsUrl, SIGNING_SECRET, {
      text: `send ${NUMBER} ${TEXT}`,
      user_id: 'U0ALICE',
      channel_id: CHANNEL,
    });
    expect(res.status).toBe(200);
    const [open] = await waitFor(() =>
      h.slack.callsTo('views.open').length ? h.slack.callsTo('views.open') : undefined,
    );
    const view = open?.args.view;
    expect(view.callback_id).toBe('send_modal');
    const inputs = JSON.stringify(view.blocks);
    expect(inputs).toContain(`"initial_value":"${NUMBER}"`);
    expect(inputs).toContain(`"initial_value":"${TEXT}"`);
    expect(inputs).toContain('"initial_option"'); // the configured default device is preselected
    expect(JSON.parse(view.private_metadata).channelId).toBe(CHANNEL);
  });

  it('explains usage ephemerally for /whatsapp and /whatsapp help', async () => {
    for (const text of ['', 'help']) {
      const res = await slashCommand(h.eventsUrl, SIGNING_SECRET, { text, user_id: 'U0ALICE', channel_id: CHANNEL });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ response_type: 'ephemeral' });
      expect((res.json as { text: string }).text).toContain('/whatsapp send');
    }
    expect(h.slack.callsTo('views.open')).toHaveLength(0);
  });

  it('sends once when the same modal is submitted twice in a row', async () => {
    const viewId = nextViewId();
    const key = keyForOrigin(TEAM, viewId);
    const first = await submitSendModal(h, { viewId, text: TEXT });
    expect(first.status).toBe(200);
    const message = await queuedMessage();
    const second = await submitSendModal(h, { viewId, text: TEXT, responseUrl: h.slack.responseUrlFor('dup') });
    expect(second.status).toBe(200);
    await waitFor(() => h.slack.responses.find((r) => r.id === 'dup'), 5_000, 'the duplicate to be reported');
    await h.bot.idle();
    expect(h.waping.sendsFor(key)).toBe(1);
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(message.text).toContain('Queued');
    expect(h.slack.responses.find((r) => r.id === 'dup')?.body.text).toContain('already submitted');
    const sent = h.waping.messages().find((m) => m.key === key);
    expect(sent).toMatchObject({ deviceId: 'dev_support', to: NUMBER, text: TEXT });
  });

  it('refuses a resubmission of the same form that asks for something else, and sends once', async () => {
    const viewId = nextViewId();
    const sendsBefore = h.waping.totalSends();
    await submitSendModal(h, { viewId, text: TEXT });
    await queuedMessage();
    const edited = await submitSendModal(h, { viewId, text: `${TEXT} (edited)` });
    expect(edited.json).toMatchObject({
      response_action: 'errors',
      errors: { recipient: expect.stringContaining('already sent') },
    });
    await h.bot.idle();
    expect(h.waping.totalSends()).toBe(sendsBefore + 1);
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('sends once when the same modal is submitted twice at the same moment', async () => {
    const viewId = nextViewId();
    const key = keyForOrigin(TEAM, viewId);
    const answers = await Promise.all([
      submitSendModal(h, { viewId, text: 'Concurrent text' }),
      submitSendModal(h, { viewId, text: 'Concurrent text' }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    await queuedMessage();
    await h.bot.idle();
    expect(h.waping.sendsFor(key)).toBe(1);
    expect(h.waping.requests.filter((r) => r.key === key)).toHaveLength(1);
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('sends once when a signed submission is replayed byte for byte', async () => {
    const viewId = nextViewId();
    const key = keyForOrigin(TEAM, viewId);
    const original = await submitSendModal(h, { viewId, text: 'Replayed text' });
    const replay = await sendRaw(h.eventsUrl, original.sent);
    expect(replay.status).toBe(200);
    await queuedMessage();
    await h.bot.idle();
    expect(h.waping.sendsFor(key)).toBe(1);
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('retries a 500 and a dropped connection with the same key and body, and sends once', async () => {
    const viewId = nextViewId();
    const key = keyForOrigin(TEAM, viewId);
    h.waping.script({ status: 500 }, { drop: true });
    await submitSendModal(h, { viewId });
    await queuedMessage();
    await h.bot.idle();
    const attempts = h.waping.requests.filter((r) => r.key === key);
    expect(attempts.map((a) => a.outcome)).toEqual(['fault_status', 'fault_drop', 'accepted']);
    expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
    expect(h.waping.sendsFor(key)).toBe(1);
  });

  it('waits for Retry-After before retrying a 429', async () => {
    const viewId = nextViewId();
    const key = keyForOrigin(TEAM, viewId);
    h.waping.script({ status: 429, retryAfterSeconds: 2 });
    await submitSendModal(h, { viewId });
    await queuedMessage();
    const [limited, accepted] = h.waping.requests.filter((r) => r.key === key);
    expect(limited?.outcome).toBe('fault_status');
    expect(accepted?.outcome).toBe('accepted');
    const waited = (accepted?.at ?? 0) - (limited?.at ?? 0);
    expect(waited).toBeGreaterThanOrEqual(1_950);
    expect(waited).toBeLessThan(4_000);
    expect(accepted?.body).toBe(limited?.body);
  });

  it.each([
    ['a bad number', { recipient: '+1555' }, 'recipient', 'not a valid phone number'],
    ['a national number without DEFAULT_COUNTRY', { recipient: '5551234567' }, 'recipient', 'Start the number with +'],
    ['a disconnected device', { deviceId: 'dev_old' }, 'device', 'disconnected'],
    ['an unknown device', { deviceId: 'dev_nope' }, 'device', 'not available'],
    ['an empty text', { text: '   ' }, 'message', 'Write the message'],
    ['a 5000-character text', { text: 'x'.repeat(5000) }, 'message', 'at most 4096'],
  ])('answers %s inline in the modal and sends nothing', async (_name, values, field, words) => {
    const res = await submitSendModal(h, { viewId: nextViewId(), ...values });
    expect(res.status).toBe(200);
    const json = res.json as { response_action: string; errors: Record<string, string> };
    expect(json.response_action).toBe('errors');
    expect(Object.keys(json.errors)).toEqual([field]);
    expect(json.errors[field]).toContain(words);
    await h.bot.idle();
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('answers 401 to a bad or stale signature and changes nothing', async () => {
    const before = h.waping.totalSends();
    const good = await submitSendModal(h, { viewId: nextViewId() }).then(async (r) => {
      await queuedMessage();
      return r;
    });
    h.slack.reset();
    const tampered = { body: good.sent.body.replace('send_modal', 'send_modaL'), headers: good.sent.headers };
    expect((await sendRaw(h.eventsUrl, tampered)).status).toBe(401);
    const stale = Math.floor(Date.now() / 1000) - 600;
    const body = good.sent.body.replace(/V0SEND\w+/, nextViewId());
    expect(
      (
        await sendRaw(h.eventsUrl, {
          body,
          headers: { ...good.sent.headers, ...signSlackRequest(SIGNING_SECRET, body, stale) },
        })
      ).status,
    ).toBe(401);
    const wrongSecret = { body, headers: { ...good.sent.headers, ...signSlackRequest('not-the-secret', body) } };
    expect((await sendRaw(h.eventsUrl, wrongSecret)).status).toBe(401);
    await h.bot.idle();
    expect(h.waping.totalSends()).toBe(before + 1);
    expect(h.slack.calls).toHaveLength(0);
  });

  it('shows a failed send with its reason and a Retry button; Retry double-clicked sends once', async () => {
    const viewId = nextViewId();
    const key = keyForOrigin(TEAM, viewId);
    h.waping.script({ status: 422, body: { error: { code: 'SESSION_DISCONNECTED', message: 'QR session expired' } } });
    await submitSendModal(h, { viewId, text: 'Retry me' });
    const failed = await waitFor(
      () => h.slack.messages(CHANNEL).find((m) => (m.text ?? '').includes('Failed')),
      10_000,
      'failure',
    );
    expect(failed.text).toContain('disconnected');
    const buttons: Array<{ action_id?: string; value: string }> = (failed.blocks ?? []).flatMap(
      (block: { elements?: Array<{ action_id?: string; value: string }> }) => block.elements ?? [],
    );
    const retry = buttons.find((element) => element.action_id === 'retry_send');
    if (!retry) throw new Error('no Retry button on the failed message');
    expect(retry.value).toBe(key);
    const click = () =>
      blockAction(h.eventsUrl, SIGNING_SECRET, {
        user_id: 'U0ALICE',
        channel_id: failed.channel,
        message_ts: failed.ts,
        actions: [{ action_id: 'retry_send', value: retry.value }],
      });
    const clicks = await Promise.all([click(), click()]);
    expect(clicks.map((c) => c.status)).toEqual([200, 200]);
    await waitFor(
      () => h.slack.message(failed.channel, failed.ts)?.text?.includes('Queued'),
      10_000,
      'the retry to be queued',
    );
    await click();
    await h.bot.idle();
    const retried = h.waping.messages().filter((m) => m.text === 'Retry me');
    expect(retried).toHaveLength(1);
    expect(retried[0]?.key).not.toBe(key);
    expect(h.slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('tells the user ephemerally when the bot cannot post in the channel, and still sends', async () => {
    const viewId = nextViewId();
    const key = keyForOrigin(TEAM, viewId);
    h.slack.failChannel('C0PRIVATE', 'not_in_channel');
    await submitSendModal(h, { viewId, channel: 'C0PRIVATE', responseUrl: h.slack.responseUrlFor('private') });
    const notice = await waitFor(
      () => h.slack.responses.find((r) => r.id === 'private'),
      5_000,
      'the ephemeral notice',
    );
    expect(notice.body.response_type).toBe('ephemeral');
    expect(notice.body.text).toContain("can't post in this channel");
    const dm = h.slack.dmChannelFor('U0ALICE');
    await queuedMessage(dm);
    expect(h.waping.sendsFor(key)).toBe(1);
  });
});

describe('access control', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      store: 'memory',
      configFile: { access: { users: ['U0ALICE'], userGroups: ['S0OPS'], channels: [] } },
    });
    h.slack.setUsergroup('S0OPS', ['U0BOB']);
  });
  afterAll(async () => {
    expectCleanLogs(h.logs, [NUMBER]);
    await h.stop();
  });

  it('refuses a user outside the access list, politely and privately, and sends nothing', async () => {
    const command = await slashCommand(h.eventsUrl, SIGNING_SECRET, {
      text: 'send',
      user_id: 'U0MALLORY',
      channel_id: CHANNEL,
    });
    expect(command.json).toMatchObject({ response_type: 'ephemeral' });
    expect((command.json as { text: string }).text).toContain('not on the list');
    expect(h.slack.callsTo('views.open')).toHaveLength(0);
    const submit = await submitSendModal(h, { viewId: nextViewId(), user: 'U0MALLORY' });
    expect((submit.json as { response_action: string }).response_action).toBe('errors');
    await h.bot.idle();
    expect(h.waping.totalSends()).toBe(0);
  });

  it('lets listed users and members of listed user groups send', async () => {
    for (const user of ['U0ALICE', 'U0BOB']) {
      const res = await submitSendModal(h, { viewId: nextViewId(), user });
      expect(res.body).toBe('');
    }
    await waitFor(() => h.waping.totalSends() === 2, 10_000, 'two sends');
  });
});
