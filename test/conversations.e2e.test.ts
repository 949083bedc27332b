import { request } from 'undici';
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
import { unique } from './support/ids.js';
import type { SlackApiCall } from './support/slack-fake.js';
import { readable, readableMessageText } from './support/slack-reader.js';
import { blockAction } from './support/slack-requests.js';

/*
 * The conversation loop over HTTP: sends made through signed Slack requests, customers' messages as signed
 * `message.received` webhooks, and what the bot posted read back from the Slack fake.
 */

const CHANNEL = 'C0SUPPORT';
const QUIET = 'C0QUIET'; // conversations: false
const INBOX = 'C0INBOX';

/** Every text a customer writes in these tests, so the logs can be checked for each. */
const customerTexts: string[] = [];

interface Received {
  from: string;
  text?: string;
  messageId?: string;
  deviceId?: string;
  quotes?: string;
  at?: number;
  media?: { type: 'image' | 'document' | 'audio' | 'video'; caption?: string; mimeType?: string };
}

function receivedData(r: Received) {
  if (r.text) customerTexts.push(r.text);
  return {
    messageId: r.messageId ?? unique('wamid_'),
    deviceId: r.deviceId ?? 'dev_support',
    from: r.from,
    timestamp: new Date(r.at ?? Date.now()).toISOString(),
    ...(r.media
      ? { type: r.media.type, [r.media.type]: { caption: r.media.caption, mimeType: r.media.mimeType } }
      : {}),
    ...(r.text !== undefined ? { type: 'text', text: { body: r.text } } : {}),
    ...(r.quotes ? { context: { messageId: r.quotes } } : {}),
  };
}

/**
 * A customer's message as WAPing delivers it: the sandbox signs and POSTs the webhook, to `bot` (another replica)
 * when given. Resolves to the bot's HTTP status.
 */
function receive(h: Harness, data: object, id = unique('evt_'), bot: Harness = h): Promise<number> {
  h.waping.setWebhookUrl(`${bot.bot.url}/waping/webhooks`); // read synchronously by the emit below
  return h.waping.emit('message.received', data, { id });
}

/** Send one message through the real bot (the form), and return its key, WAPing id and Slack message. */
async function sendOne(h: Harness, to: string, channel = CHANNEL, deviceId = 'dev_support') {
  const viewId = unique('V0CONV');
  const key = keyForOrigin('T0TEAM', viewId);
  await submitSendModal(h, { viewId, channel, recipient: to, deviceId, text: 'Is Tuesday fine for the delivery?' });
  const send = await waitFor(async () => {
    const record = await h.bot.sends.get(key);
    return record?.messageId && record.parent ? record : undefined;
  });
  await h.bot.idle();
  return { key, messageId: send.messageId as string, parent: send.parent as { channel: string; ts: string } };
}

/** The customers' messages the bot posted (they carry the inbound Reply button), optionally in one thread. */
function inboundPosts(h: Harness, where?: { channel: string; ts?: string }): SlackApiCall[] {
  return h.slack
    .callsTo('chat.postMessage')
    .filter((c) => !c.rateLimited && JSON.stringify(c.args.blocks ?? []).includes('inbound_actions'))
    .filter((c) => !where || (c.args.channel === where.channel && c.args.thread_ts === where.ts));
}

const shownText = (call: SlackApiCall) => readableMessageText(call.args.blocks);

async function inboundCount(h: Harness, outcome: string): Promise<number> {
  const res = await request(`${h.bot.url}/metrics`);
  const text = await res.body.text();
  const line = text.split('\n').find((l) => l.startsWith(`waping_bot_inbound_messages_total{outcome="${outcome}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe.each(DEPLOYED_STORES)('conversations on the %s store', (store) => {
  let h: Harness;
  /** A second bot: no INBOX_CHANNEL, a one-second window, and only U0ALICE may send. */
  let bare: Harness;

  beforeAll(async () => {
    h = await startHarness({
      store,
      env: { INBOX_CHANNEL: INBOX },
      configFile: { channels: { [QUIET]: { conversations: false } } },
      overrides: { inboundOrderHoldMs: 300 },
    });
    bare = await startHarness({
      store,
      configFile: { conversationWindow: '1s', access: { users: ['U0ALICE'] } },
    });
  });
  afterEach(async () => {
    await h.bot.idle();
    await bare.bot.idle();
  });
  afterAll(async () => {
    const numbers = ['+14155550101', '+14155550102', '+14155550103', '+14155550104', '+14155550105'];
    for (const harness of [h, bare]) {
      expectCleanLogs(harness.logs, [...customerTexts, ...numbers.map((n) => n.slice(1))]);
      await harness.stop();
    }
  });

  it('posts a reply once in the thread of the send, also when redelivered under the same or another webhook id', async () => {
    const to = '+14155550101';
    const { parent } = await sendOne(h, to);
    const data = receivedData({ from: to, text: 'Yes, Tuesday works.' });
    const webhookId = unique('evt_');
    expect(await receive(h, data, webhookId)).toBe(200);
    expect(await receive(h, data, webhookId)).toBe(200); // a redelivery: recorded once
    expect(await receive(h, data)).toBe(200); // the same WAPing message under another webhook id
    await h.bot.idle();
    const posts = inboundPosts(h, parent);
    expect(posts).toHaveLength(1);
    expect(shownText(posts[0] as SlackApiCall)).toBe('Yes, Tuesday works.');
    expect(readable(posts[0]?.args.blocks)).toContain('+1 415 555 0101');
    expect(inboundPosts(h).filter((c) => c.args.text?.includes('Tuesday works'))).toHaveLength(1);
  });

  it('lands a reply by its quote in the older send, and an unquoted one in the latest send to that number', async () => {
    const to = '+14155550102';
    const older = await sendOne(h, to);
    const latest = await sendOne(h, to);
    await receive(h, receivedData({ from: to, text: 'About the first one: yes.', quotes: older.messageId }));
    await receive(h, receivedData({ from: to, text: 'And the second: no.' }));
    await h.bot.idle();
    expect(inboundPosts(h, older.parent).map(shownText)).toEqual(['About the first one: yes.']);
    expect(inboundPosts(h, latest.parent).map(shownText)).toEqual(['And the second: no.']);
  });

  it('posts the replies of one thread in the order the customer wrote them, whatever the order they arrive in', async () => {
    const to = '+14155550103';
    const { parent } = await sendOne(h, to);
    const now = Date.now();
    const texts = ['One', 'Two', 'Three', 'Four'].map((word) => `${word}, as I wrote it.`);
    const data = texts.map((text, i) => receivedData({ from: to, text, at: now - 4_000 + i * 1_000 }));
    // Delivered last first, all at once: two are applied concurrently by different background tasks.
    await Promise.all([...data].reverse().map((d) => receive(h, d)));
    await h.bot.idle();
    await waitFor(() => inboundPosts(h, parent).length === 4);
    expect(inboundPosts(h, parent).map(shownText)).toEqual(texts);
  });

  it('never posts a stranger into a sending channel: the inbox takes it, or nobody', async () => {
    await sendOne(h, '+14155550104'); // this channel has sent to someone else
    const stranger = receivedData({ from: '+14155550188', text: 'Who is this? I never wrote to you.' });
    await receive(h, stranger);
    // A number written to from one device, answering on another, is a stranger there too.
    await receive(h, receivedData({ from: '+14155550104', deviceId: 'dev_sales', text: 'Other device.' }));
    await h.bot.idle();
    const posted = inboundPosts(h).filter((c) => /Who is this|Other device/.test(shownText(c)));
    expect(posted.map((c) => [c.args.channel, c.args.thread_ts])).toEqual([
      [INBOX, undefined],
      [INBOX, undefined],
    ]);
    const shown = posted.map((c) => readable(c.args.blocks));
    expect(shown.find((t) => t.includes('Who is this'))).toContain('+1 415 555 0188 wrote to Support line');
    expect(shown.find((t) => t.includes('Other device'))).toContain('+1 415 555 0104 wrote to Sales');

    const before = await inboundCount(bare, 'unrouted');
    const postsBefore = bare.slack.callsTo('chat.postMessage').length;
    await receive(bare, receivedData({ from: '+14155550189', text: 'Hello? Anybody?' }));
    await bare.bot.idle();
    expect(bare.slack.callsTo('chat.postMessage')).toHaveLength(postsBefore);
    expect(await inboundCount(bare, 'unrouted')).toBe(before + 1);
  });

  it('stops landing replies in the thread once the window has passed', async () => {
    const to = '+14155550101';
    const { parent, messageId } = await sendOne(bare, to);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await receive(bare, receivedData({ from: to, text: 'Late answer.', quotes: messageId }));
    await receive(bare, receivedData({ from: to, text: 'Late answer again.' }));
    await bare.bot.idle();
    expect(inboundPosts(bare, parent)).toHaveLength(0);
    expect(inboundPosts(bare)).toHaveLength(0);
  });

  it('shows markup in a reply literally, and media as its type and caption', async () => {
    const to = '+14155550105';
    const { parent } = await sendOne(h, to);
    const markup = '<!channel> *bold* _it_ <https://evil.example|your bank> @here &amp; <@U0ALICE> `code`';
    await receive(h, receivedData({ from: to, text: markup }));
    await receive(
      h,
      receivedData({ from: to, media: { type: 'image', caption: '<!here> my receipt', mimeType: 'image/jpeg' } }),
    );
    await h.bot.idle();
    const [text, image] = inboundPosts(h, parent);
    expect(shownText(text as SlackApiCall)).toBe(markup);
    const json = JSON.stringify(text?.args);
    expect(json).not.toContain('"type":"link"');
    expect(json).not.toContain('"type":"broadcast"');
    expect(String(text?.args.text)).toContain('&lt;!channel&gt;');
    expect(String(text?.args.text)).not.toContain('<!channel>');
    expect(readable(image?.args.blocks)).toContain('An image (image/jpeg): <!here> my receipt');
    expect(String(image?.args.text)).not.toContain('<!here>');
  });

  it('gives a channel with conversations off nothing: its replies go to the inbox', async () => {
    const to = '+14155550104';
    const { parent } = await sendOne(h, to, QUIET);
    await receive(h, receivedData({ from: to, text: 'Reply to the quiet channel.' }));
    await h.bot.idle();
    expect(inboundPosts(h, parent)).toHaveLength(0);
    expect(inboundPosts(h).filter((c) => c.args.channel === QUIET)).toHaveLength(0);
    const inbox = inboundPosts(h, { channel: INBOX }).filter((c) => shownText(c) === 'Reply to the quiet channel.');
    expect(inbox).toHaveLength(1);
  });

  it('opens the send form prefilled from Reply, on a reply and on the send, and its send goes out once', async () => {
    const to = '+14155550102';
    const { parent } = await sendOne(h, to, CHANNEL, 'dev_sales');
    const sendButtons = JSON.stringify(h.slack.message(parent.channel, parent.ts)?.blocks);
    expect(sendButtons).toContain('reply_to_customer');
    await receive(h, receivedData({ from: to, deviceId: 'dev_sales', text: 'Can you call me back?' }));
    await h.bot.idle();
    const [reply] = inboundPosts(h, parent);
    const posted = h.slack
      .messages(parent.channel)
      .find((m) => m.thread_ts === parent.ts && m.text === reply?.args.text);
    const button = reply?.args.blocks
      .flatMap((b: { elements?: unknown[] }) => b.elements ?? [])
      .find((e: { action_id?: string }) => e.action_id === 'reply_to_customer');
    expect(button).toBeDefined();
    const opened = h.slack.callsTo('views.open').length;
    await blockAction(h.eventsUrl, SIGNING_SECRET, {
      user_id: 'U0ALICE',
      channel_id: parent.channel,
      message_ts: posted?.ts as string,
      actions: [{ action_id: 'reply_to_customer', value: button.value }],
    });
    const view = await waitFor(() => h.slack.callsTo('views.open')[opened]?.args.view);
    const blocks = JSON.stringify(view.blocks);
    expect(view.callback_id).toBe('send_modal');
    expect(blocks).toContain('"initial_value":"+1 415 555 0102"');
    expect(view.blocks.find((b: { block_id: string }) => b.block_id === 'device').element.initial_option.value).toBe(
      'dev_sales',
    );
    expect(JSON.parse(view.private_metadata)).toMatchObject({ channelId: parent.channel });

    const viewId = unique('V0REPLY');
    const form = {
      viewId,
      channel: parent.channel,
      recipient: '+1 415 555 0102',
      deviceId: 'dev_sales',
      text: 'Calling you now.',
    };
    await Promise.all([submitSendModal(h, form), submitSendModal(h, form)]);
    const key = keyForOrigin('T0TEAM', viewId);
    await waitFor(async () => (await h.bot.sends.get(key))?.messageId);
    await h.bot.idle();
    expect(h.waping.sendsFor(key)).toBe(1);
    expect(h.waping.messages().find((m) => m.key === key)).toMatchObject({ to, deviceId: 'dev_sales' });

    // Shown on the send's own message as well: the same form.
    const sendButton = h.slack
      .message(parent.channel, parent.ts)
      ?.blocks?.flatMap((b) => b.elements ?? [])
      .find((e: { action_id?: string }) => e.action_id === 'reply_to_customer');
    await blockAction(h.eventsUrl, SIGNING_SECRET, {
      user_id: 'U0ALICE',
      channel_id: parent.channel,
      message_ts: parent.ts,
      actions: [{ action_id: 'reply_to_customer', value: sendButton.value }],
    });
    const again = await waitFor(() => h.slack.callsTo('views.open')[opened + 1]?.args.view);
    expect(JSON.stringify(again.blocks)).toContain('"initial_value":"+1 415 555 0102"');
  });

  it('refuses Reply to someone the access lists leave out, and serves no /sandbox/inbound outside the sandbox', async () => {
    const { parent } = await sendOne(bare, '+14155550103');
    const opened = bare.slack.callsTo('views.open').length;
    await blockAction(bare.eventsUrl, SIGNING_SECRET, {
      user_id: 'U0MALLORY',
      channel_id: parent.channel,
      message_ts: parent.ts,
      response_url: bare.slack.responseUrlFor('mallory'),
      actions: [
        { action_id: 'reply_to_customer', value: JSON.stringify({ to: '+14155550103', deviceId: 'dev_support' }) },
      ],
    });
    const refusal = await waitFor(() => bare.slack.responses.find((r) => r.id === 'mallory'));
    expect(refusal.body.text).toContain('not on the list');
    expect(bare.slack.callsTo('views.open')).toHaveLength(opened);

    const res = await request(`${h.bot.url}/sandbox/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+14155550101', text: 'Injected?' }),
    });
    await res.body.dump();
    expect(res.statusCode).toBe(404);
  });
});

describe.each(DEPLOYED_STORES)('a received message across a restart on the %s store', (store) => {
  it('is posted once by the next process when Slack refused it before the restart', async () => {
    const inbox = 'C0INBOXR';
    const options = { store, env: { INBOX_CHANNEL: inbox }, overrides: { inboundOrderHoldMs: 50 } } as const;
    const first = await startHarness(options);
    let second: Harness | undefined;
    try {
      first.slack.failChannel(inbox, 'fatal_error');
      const data = receivedData({ from: '+14155550106', text: 'Are you there?' });
      expect(await receive(first, data)).toBe(200);
      await first.bot.idle();
      expect(first.slack.messages(inbox)).toHaveLength(0); // asked, refused
      expect(inboundPosts(first, { channel: inbox }).length).toBeGreaterThan(0);
      await first.bot.stop(); // as good as a crash here: the message is recorded, not posted
      first.slack.reset(); // Slack takes messages again
      second = await startHarness({ ...options, shareWith: first });
      await waitFor(() => first.slack.messages(inbox).length === 1, 10_000, 'the post');
      await receive(second, data, undefined, second); // the same message under another webhook id: nothing more
      await second.bot.idle();
      expect(first.slack.messages(inbox).map((m) => readableMessageText(m.blocks))).toEqual(['Are you there?']);
      expectCleanLogs(second.logs, ['Are you there?', '14155550106']);
      expectCleanLogs(first.logs, ['Are you there?', '14155550106']);
    } finally {
      await second?.stop();
      await first.stop();
    }
  });
});

describe('two replicas on Redis', () => {
  it('post the replies of one thread once each, in the order the customer wrote them', async () => {
    const one = await startHarness({ store: 'redis', overrides: { inboundOrderHoldMs: 300 } });
    const two = await startHarness({ store: 'redis', shareWith: one, overrides: { inboundOrderHoldMs: 300 } });
    try {
      const to = '+14155550108';
      const { parent } = await sendOne(one, to);
      const now = Date.now();
      const texts = ['First', 'Second', 'Third', 'Fourth', 'Fifth', 'Sixth'].map((w) => `${w} thought.`);
      const data = texts.map((text, i) => receivedData({ from: to, text, at: now - 10_000 + i * 1_000 }));
      // Last first, alternating between the replicas, each also redelivered to the other under its own webhook id.
      await Promise.all(
        [...data]
          .reverse()
          .flatMap((d, i) => [
            receive(one, d, undefined, i % 2 ? one : two),
            receive(one, d, undefined, i % 2 ? two : one),
          ]),
      );
      await waitFor(() => one.slack.threadReplies(parent.channel, parent.ts).length >= 6, 10_000, 'six replies');
      await one.bot.idle();
      await two.bot.idle();
      const posted = one.slack.messages(parent.channel).filter((m) => m.thread_ts === parent.ts);
      expect(posted.map((m) => readableMessageText(m.blocks))).toEqual(texts);
      for (const h of [one, two]) expectCleanLogs(h.logs, [...texts, to.slice(1)]);
    } finally {
      await two.stop();
      await one.stop();
    }
  });
});
