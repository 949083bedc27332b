import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../src/adapters/waping/webhook-signature.js';
import { keyForOrigin } from '../src/core/idempotency.js';
import type { SendGroup } from '../src/core/send-group.js';
import { groupIdForOrigin } from '../src/core/send-groups.js';
import {
  DEPLOYED_STORES,
  expectCleanLogs,
  type Harness,
  startHarness,
  submitApprovalModal,
  submitSendModal,
  WEBHOOK_SECRET,
  waitFor,
} from './support/bot-harness.js';
import { unique } from './support/ids.js';
import { type Exposition, ExpositionError, parseExposition, sampleSum, scrape } from './support/prometheus-text.js';
import { startRedisServer, uniqueNamespace } from './support/redis.js';

const TEAM = 'T0TEAM';

describe('the exposition parser the metrics tests rely on', () => {
  const valid = [
    '# HELP a_total Things done.',
    '# TYPE a_total counter',
    'a_total{kind="x",why="say \\"hi\\"\\n"} 3',
    'a_total{kind="y"} 0',
    '# TYPE h histogram',
    'h_bucket{le="0.5"} 1',
    'h_bucket{le="+Inf"} 2',
    'h_sum 0.7',
    'h_count 2',
    '',
  ].join('\n');

  it('reads families, types, labels with escapes, and values', () => {
    const parsed = parseExposition(valid);
    expect(parsed.get('a_total')?.type).toBe('counter');
    expect(parsed.get('a_total')?.help).toBe('Things done.');
    expect(parsed.get('a_total')?.samples[0]?.labels).toEqual({ kind: 'x', why: 'say "hi"\n' });
    expect(sampleSum(parsed, 'a_total')).toBe(3);
    expect(sampleSum(parsed, 'h_count')).toBe(2);
  });

  it.each([
    ['a text without its final newline', valid.slice(0, -1)],
    ['an unquoted label value', valid.replace('{kind="y"}', '{kind=y}')],
    ['an unterminated label value', valid.replace('{kind="y"}', '{kind="y}')],
    ['a bad escape', valid.replace('\\"hi\\"', '\\thi')],
    ['a value that is no number', valid.replace('a_total{kind="y"} 0', 'a_total{kind="y"} zero')],
    ['a sample without a value', valid.replace('h_sum 0.7', 'h_sum')],
    ['a bad metric name', valid.replace('h_sum 0.7', '9h_sum 0.7')],
    ['the same series twice', valid.replace('a_total{kind="y"} 0', 'a_total{kind="x",why="say \\"hi\\"\\n"} 1')],
    ['a TYPE after its samples', `${valid}# TYPE a_total counter\n`],
    ['samples of a family apart', `${valid}a_total{kind="z"} 1\n`],
    ['decreasing buckets', valid.replace('h_bucket{le="+Inf"} 2', 'h_bucket{le="+Inf"} 0')],
    ['a +Inf bucket other than the count', valid.replace('h_count 2', 'h_count 5')],
    ['an unknown type', valid.replace('h histogram', 'h hist')],
  ])('rejects %s', (_what, text) => {
    expect(() => parseExposition(text)).toThrow(ExpositionError);
  });
});

interface Delivery {
  id?: string;
  type: string;
  data: object;
  body?: string;
  secret?: string;
}

/** POST a webhook to the bot, signed as WAPing would (or with another secret). */
async function deliver(url: string, d: Delivery) {
  const id = d.id ?? unique('evt_');
  const timestamp = Math.floor(Date.now() / 1000);
  const body = d.body ?? JSON.stringify({ type: d.type, timestamp: new Date().toISOString(), data: d.data });
  const res = await request(`${url}/waping/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(d.secret ?? WEBHOOK_SECRET, id, timestamp, body),
    },
    body,
  });
  await res.body.text();
  return { status: res.statusCode, id };
}

/** How much each named series moved between two scrapes. */
function moved(before: Exposition, after: Exposition, name: string, labels: Record<string, string> = {}): number {
  return sampleSum(after, name, labels) - sampleSum(before, name, labels);
}

const CONFIG = {
  devices: [
    { id: 'dev_support', name: 'Support line' },
    { id: 'dev_sales', name: 'Sales', approval: { approvers: ['U0APPROVER'], minApprovals: 1 } },
    { id: 'dev_old', name: 'Old phone' },
  ],
};

describe.each(DEPLOYED_STORES)('GET /metrics of the bot on the %s store', (store) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ store, configFile: CONFIG, env: { SWEEP_INTERVAL_MS: '300' } });
  });
  afterEach(async () => {
    h.waping.script();
    await h.bot.idle();
  });
  afterAll(async () => {
    expectCleanLogs(h.logs, ['Your order is ready', 'Team news']);
    await h.stop();
  });

  /** Send one message through the real bot (signed form submission) and wait until it is settled. */
  async function sendOne(values: { channel?: string } = {}) {
    const viewId = unique('V0METRIC');
    const key = keyForOrigin(TEAM, viewId);
    await submitSendModal(h, { viewId, ...values });
    const send = await waitFor(async () => {
      const record = await h.bot.sends.get(key);
      return record && record.state !== 'pending' ? record : undefined;
    });
    await h.bot.idle();
    return send;
  }

  it('answers Prometheus text with the process defaults and every bot family, typed', async () => {
    const metrics = await scrape(h.bot.url);
    expect(metrics.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(metrics.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
    const families: Record<string, string> = {
      waping_bot_sends_total: 'counter',
      waping_bot_waping_request_duration_seconds: 'histogram',
      waping_bot_webhook_events_total: 'counter',
      waping_bot_approvals_requested_total: 'counter',
      waping_bot_approvals_decided_total: 'counter',
      waping_bot_approvals_pending: 'gauge',
      waping_bot_pending_sends: 'gauge',
      waping_bot_oldest_pending_send_age_seconds: 'gauge',
      waping_bot_sweep_duration_seconds: 'histogram',
      waping_bot_sweep_last_success_timestamp_seconds: 'gauge',
      waping_bot_slack_api_errors_total: 'counter',
      waping_bot_device_session_changes_total: 'counter',
      waping_bot_devices: 'gauge',
      waping_bot_state_read_ok: 'gauge',
    };
    for (const [name, type] of Object.entries(families)) {
      expect(metrics.get(name)?.type, name).toBe(type);
      expect(metrics.get(name)?.help, name).toBeTruthy();
    }
    expect(sampleSum(metrics, 'waping_bot_state_read_ok')).toBe(1);
    // The sandbox's three devices: two connected, one disconnected.
    expect(sampleSum(metrics, 'waping_bot_devices', { session: 'connected' })).toBe(2);
    expect(sampleSum(metrics, 'waping_bot_devices', { session: 'disconnected' })).toBe(1);
  });

  it('counts an accepted send and times its WAPing request as ok', async () => {
    const before = await scrape(h.bot.url);
    const send = await sendOne();
    expect(send.state).toBe('accepted');
    const after = await scrape(h.bot.url);
    expect(moved(before, after, 'waping_bot_sends_total', { outcome: 'accepted' })).toBe(1);
    expect(moved(before, after, 'waping_bot_sends_total', { outcome: 'failed' })).toBe(0);
    const ok = { operation: 'send', outcome: 'ok' };
    expect(moved(before, after, 'waping_bot_waping_request_duration_seconds_count', ok)).toBe(1);
    expect(moved(before, after, 'waping_bot_waping_request_duration_seconds_sum', ok)).toBeGreaterThan(0);
  });

  it('counts a failed send, and each WAPing attempt by its outcome', async () => {
    const before = await scrape(h.bot.url);
    h.waping.script({ status: 503 }, { status: 422, body: { error: { code: 'VALIDATION', message: 'bad' } } });
    const send = await sendOne();
    expect(send.state).toBe('failed');
    const after = await scrape(h.bot.url);
    expect(moved(before, after, 'waping_bot_sends_total', { outcome: 'failed' })).toBe(1);
    expect(moved(before, after, 'waping_bot_sends_total', { outcome: 'accepted' })).toBe(0);
    const attempts = (outcome: string) =>
      moved(before, after, 'waping_bot_waping_request_duration_seconds_count', { operation: 'send', outcome });
    expect(attempts('http_5xx')).toBe(1);
    expect(attempts('http_4xx')).toBe(1);
    expect(attempts('ok')).toBe(0);
  });

  it('shows a send as pending, with the age of the oldest, until WAPing answers', async () => {
    h.waping.script({ delayMs: 2_000 });
    const viewId = unique('V0METRIC');
    const key = keyForOrigin(TEAM, viewId);
    await submitSendModal(h, { viewId });
    await waitFor(async () => (await h.bot.sends.get(key))?.attempts === 0, 5_000, 'the claimed send');
    await new Promise((resolve) => setTimeout(resolve, 400));
    const during = await scrape(h.bot.url);
    expect(sampleSum(during, 'waping_bot_pending_sends')).toBe(1);
    expect(sampleSum(during, 'waping_bot_oldest_pending_send_age_seconds')).toBeGreaterThanOrEqual(0.4);
    await waitFor(async () => (await h.bot.sends.get(key))?.state === 'accepted', 10_000, 'the accepted send');
    await h.bot.idle();
    const afterwards = await scrape(h.bot.url);
    expect(sampleSum(afterwards, 'waping_bot_pending_sends')).toBe(0);
    expect(sampleSum(afterwards, 'waping_bot_oldest_pending_send_age_seconds')).toBe(0);
  });

  it('counts webhooks by type and result', async () => {
    const send = await sendOne();
    const data = { messageId: send.messageId, deviceId: 'dev_support' };
    const before = await scrape(h.bot.url);
    const sent = await deliver(h.bot.url, { type: 'message.sent', data });
    expect(sent.status).toBe(200);
    expect((await deliver(h.bot.url, { type: 'message.sent', data, id: sent.id })).status).toBe(200);
    expect(
      (await deliver(h.bot.url, { type: 'message.read', data, secret: 'whsec_bm90LXRoZS1zZWNyZXQ=' })).status,
    ).toBe(401);
    expect((await deliver(h.bot.url, { type: 'message.sent', data: {} })).status).toBe(400);
    expect((await deliver(h.bot.url, { type: 'x', data, body: '{not json' })).status).toBe(400);
    expect((await deliver(h.bot.url, { type: 'contact.created', data: { id: '1' } })).status).toBe(202);
    expect((await deliver(h.bot.url, { type: 'x', data, body: 'x'.repeat(300 * 1024) })).status).toBe(413);
    await h.bot.idle();
    const after = await scrape(h.bot.url);
    const webhooks = (type: string, result: string) =>
      moved(before, after, 'waping_bot_webhook_events_total', { type, result });
    expect(webhooks('message.sent', 'recorded')).toBe(1);
    expect(webhooks('message.sent', 'duplicate')).toBe(1);
    expect(webhooks('unknown', 'refused')).toBe(1);
    expect(webhooks('unknown', 'malformed')).toBe(2);
    expect(webhooks('other', 'ignored')).toBe(1);
    expect(webhooks('unknown', 'too_large')).toBe(1);
    // The event type a sender made up never becomes a label value.
    expect(JSON.stringify([...after.values()])).not.toContain('contact.created');
  });

  it('counts an approval requested, shows it pending, then counts it decided', async () => {
    const before = await scrape(h.bot.url);
    const viewId = unique('V0APPR');
    const groupId = groupIdForOrigin(TEAM, viewId);
    await submitSendModal(h, { viewId, deviceId: 'dev_sales', text: 'Team news', user: 'U0ALICE' });
    await waitFor(() => h.bot.store.get<SendGroup>(`group:${groupId}`), 10_000, 'the approval request');
    await h.bot.idle();
    const requested = await scrape(h.bot.url);
    expect(moved(before, requested, 'waping_bot_approvals_requested_total')).toBe(1);
    expect(sampleSum(requested, 'waping_bot_approvals_pending')).toBe(
      sampleSum(before, 'waping_bot_approvals_pending') + 1,
    );
    const approved = await submitApprovalModal(h, { groupId, user: 'U0APPROVER', decision: 'approve' });
    expect(approved.status).toBe(200);
    await waitFor(async () => (await h.bot.store.get<SendGroup>(`group:${groupId}`))?.launched, 10_000, 'the launch');
    await h.bot.idle();
    const decided = await scrape(h.bot.url);
    expect(moved(requested, decided, 'waping_bot_approvals_decided_total', { outcome: 'approved' })).toBe(1);
    expect(moved(requested, decided, 'waping_bot_approvals_decided_total', { outcome: 'rejected' })).toBe(0);
    expect(sampleSum(decided, 'waping_bot_approvals_pending')).toBe(sampleSum(before, 'waping_bot_approvals_pending'));
    expect(moved(requested, decided, 'waping_bot_sends_total', { outcome: 'accepted' })).toBe(1);
  });

  it('counts device session changes and shows the devices by session', async () => {
    const before = await scrape(h.bot.url);
    const at = () => new Date().toISOString();
    const session = (type: string) =>
      deliver(h.bot.url, {
        type,
        data: {},
        body: JSON.stringify({ type, timestamp: at(), data: { deviceId: 'dev_support', reason: 'phone offline' } }),
      });
    expect((await session('session.disconnected')).status).toBe(200);
    await h.bot.idle();
    const down = await scrape(h.bot.url);
    expect(moved(before, down, 'waping_bot_device_session_changes_total', { session: 'disconnected' })).toBe(1);
    expect(moved(before, down, 'waping_bot_devices', { session: 'disconnected' })).toBe(1);
    expect(moved(before, down, 'waping_bot_devices', { session: 'connected' })).toBe(-1);
    expect(moved(before, down, 'waping_bot_webhook_events_total', { type: 'session.disconnected' })).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 5)); // a later timestamp for the reconnection
    expect((await session('session.connected')).status).toBe(200);
    await h.bot.idle();
    const up = await scrape(h.bot.url);
    expect(moved(down, up, 'waping_bot_device_session_changes_total', { session: 'connected' })).toBe(1);
    expect(sampleSum(up, 'waping_bot_devices', { session: 'connected' })).toBe(
      sampleSum(before, 'waping_bot_devices', { session: 'connected' }),
    );
  });

  it('counts failed Slack API calls by method and error code', async () => {
    h.slack.failChannel('C0ARCHIVED', 'is_archived');
    const before = await scrape(h.bot.url);
    const calls = () =>
      h.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0ARCHIVED' && !c.rateLimited).length;
    const callsBefore = calls();
    const send = await sendOne({ channel: 'C0ARCHIVED' });
    expect(send.state).toBe('accepted');
    const after = await scrape(h.bot.url);
    const failedPosts = calls() - callsBefore;
    expect(failedPosts).toBeGreaterThanOrEqual(1);
    const errors = moved(before, after, 'waping_bot_slack_api_errors_total', {
      method: 'chat.postMessage',
      code: 'is_archived',
    });
    expect(errors).toBe(failedPosts);
    expect(moved(before, after, 'waping_bot_slack_api_errors_total', { method: 'chat.update' })).toBe(0);
  });

  it('counts a rate-limited Slack call as http_429 for its method, and the retry that worked as nothing', async () => {
    h.slack.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 0 });
    const before = await scrape(h.bot.url);
    const send = await sendOne();
    expect(send.state).toBe('accepted');
    expect(send.parent).toBeDefined();
    const after = await scrape(h.bot.url);
    const errors = (labels: Record<string, string>) =>
      moved(before, after, 'waping_bot_slack_api_errors_total', { method: 'chat.postMessage', ...labels });
    expect(errors({ code: 'http_429' })).toBe(1);
    expect(errors({})).toBe(1);
  });

  it('times every sweep and records when the last one succeeded', async () => {
    const before = await scrape(h.bot.url);
    const sweeps = (m: Exposition) => sampleSum(m, 'waping_bot_sweep_duration_seconds_count', { result: 'ok' });
    expect(sweeps(before)).toBeGreaterThanOrEqual(1); // the one at start
    const after = await waitFor(
      async () => {
        const m = await scrape(h.bot.url);
        return sweeps(m) >= sweeps(before) + 2 ? m : undefined;
      },
      10_000,
      'two more sweeps',
    );
    const last = sampleSum(after, 'waping_bot_sweep_last_success_timestamp_seconds');
    expect(last).toBeGreaterThanOrEqual(sampleSum(before, 'waping_bot_sweep_last_success_timestamp_seconds'));
    expect(Math.abs(last - Date.now() / 1000)).toBeLessThan(60);
    expect(sampleSum(after, 'waping_bot_sweep_duration_seconds_count', { result: 'failed' })).toBe(0);
  });
});

describe('GET /metrics while the store is down', () => {
  it('still answers the counters, leaves out the state gauges and says so, then reads them again', async () => {
    const redis = await startRedisServer({ persistent: true });
    const h = await startHarness({
      store: 'redis',
      env: { STORE_URL: `${redis.url}?namespace=${uniqueNamespace('metrics-outage')}` },
    });
    try {
      const up = await scrape(h.bot.url);
      expect(sampleSum(up, 'waping_bot_state_read_ok')).toBe(1);
      expect(up.get('waping_bot_pending_sends')?.samples).toHaveLength(1);
      await redis.stop();
      const down = await scrape(h.bot.url);
      expect(sampleSum(down, 'waping_bot_state_read_ok')).toBe(0);
      expect(down.get('waping_bot_pending_sends')?.samples ?? []).toHaveLength(0);
      expect(down.get('waping_bot_oldest_pending_send_age_seconds')?.samples ?? []).toHaveLength(0);
      expect(down.get('waping_bot_sends_total')?.samples.length).toBeGreaterThan(0);
      await redis.restart();
      await waitFor(
        async () => sampleSum(await scrape(h.bot.url), 'waping_bot_state_read_ok') === 1,
        15_000,
        'the state gauges back',
      );
    } finally {
      await h.stop();
      await redis.stop();
    }
  });
});
