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
import { messageShortcut } from './support/slack-requests.js';

/*
 * "Send on WhatsApp…" on a message, end to end: a signed `message_action` into the real Bolt app opens the send
 * form (recorded by the Slack fake) with the message's text as plain text; submitting it is the usual form path.
 */

const TEAM = 'T0TEAM';
const CHANNEL = 'C0SUPPORT';
const NUMBER = '+14155550142';
/** A message as Slack stores it: mentions, a channel, a labelled link with an escaped query, entities, a date. */
const SLACK_TEXT =
  'Hi <@U0BOB>, from <#C0GENERAL|general> (cc <!subteam^S0LEADS|@leads>, <!here>): see ' +
  '<https://shop.example/order?id=7&amp;lang=en|your order> &amp; reply &lt;3 by <!date^1795700000^{date}|Nov 26>. ' +
  'Mail <mailto:help@shop.example|help@shop.example>; unknown <@U0GHOST>.';
const PLAIN_TEXT =
  'Hi @Bob Builder, from #general (cc @leads, @here): see https://shop.example/order?id=7&lang=en & reply <3 by ' +
  'Nov 26. Mail help@shop.example; unknown @U0GHOST.';

describe.each(DEPLOYED_STORES)('the message shortcut on the %s store', (store) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      store,
      configFile: { defaultDevice: 'dev_sales', access: { users: ['U0ALICE'], userGroups: [], channels: [] } },
    });
    h.slack.setUser({ id: 'U0BOB', real_name: 'Robert B.', profile: { display_name: 'Bob Builder' } });
    h.slack.setUser({ id: 'U0GHOST', deleted: true, name: '', real_name: '', profile: { display_name: '' } });
  });
  afterEach(async () => {
    await h.bot.idle();
    h.slack.reset();
  });
  afterAll(async () => {
    expectCleanLogs(h.logs, [NUMBER, PLAIN_TEXT, 'Bob Builder']);
    await h.stop();
  });

  it('opens the send form with the message as plain text, and its submission sends once per form', async () => {
    const res = await messageShortcut(h.eventsUrl, SIGNING_SECRET, {
      callback_id: 'send_on_whatsapp',
      user_id: 'U0ALICE',
      channel_id: CHANNEL,
      message: { text: SLACK_TEXT, user: 'U0BOB' },
      response_url: h.slack.responseUrlFor('shortcut'),
    });
    expect(res.status).toBe(200);
    const open = await waitFor(() => h.slack.callsTo('views.open')[0], 10_000, 'the send form');
    const view = open.args.view;
    expect(view.callback_id).toBe('send_modal');
    const message = view.blocks.find((block: { block_id?: string }) => block.block_id === 'message');
    expect(message.element.initial_value).toBe(PLAIN_TEXT);
    expect(JSON.parse(view.private_metadata)).toMatchObject({ channelId: CHANNEL });
    expect(h.slack.callsTo('users.info').map((call) => call.args.user)).toEqual(
      expect.arrayContaining(['U0BOB', 'U0GHOST']),
    );

    // The form Slack opened is submitted (twice: a double click): one send, keyed by its view id.
    const [opened] = h.slack.openedViews();
    expect(opened?.callback_id).toBe('send_modal');
    const viewId = String(opened?.id);
    const submitted = { viewId, deviceId: 'dev_sales', recipient: NUMBER, text: PLAIN_TEXT, channel: CHANNEL };
    expect((await submitSendModal(h, submitted)).body).toBe('');
    expect((await submitSendModal(h, submitted)).body).toBe('');
    const key = keyForOrigin(TEAM, viewId);
    await waitFor(() => h.waping.sendsFor(key) === 1, 10_000, 'the send');
    await h.bot.idle();
    expect(h.waping.sendsFor(key)).toBe(1);
    expect(h.waping.messages().filter((m) => m.text === PLAIN_TEXT)).toHaveLength(1);
  });

  it('refuses someone the access rules do not let send, privately, without opening the form', async () => {
    const res = await messageShortcut(h.eventsUrl, SIGNING_SECRET, {
      callback_id: 'send_on_whatsapp',
      user_id: 'U0MALLORY',
      channel_id: CHANNEL,
      message: { text: 'Hello' },
      response_url: h.slack.responseUrlFor('refused'),
    });
    expect(res.status).toBe(200);
    const notice = await waitFor(() => h.slack.responses.find((r) => r.id === 'refused'));
    expect(notice.body).toMatchObject({ response_type: 'ephemeral' });
    expect(notice.body.text).toContain("you're not on the list");
    await h.bot.idle();
    expect(h.slack.callsTo('views.open')).toHaveLength(0);
  });

  it('opens a form holding the first 4096 characters of a longer message, and says so', async () => {
    const res = await messageShortcut(h.eventsUrl, SIGNING_SECRET, {
      callback_id: 'send_on_whatsapp',
      user_id: 'U0ALICE',
      channel_id: CHANNEL,
      message: { text: 'x'.repeat(5000) },
      response_url: h.slack.responseUrlFor('long'),
    });
    expect(res.status).toBe(200);
    const open = await waitFor(() => h.slack.callsTo('views.open')[0]);
    const message = open.args.view.blocks.find((block: { block_id?: string }) => block.block_id === 'message');
    expect(message.element.initial_value).toBe('x'.repeat(4096));
    const notice = await waitFor(() => h.slack.responses.find((r) => r.id === 'long'));
    expect(notice.body.text).toContain('the form holds its first 4096');
  });
});
