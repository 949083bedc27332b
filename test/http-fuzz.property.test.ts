/**
 * Generated bodies, headers and payloads thrown at the real bot over HTTP, signed and unsigned: whatever arrives,
 * the bot never answers 5xx (the store stays up here, so not even 503), never leaves a promise rejection unhandled,
 * and never sends a WhatsApp message.
 */
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../src/adapters/waping/webhook-signature.js';
import { DEPLOYED_STORES, type Harness, SIGNING_SECRET, startHarness, WEBHOOK_SECRET } from './support/bot-harness.js';
import { FORM_CONTENT_TYPE, signSlackRequest, UNSET_RESPONSE_URL } from './support/slack-requests.js';

// Printable ASCII: what an HTTP client can put in a header at all.
const headerValue = fc.stringMatching(/^[ -~]{0,40}$/);
const slackId = fc.oneof(
  fc.constantFrom('U0ALICE', 'C0SUPPORT', 'T0TEAM', 'constructor', '__proto__', 'toString', ''),
  fc.string({ maxLength: 12 }),
);
const anyJson = fc.jsonValue({ maxDepth: 3 });

/** Interactivity payloads shaped like Slack's, with the bot's own ids mixed in, and any field wrong. */
const interactivePayload = fc.record(
  {
    type: fc.oneof(
      fc.constantFrom(
        'block_actions',
        'view_submission',
        'view_closed',
        'block_suggestion',
        'shortcut',
        'message_action',
        'interactive_message',
        'event_callback',
        'url_verification',
      ),
      fc.string(),
    ),
    user: fc.oneof(fc.record({ id: slackId, team_id: slackId }), anyJson),
    team: fc.oneof(fc.record({ id: slackId }), anyJson),
    channel: fc.oneof(fc.record({ id: slackId }), anyJson),
    container: fc.oneof(fc.record({ type: fc.string(), channel_id: slackId, message_ts: fc.string() }), anyJson),
    actions: fc.oneof(
      fc.array(
        fc.record({
          action_id: fc.oneof(fc.constantFrom('retry_send', 'review_approval', 'cancel_approval'), fc.string()),
          value: fc.oneof(fc.string(), anyJson),
          type: fc.constantFrom('button', 'static_select', 'external_select'),
          block_id: fc.string(),
        }),
        { maxLength: 2 },
      ),
      anyJson,
    ),
    view: fc.oneof(
      fc.record({
        id: fc.string(),
        callback_id: fc.oneof(fc.constantFrom('send_modal', 'approval_modal'), fc.string()),
        private_metadata: fc.oneof(
          fc.string(),
          fc
            .record({ channelId: slackId, responseUrl: fc.oneof(fc.string(), fc.webUrl()) })
            .map((m) => JSON.stringify(m)),
          anyJson.map((v) => JSON.stringify(v)),
        ),
        state: fc.oneof(fc.record({ values: anyJson }), anyJson),
        team_id: slackId,
      }),
      anyJson,
    ),
    response_url: fc.oneof(fc.constant(UNSET_RESPONSE_URL), fc.webUrl(), fc.string()),
    trigger_id: fc.string(),
    event: anyJson,
    challenge: fc.string(),
  },
  { requiredKeys: ['type'] },
);

const slashCommandForm = fc
  .record(
    {
      command: fc.oneof(fc.constant('/whatsapp'), fc.string()),
      text: fc.oneof(fc.constantFrom('', 'help', 'send', 'send +1 hello'), fc.string()),
      user_id: slackId,
      channel_id: slackId,
      team_id: slackId,
      trigger_id: fc.string(),
      response_url: fc.oneof(fc.constant(UNSET_RESPONSE_URL), fc.webUrl(), fc.string()),
      ssl_check: fc.constantFrom('1', '0'),
    },
    { requiredKeys: [] },
  )
  .map((fields) => new URLSearchParams(fields).toString());

const slackBody = fc.oneof(
  fc.string({ maxLength: 200 }),
  anyJson.map((v) => `payload=${encodeURIComponent(JSON.stringify(v))}`),
  interactivePayload.map((p) => new URLSearchParams({ payload: JSON.stringify(p) }).toString()),
  slashCommandForm,
  anyJson.map((v) => JSON.stringify(v)),
  interactivePayload.map((p) => JSON.stringify(p)),
);

const slackRequest = fc.record({
  target: fc.constant('slack' as const),
  body: slackBody,
  contentType: fc.option(
    fc.oneof(
      fc.constantFrom(FORM_CONTENT_TYPE, 'application/json', `${FORM_CONTENT_TYPE}; charset=utf-8`),
      headerValue,
    ),
    { nil: undefined },
  ),
  // Mostly signed with the right secret, so that payloads reach the listeners; sometimes not, or badly.
  signature: fc.constantFrom('signed', 'signed', 'signed', 'unsigned', 'wrong'),
  skewSeconds: fc.oneof(fc.constant(0), fc.integer({ min: -700, max: 700 })),
  extra: fc.dictionary(fc.constantFrom('x-slack-retry-num', 'x-slack-retry-reason', 'x-padding'), headerValue),
});

const webhookEvent = fc.record(
  {
    type: fc.oneof(
      fc.constantFrom(
        'message.sent',
        'message.delivered',
        'message.read',
        'message.failed',
        'session.connected',
        'session.disconnected',
      ),
      fc.string(),
    ),
    timestamp: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.string(),
      anyJson,
    ),
    data: fc.oneof(
      fc.record(
        {
          messageId: fc.oneof(fc.string(), anyJson),
          deviceId: fc.oneof(fc.constantFrom('dev_support', 'constructor', '__proto__'), fc.string(), anyJson),
          reason: fc.oneof(fc.string(), anyJson),
          status: fc.string(),
          error: fc.oneof(fc.record({ code: fc.string(), message: fc.string() }), anyJson),
        },
        { requiredKeys: [] },
      ),
      anyJson,
    ),
  },
  { requiredKeys: [] },
);

const webhookRequest = fc.record({
  target: fc.constant('waping' as const),
  body: fc.oneof(
    fc.string({ maxLength: 200 }),
    anyJson.map((v) => JSON.stringify(v)),
    webhookEvent.map((e) => JSON.stringify(e)),
  ),
  signature: fc.constantFrom('signed', 'signed', 'unsigned', 'wrong'),
  id: fc.oneof(
    fc.uuid().map((u) => `evt_${u}`),
    headerValue,
  ),
  skewSeconds: fc.oneof(fc.constant(0), fc.integer({ min: -700, max: 700 })),
});

type Generated =
  | (typeof slackRequest extends fc.Arbitrary<infer S> ? S : never)
  | (typeof webhookRequest extends fc.Arbitrary<infer W> ? W : never);

async function send(h: Harness, r: Generated): Promise<number> {
  const now = Math.floor(Date.now() / 1000) + r.skewSeconds;
  if (r.target === 'slack') {
    const headers: Record<string, string> = { ...r.extra };
    if (r.contentType !== undefined) headers['content-type'] = r.contentType;
    if (r.signature !== 'unsigned') {
      Object.assign(
        headers,
        signSlackRequest(r.signature === 'signed' ? SIGNING_SECRET : 'not-the-secret', r.body, now),
      );
    }
    const res = await request(h.eventsUrl, { method: 'POST', headers, body: r.body });
    await res.body.dump();
    return res.statusCode;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', 'webhook-id': r.id };
  if (r.signature !== 'unsigned') {
    headers['webhook-timestamp'] = String(now);
    headers['webhook-signature'] = signWebhook(
      r.signature === 'signed' ? WEBHOOK_SECRET : 'whsec_bm90LXRoZS1zZWNyZXQtYXQtYWxsLTAwMA==',
      r.id,
      now,
      r.body,
    );
  }
  const res = await request(`${h.bot.url}/waping/webhooks`, { method: 'POST', headers, body: r.body });
  await res.body.dump();
  return res.statusCode;
}

describe.each(DEPLOYED_STORES)(
  'generated requests against /slack/events and /waping/webhooks on the %s store',
  (store) => {
    let h: Harness;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);

    beforeAll(async () => {
      process.on('unhandledRejection', onUnhandled);
      h = await startHarness({
        store,
        configFile: {
          defaultDevice: 'dev_support',
          devices: [{ id: 'dev_support', name: 'Support line' }],
          channels: { C0SUPPORT: { approval: { approvers: ['U0BOSS'], minApprovals: 1 } } },
        },
      });
    });
    afterAll(async () => {
      await h?.stop();
      process.off('unhandledRejection', onUnhandled);
    });

    it('never answers 5xx, never leaves a rejection unhandled and never sends a WhatsApp message', async () => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.oneof(slackRequest, webhookRequest), { minLength: 1, maxLength: 12 }),
          async (batch) => {
            // One batch at a time, its requests at once: a request no listener acknowledges waits Bolt's 3 s.
            const answered = await Promise.all(batch.map((r) => send(h, r)));
            for (const status of answered) statuses.set(status, (statuses.get(status) ?? 0) + 1);
            expect(answered.filter((status) => status >= 500)).toEqual([]);
          },
        ),
        { numRuns: 40, endOnFailure: true },
      );
      await h.bot.idle();
      expect(unhandled).toEqual([]);
      expect(h.waping.requests).toEqual([]);
      // The generators reached the listeners and the webhook route, not only the signature checks.
      expect([...statuses.keys()].some((status) => status >= 200 && status < 300)).toBe(true);
      expect(statuses.get(401)).toBeGreaterThan(0);
    }, 180_000);
  },
);
