/*
 * Events for messages this bot does not know (yet): a shared WAPing account's events for other tools' messages,
 * or an event that outran WAPing's answer to our own send. They are parked by message id, out of the inbox the
 * sweep re-applies, applied once when the message becomes known, expired after PARK_MS, and capped.
 */
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../src/adapters/waping/webhook-signature.js';
import { PARK_MS } from '../src/core/deliveries.js';
import { keyForOrigin } from '../src/core/idempotency.js';
import { type Clock, type Store, systemClock } from '../src/core/ports.js';
import {
  DEPLOYED_STORES,
  expectCleanLogs,
  type Harness,
  startHarness,
  submitSendModal,
  WEBHOOK_SECRET,
  waitFor,
} from './support/bot-harness.js';
import { unique } from './support/ids.js';
import { sampleSum, scrape } from './support/prometheus-text.js';

/** The real clock, moved on by `shift` ms whenever a test says so. */
function shiftableClock(): Clock & { shift: number } {
  const clock = { shift: 0, now: () => Date.now() + clock.shift, sleep: systemClock.sleep };
  return clock;
}

/** POST a signed delivery webhook to the bot, timestamped by `clock` (the bot checks it against the same clock). */
async function deliver(h: Harness, clock: Clock, type: string, messageId: string, id = unique('evt_')) {
  const timestamp = Math.floor(clock.now() / 1000);
  const body = JSON.stringify({
    type,
    timestamp: new Date().toISOString(),
    data: { messageId, deviceId: 'dev_support' },
  });
  const res = await request(`${h.bot.url}/waping/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(WEBHOOK_SECRET, id, timestamp, body),
    },
    body,
  });
  await res.body.text();
  return { status: res.statusCode, id };
}

/** Send one message through the bot, WAPing answering with `messageId`; resolves once the send is settled. */
async function sendAs(h: Harness, messageId: string) {
  h.waping.script({ status: 200, body: { id: messageId, status: 'queued', deviceId: 'dev_support' } });
  const viewId = unique('V0PARK');
  await submitSendModal(h, { viewId });
  const key = keyForOrigin('T0TEAM', viewId);
  const send = await waitFor(async () => {
    const record = await h.bot.sends.get(key);
    return record?.messageId === messageId && record.parent ? record : undefined;
  });
  await h.bot.idle();
  const parent = send.parent as { channel: string; ts: string };
  return {
    key,
    parent,
    replies: () => h.slack.threadReplies(parent.channel, parent.ts).map((c) => String(c.args.text)),
  };
}

/** Counts every call the bot makes to its store until `stop()`; the bot holds this very object. */
function countStoreOperations(store: Store) {
  const methods = ['get', 'set', 'delete', 'claim', 'update'] as const;
  const target = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  let count = 0;
  for (const name of methods) {
    const original = target[name] as (...args: unknown[]) => Promise<unknown>;
    target[name] = (...args: unknown[]) => {
      count++;
      return original.apply(store, args);
    };
  }
  return {
    count: () => count,
    stop: () => {
      for (const name of methods) delete target[name];
    },
  };
}

/** One sweep of the webhook inbox, as the bot's timer runs it: what it re-applied, and how many store calls it took. */
async function sweepInbox(h: Harness) {
  await h.bot.idle();
  const ops = countStoreOperations(h.bot.store);
  try {
    const reapplied = await h.bot.deliveries.resumeInbox();
    await h.bot.idle();
    return { reapplied, storeOperations: ops.count() };
  } finally {
    ops.stop();
  }
}

describe.each(DEPLOYED_STORES)('events for unknown messages on the %s store', (store) => {
  let h: Harness;
  const clock = shiftableClock();

  beforeAll(async () => {
    h = await startHarness({ store, overrides: { clock } });
  });
  afterEach(async () => {
    clock.shift = 0;
    await h.bot.idle();
  });
  afterAll(async () => {
    expectCleanLogs(h.logs, ['Your order is ready']);
    await h.stop();
  });

  it('parks them, so that a sweep costs the same with 2,000 of them as with none', async () => {
    const empty = await sweepInbox(h);
    const events = Array.from({ length: 2_000 }, (_, i) => unique(`msg_foreign_${i}_`));
    for (let i = 0; i < events.length; i += 25) {
      const answers = await Promise.all(events.slice(i, i + 25).map((m) => deliver(h, clock, 'message.read', m)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
    }
    await h.bot.idle();
    const full = await sweepInbox(h);
    expect(full).toEqual(empty);
    expect(full.reapplied).toBe(0);
    expect(h.bot.deliveries.parkedEventsDropped).toBe(0);
  }, 300_000);

  it('applies parked events once each, in the order they came, when the message becomes known', async () => {
    const messageId = unique('msg_early_');
    const sent = await deliver(h, clock, 'message.sent', messageId);
    await h.bot.idle();
    await deliver(h, clock, 'message.delivered', messageId);
    await deliver(h, clock, 'message.sent', messageId, sent.id); // WAPing redelivers while it is parked
    await h.bot.idle();
    expect((await sweepInbox(h)).reapplied).toBe(0);
    const { key, replies } = await sendAs(h, messageId);
    await waitFor(async () => (await h.bot.sends.get(key))?.status === 'delivered');
    await h.bot.idle();
    expect(replies()).toEqual([expect.stringContaining('Sent'), expect.stringContaining('Delivered')]);
    const send = await h.bot.sends.get(key);
    expect(send?.timeline.map((step) => step.status)).toEqual(['queued', 'sent', 'delivered']);
    // Nothing is left for a later sweep to apply a second time.
    expect((await sweepInbox(h)).reapplied).toBe(0);
    await deliver(h, clock, 'message.delivered', messageId); // a new event for a known message applies at once
    await h.bot.idle();
    expect(replies()).toHaveLength(2);
  });

  it(`lets a parked event expire once it has waited ${PARK_MS / 3_600_000} hours`, async () => {
    const messageId = unique('msg_late_');
    await deliver(h, clock, 'message.delivered', messageId);
    await h.bot.idle();
    clock.shift = PARK_MS;
    const { key, replies } = await sendAs(h, messageId);
    await h.bot.idle();
    expect((await h.bot.sends.get(key))?.status).toBe('queued');
    expect(replies()).toEqual([]);
  });

  it('keeps a parked event that has waited just under the hold', async () => {
    const messageId = unique('msg_slow_');
    await deliver(h, clock, 'message.delivered', messageId);
    await h.bot.idle();
    clock.shift = PARK_MS - 60_000;
    const { key, replies } = await sendAs(h, messageId);
    await waitFor(async () => (await h.bot.sends.get(key))?.status === 'delivered');
    await h.bot.idle();
    expect(replies()).toEqual([expect.stringContaining('Delivered')]);
  });
});

describe.each(DEPLOYED_STORES)('the cap on parked events on the %s store', (store) => {
  const CAP = 4;
  let h: Harness;
  const clock = shiftableClock();

  beforeAll(async () => {
    h = await startHarness({ store, overrides: { clock, parkedEventsCap: CAP } });
  });
  afterAll(async () => {
    expectCleanLogs(h.logs, ['Your order is ready']);
    await h.stop();
  });

  it('drops the oldest parked events first, counting each drop in a log line and a counter', async () => {
    const messages = Array.from({ length: CAP + 2 }, (_, i) => unique(`msg_capped_${i}_`));
    const webhookIds: string[] = [];
    for (const messageId of messages) {
      webhookIds.push((await deliver(h, clock, 'message.delivered', messageId)).id);
      await h.bot.idle();
    }
    const drops = h.logs.lines().filter((line) => line.msg?.startsWith('dropped the oldest parked webhook event'));
    expect(drops.map((line) => line.webhookId)).toEqual(webhookIds.slice(0, 2));
    expect(drops.map((line) => line.parkedEventsDropped)).toEqual([1, 2]);
    expect(drops[0]).toMatchObject({ level: 40, messageId: messages[0], cap: CAP });
    expect(h.bot.deliveries.parkedEventsDropped).toBe(2);
    expect(sampleSum(await scrape(h.bot.url), 'waping_bot_webhook_parked_dropped_total')).toBe(2);

    const dropped = await sendAs(h, messages[0] as string);
    const kept = await sendAs(h, messages[2] as string);
    await waitFor(async () => (await h.bot.sends.get(kept.key))?.status === 'delivered');
    await h.bot.idle();
    expect(kept.replies()).toEqual([expect.stringContaining('Delivered')]);
    expect((await h.bot.sends.get(dropped.key))?.status).toBe('queued');
    expect(dropped.replies()).toEqual([]);
  });

  it('does not count a parked event that expired as dropped', async () => {
    const before = h.bot.deliveries.parkedEventsDropped;
    clock.shift = PARK_MS; // everything parked so far has expired
    for (let i = 0; i < CAP; i++) {
      await deliver(h, clock, 'message.read', unique('msg_after_'));
      await h.bot.idle();
    }
    expect(h.bot.deliveries.parkedEventsDropped).toBe(before);
    clock.shift = 0;
  });
});

describe('parked events across replicas', () => {
  it('applies a parked event once when two replicas park it and a third event races the send', async () => {
    const clock = shiftableClock();
    const a = await startHarness({ store: 'redis', overrides: { clock } });
    const b = await startHarness({ store: 'redis', shareWith: a, overrides: { clock } });
    try {
      const messageId = unique('msg_shared_');
      const sent = unique('evt_shared_');
      // The same event reaches both replicas at once, and both park it.
      await Promise.all([
        deliver(a, clock, 'message.sent', messageId, sent),
        deliver(b, clock, 'message.sent', messageId, sent),
      ]);
      await Promise.all([a.bot.idle(), b.bot.idle()]);
      // A later event races the send that makes the message known.
      const [send] = await Promise.all([sendAs(a, messageId), deliver(b, clock, 'message.delivered', messageId)]);
      await waitFor(async () => (await a.bot.sends.get(send.key))?.status === 'delivered');
      await Promise.all([a.bot.idle(), b.bot.idle()]);
      await Promise.all([a.bot.deliveries.resumeInbox(), b.bot.deliveries.resumeInbox()]);
      await Promise.all([a.bot.idle(), b.bot.idle()]);
      expect(send.replies()).toEqual([expect.stringContaining('Sent'), expect.stringContaining('Delivered')]);
      expect((await a.bot.sends.get(send.key))?.timeline.map((step) => step.status)).toEqual([
        'queued',
        'sent',
        'delivered',
      ]);
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});
