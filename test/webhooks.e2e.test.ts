import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../src/adapters/waping/webhook-signature.js';
import { idempotencyKeyForView } from '../src/core/idempotency.js';
import {
  DEPLOYED_STORES,
  expectCleanLogs,
  type Harness,
  startHarness,
  submitSendModal,
  WEBHOOK_SECRET,
  waitFor,
} from './support/bot-harness.js';
import { startRedisServer, uniqueNamespace } from './support/redis.js';

const CHANNEL = 'C0SUPPORT';
let counter = 0;
const unique = (prefix: string) => `${prefix}${++counter}${Math.random().toString(36).slice(2, 8).toUpperCase()}`;

interface Delivery {
  id?: string;
  type: string;
  data: object;
  timestampSeconds?: number;
  secret?: string;
  body?: string;
  headers?: Record<string, string>;
}

/** POST a webhook to the bot, signed as WAPing would (or not, as the delivery says). */
async function deliver(url: string, d: Delivery) {
  const id = d.id ?? unique('evt_');
  const timestamp = d.timestampSeconds ?? Math.floor(Date.now() / 1000);
  const body = d.body ?? JSON.stringify({ type: d.type, timestamp: new Date().toISOString(), data: d.data });
  const res = await request(`${url}/waping/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(d.secret ?? WEBHOOK_SECRET, id, timestamp, body),
      ...d.headers,
    },
    body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : undefined, id };
}

/** Send one message through the real bot and return its WAPing id and parent message. */
async function sendOne(h: Harness, channel = CHANNEL) {
  const viewId = unique('V0HOOK');
  const key = idempotencyKeyForView('T0TEAM', viewId);
  await submitSendModal(h, { viewId, channel });
  const send = await waitFor(async () => {
    const record = await h.bot.sends.get(key);
    return record?.messageId && record.parent ? record : undefined;
  });
  await h.bot.idle();
  return { key, messageId: send.messageId as string, parent: send.parent as { channel: string; ts: string } };
}

const replyTexts = (h: Harness, parent: { channel: string; ts: string }) =>
  h.slack.threadReplies(parent.channel, parent.ts).map((c) => String(c.args.text));

describe.each(DEPLOYED_STORES)('delivery webhooks on the %s store', (store) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      store,
      env: { OPS_CHANNEL: 'C0OPS' },
      configFile: { channels: { C0QUIET: { statusReplies: 'final' }, C0SILENT: { statusReplies: 'none' } } },
    });
  });
  afterEach(async () => {
    await h.bot.idle();
  });
  afterAll(async () => {
    expectCleanLogs(h.logs, ['Your order is ready']);
    await h.stop();
  });

  it('threads each status change once, in order, under the parent message, whatever the redeliveries', async () => {
    const { messageId, parent } = await sendOne(h);
    const data = { messageId, deviceId: 'dev_support' };
    const sent = await deliver(h.bot.url, { type: 'message.sent', data });
    expect(sent.status).toBe(200);
    expect((await deliver(h.bot.url, { type: 'message.sent', data, id: sent.id })).json).toMatchObject({
      duplicate: true,
    });
    await h.bot.idle();
    await deliver(h.bot.url, { type: 'message.queued', data }); // late: changes nothing
    await deliver(h.bot.url, { type: 'message.delivered', data });
    await h.bot.idle();
    await deliver(h.bot.url, { type: 'message.read', data });
    await deliver(h.bot.url, { type: 'message.sent', data }); // late, new id: changes nothing
    await h.bot.idle();
    const replies = replyTexts(h, parent);
    expect(replies).toHaveLength(3);
    expect(replies[0]).toContain('Sent');
    expect(replies[1]).toContain('Delivered');
    expect(replies[2]).toContain('Read');
    const shown = h.slack.message(parent.channel, parent.ts);
    expect(shown?.text).toContain('Read');
    expect(JSON.stringify(shown?.blocks)).toMatch(/queued .* → sent .* → delivered .* → read/);
  });

  it('shows a failure with its reason and Retry, and lets a later delivered win over it', async () => {
    const { messageId, parent } = await sendOne(h);
    const data = { messageId, deviceId: 'dev_support' };
    await deliver(h.bot.url, {
      type: 'message.failed',
      data: { ...data, error: { code: 'RECIPIENT_NOT_ON_WHATSAPP', message: 'The number is not on WhatsApp' } },
    });
    await h.bot.idle();
    const failed = h.slack.message(parent.channel, parent.ts);
    expect(failed?.text).toContain('Failed');
    expect(failed?.text).toContain('not on WhatsApp');
    expect(JSON.stringify(failed?.blocks)).toContain('retry_send');
    await deliver(h.bot.url, { type: 'message.sent', data }); // never clears failed
    await h.bot.idle();
    expect(h.slack.message(parent.channel, parent.ts)?.text).toContain('Failed');
    await deliver(h.bot.url, { type: 'message.delivered', data });
    await h.bot.idle();
    const delivered = h.slack.message(parent.channel, parent.ts);
    expect(delivered?.text).toContain('Delivered');
    expect(JSON.stringify(delivered?.blocks)).not.toContain('retry_send');
    const replies = replyTexts(h, parent);
    expect(replies).toHaveLength(2);
    expect(replies[0]).toContain('Failed');
    expect(replies[1]).toContain('Delivered');
  });

  it('keeps an event that outran the send record and applies it once the record exists', async () => {
    const messageId = unique('msg_early_');
    const early = await deliver(h.bot.url, { type: 'message.delivered', data: { messageId, deviceId: 'dev_support' } });
    expect(early.status).toBe(200);
    await h.bot.idle();
    // WAPing answers the send with the id the webhook already named.
    h.waping.script({ status: 200, body: { id: messageId, status: 'queued', deviceId: 'dev_support' } });
    const viewId = unique('V0EARLY');
    await submitSendModal(h, { viewId });
    const key = idempotencyKeyForView('T0TEAM', viewId);
    const send = await waitFor(async () => {
      const record = await h.bot.sends.get(key);
      return record?.status === 'delivered' ? record : undefined;
    });
    await h.bot.idle();
    const parent = send.parent as { channel: string; ts: string };
    expect(replyTexts(h, parent)).toEqual([expect.stringContaining('Delivered')]);
    expect(h.slack.message(parent.channel, parent.ts)?.text).toContain('Delivered');
  });

  it('quietly accepts events for messages this bot never sent', async () => {
    const res = await deliver(h.bot.url, {
      type: 'message.read',
      data: { messageId: 'msg_not_ours', deviceId: 'dev_support' },
    });
    expect(res.status).toBe(200);
    await h.bot.idle();
    expect(
      h.slack.calls.filter(
        (c) => c.method === 'chat.postMessage' && c.args.thread_ts === undefined && c.args.channel !== CHANNEL,
      ),
    ).toHaveLength(0);
  });

  it('gives up on a message whose channel was archived, instead of retrying it at every sweep', async () => {
    const { key, messageId } = await sendOne(h, 'C0ARCHIVED');
    h.slack.failChannel('C0ARCHIVED', 'is_archived');
    expect(
      (await deliver(h.bot.url, { type: 'message.delivered', data: { messageId, deviceId: 'dev_support' } })).status,
    ).toBe(200);
    await h.bot.idle();
    expect((await h.bot.sends.get(key))?.status).toBe('delivered');
    expect(await h.bot.store.pendingList('sync:behind')).not.toContain(key);
  });

  it('acknowledges and ignores unknown event types', async () => {
    const res = await deliver(h.bot.url, { type: 'contact.updated', data: { anything: true } });
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(300);
  });

  it.each([
    ['a missing signature header', { headers: { 'webhook-signature': '' } }, 'missing webhook-signature'],
    ['a wrong secret', { secret: 'whsec_dGhpcyBpcyBub3QgdGhlIHNlY3JldA==' }, 'no matching signature'],
    ['a stale timestamp', { timestampSeconds: -400 }, 'too old'],
    ['a future timestamp', { timestampSeconds: 400 }, 'future'],
    ['a truncated signature', { headers: { 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt' } }, 'signature'],
  ])('answers 401 to %s and records nothing', async (_name, options, reason) => {
    const id = unique('evt_bad_');
    const { timestampSeconds: offset, ...rest } = options as Partial<Delivery>;
    const timestampSeconds = offset === undefined ? undefined : Math.floor(Date.now() / 1000) + offset;
    const data = { messageId: 'msg_x', deviceId: 'dev_support' };
    const res = await deliver(h.bot.url, { id, type: 'message.read', data, timestampSeconds, ...rest });
    expect(res.status).toBe(401);
    expect(res.json.error).toContain(reason);
    expect(await h.bot.store.get(`webhook:${id}`)).toBeUndefined();
  });

  it('answers 400 with a reason to a signed but malformed body, and 413 to an oversized one', async () => {
    const malformed = await deliver(h.bot.url, {
      type: 'x',
      data: {},
      body: JSON.stringify({ type: 'message.read', data: {} }),
    });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toMatch(/messageId/);
    const notJson = await deliver(h.bot.url, { type: 'x', data: {}, body: 'not json' });
    expect(notJson.status).toBe(400);
    const huge = await deliver(h.bot.url, { type: 'x', data: {}, body: `{"pad":"${'x'.repeat(300 * 1024)}"}` });
    expect(huge.status).toBe(413);
  });

  it('marks a disconnected device, refuses it in the modal, and alerts the ops channel once per change', async () => {
    const before = h.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0OPS').length;
    const down = { type: 'session.disconnected', data: { deviceId: 'dev_sales', reason: 'phone offline' } };
    const first = await deliver(h.bot.url, down);
    await deliver(h.bot.url, { ...down, id: first.id }); // redelivery
    await deliver(h.bot.url, down); // the same news, another event
    await h.bot.idle();
    const alerts = () =>
      h.slack
        .callsTo('chat.postMessage')
        .filter((c) => c.args.channel === 'C0OPS')
        .slice(before);
    expect(alerts()).toHaveLength(1);
    expect(String(alerts()[0]?.args.text)).toContain('Sales');
    const refused = await submitSendModal(h, { viewId: unique('V0DOWN'), deviceId: 'dev_sales' });
    expect(refused.json).toMatchObject({
      response_action: 'errors',
      errors: { device: expect.stringContaining('disconnected') },
    });
    await deliver(h.bot.url, { type: 'session.connected', data: { deviceId: 'dev_sales' } });
    await h.bot.idle();
    expect(alerts()).toHaveLength(2);
    const accepted = await submitSendModal(h, { viewId: unique('V0UP'), deviceId: 'dev_sales' });
    expect(accepted.body).toBe('');
  });

  it('marks the device disconnected when WAPing refuses a send with a session error', async () => {
    const before = h.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0OPS').length;
    h.waping.script({ status: 422, body: { error: { code: 'SESSION_DISCONNECTED', message: 'gone' } } });
    await submitSendModal(h, { viewId: unique('V0SESS'), deviceId: 'dev_support' });
    await waitFor(() => h.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0OPS').length > before);
    const refused = await submitSendModal(h, { viewId: unique('V0SESS'), deviceId: 'dev_support' });
    expect(refused.json).toMatchObject({
      response_action: 'errors',
      errors: { device: expect.stringContaining('disconnected') },
    });
    await deliver(h.bot.url, { type: 'session.connected', data: { deviceId: 'dev_support' } });
    await h.bot.idle();
  });

  it.each([
    ['C0QUIET', 'final', ['Delivered', 'Read']],
    ['C0SILENT', 'none', []],
  ])(
    'posts thread replies in %s as its %s setting says, and still updates the parent',
    async (channel, _mode, expected) => {
      const { messageId, parent } = await sendOne(h, channel);
      for (const type of ['message.sent', 'message.delivered', 'message.read']) {
        await deliver(h.bot.url, { type, data: { messageId, deviceId: 'dev_support' } });
        await h.bot.idle();
      }
      const replies = replyTexts(h, parent);
      expect(replies).toHaveLength(expected.length);
      expected.forEach((word, i) => {
        expect(replies[i]).toContain(word);
      });
      expect(h.slack.message(parent.channel, parent.ts)?.text).toContain('Read');
    },
  );

  it('keeps every message right through a burst of 200 events for 50 messages while Slack rate-limits', async () => {
    const sends: Array<Awaited<ReturnType<typeof sendOne>>> = [];
    for (let i = 0; i < 50; i++) sends.push(await sendOne(h, 'C0BURST'));
    h.slack.rateLimit('chat.postMessage', { times: 4, retryAfterSeconds: 1 });
    h.slack.rateLimit('chat.update', { times: 4, retryAfterSeconds: 1 });
    const events: Delivery[] = [];
    sends.forEach(({ messageId }, i) => {
      const data = { messageId, deviceId: 'dev_support' };
      const statuses =
        i % 5 === 0 ? ['message.sent', 'message.read'] : ['message.sent', 'message.delivered', 'message.read'];
      for (const type of statuses) events.push({ type, data, id: unique('evt_burst_') });
    });
    while (events.length < 200) events.push({ ...(events[events.length % 50] as Delivery) }); // redeliveries
    for (let i = events.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [events[i], events[j]] = [events[j] as Delivery, events[i] as Delivery];
    }
    const answers = [];
    for (let i = 0; i < events.length; i += 20) {
      answers.push(...(await Promise.all(events.slice(i, i + 20).map((e) => deliver(h.bot.url, e)))));
    }
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await waitFor(
      async () => {
        await h.bot.idle();
        return sends.every(({ parent }) => h.slack.message(parent.channel, parent.ts)?.text?.includes('Read'));
      },
      60_000,
      'every message to show Read',
    );
    for (const { key, parent } of sends) {
      const record = await h.bot.sends.get(key);
      const replies = replyTexts(h, parent);
      const steps = record?.timeline.slice(1).map((step) => step.status) ?? [];
      expect(replies).toHaveLength(steps.length);
      steps.forEach((status, i) => {
        expect(replies[i]?.toLowerCase()).toContain(status);
      });
      expect(record?.status).toBe('read');
    }
  }, 120_000);
});

describe('delivery webhooks across replicas and outages', () => {
  it('produces one reply when two replicas receive the same event at the same moment', async () => {
    const a = await startHarness({ store: 'redis' });
    const b = await startHarness({ store: 'redis', shareWith: a });
    try {
      const { messageId, parent } = await sendOne(a);
      const id = unique('evt_twice_');
      const event = { id, type: 'message.delivered', data: { messageId, deviceId: 'dev_support' } };
      const answers = await Promise.all([deliver(a.bot.url, event), deliver(b.bot.url, event)]);
      expect(answers.map((r) => r.status)).toEqual([200, 200]);
      await Promise.all([a.bot.idle(), b.bot.idle()]);
      await waitFor(() => a.slack.message(parent.channel, parent.ts)?.text?.includes('Delivered'));
      expect(replyTexts(a, parent)).toEqual([expect.stringContaining('Delivered')]);
    } finally {
      await b.stop();
      await a.stop();
    }
  });

  it('answers 503 while Redis is down and applies the redeliveries once it is back', async () => {
    const redis = await startRedisServer({ persistent: true });
    const h = await startHarness({
      store: 'redis',
      env: { STORE_URL: `${redis.url}?namespace=${uniqueNamespace('outage')}` },
    });
    try {
      const { messageId, parent } = await sendOne(h);
      const data = { messageId, deviceId: 'dev_support' };
      await redis.stop();
      const during = [
        await deliver(h.bot.url, { id: 'evt_outage_1', type: 'message.sent', data }),
        await deliver(h.bot.url, { id: 'evt_outage_2', type: 'message.delivered', data }),
      ];
      expect(during.map((r) => r.status)).toEqual([503, 503]);
      await redis.restart();
      await waitFor(
        async () => (await deliver(h.bot.url, { id: 'evt_outage_1', type: 'message.sent', data })).status === 200,
        15_000,
        'Redis to come back',
      );
      expect((await deliver(h.bot.url, { id: 'evt_outage_2', type: 'message.delivered', data })).status).toBe(200);
      await waitFor(
        async () => {
          await h.bot.idle();
          return h.slack.message(parent.channel, parent.ts)?.text?.includes('Delivered');
        },
        15_000,
        'the redeliveries to apply',
      );
      const replies = replyTexts(h, parent);
      expect(replies).toHaveLength(2);
      expect(replies[0]).toContain('Sent');
      expect(replies[1]).toContain('Delivered');
    } finally {
      await h.stop();
      await redis.stop();
    }
  });
});
