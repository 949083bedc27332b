import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@keyv/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectCleanLogs,
  type Harness,
  SIGNING_SECRET,
  startHarness,
  submitSendModal,
  waitFor,
} from './support/bot-harness.js';
import { type RedisServer, startRedisServer, uniqueNamespace } from './support/redis.js';
import { slashCommand } from './support/slack-requests.js';

const CHANNEL = 'C0SUPPORT';
const NUMBER = '+14155550123';
let views = 0;
const nextViewId = () => `V0READY${++views}${Math.random().toString(36).slice(2, 8).toUpperCase()}`;

interface ReadyBody {
  ok: boolean;
  version: string;
  failing: string[];
  checks: Record<string, { ok: boolean; error?: string }>;
}

async function readyz(h: Harness): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`${h.bot.url}/readyz`);
  return { status: res.status, body: (await res.json()) as ReadyBody };
}

describe('the readiness probe with the store, Slack and the sweep all failing', () => {
  it('answers 503 naming each failing check: store, slack and sweep', async () => {
    const redis = await startRedisServer();
    let offsetMs = 0;
    const h = await startHarness({
      store: 'redis',
      // A closed loopback port: Slack's API refuses every connection.
      env: {
        STORE_URL: `${redis.url}?namespace=${uniqueNamespace('ready')}`,
        SLACK_API_URL: 'http://127.0.0.1:9/api/',
      },
      // The clock the sweep's heartbeat reads; moved on below so the last sweep looks long ago.
      overrides: { clock: { now: () => Date.now() + offsetMs, sleep: (ms) => sleep(ms) } },
    });
    try {
      await redis.stop();
      offsetMs = 60 * 60_000;
      const { status, body } = await readyz(h);
      expect(status).toBe(503);
      expect(body.ok).toBe(false);
      expect(body.failing).toEqual(['store', 'slack', 'sweep']);
      expect(body.checks.store).toEqual({ ok: false, error: expect.stringMatching(/^STORE_UNAVAILABLE: /) });
      expect(body.checks.slack).toEqual({
        ok: false,
        error: expect.stringMatching(/auth\.test has not succeeded yet \(last: slack_webapi_request_error\)/),
      });
      expect(body.checks.sweep).toEqual({
        ok: false,
        error: expect.stringMatching(/^no sweep has finished for \d+ s$/),
      });
      // /healthz stays the liveness probe: the process still serves HTTP.
      expect((await fetch(`${h.bot.url}/healthz`)).status).toBe(200);
    } finally {
      await h.stop();
      await redis.stop();
    }
  });
});

describe('the readiness probe and a store that goes away', () => {
  let redis: RedisServer;
  let h: Harness;

  beforeAll(async () => {
    redis = await startRedisServer();
    h = await startHarness({
      store: 'redis',
      env: { STORE_URL: `${redis.url}?namespace=${uniqueNamespace('ready')}` },
      configFile: { devices: [{ id: 'dev_support', name: 'Support line' }] },
    });
  });
  afterAll(async () => {
    expectCleanLogs(h.logs, [NUMBER, 'Hello']);
    await h?.stop();
    await redis?.stop();
  });

  it('answers /readyz 200 with every check passing while the store, Slack and the sweep work', async () => {
    const { status, body } = await waitFor(async () => {
      const answer = await readyz(h);
      return answer.status === 200 ? answer : undefined;
    });
    expect(status).toBe(200);
    expect(body).toEqual({
      ok: true,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      failing: [],
      checks: { store: { ok: true }, slack: { ok: true }, sweep: { ok: true } },
    });
  });

  describe('while Redis is stopped', () => {
    beforeAll(async () => {
      await redis.stop();
    });
    afterAll(async () => {
      await redis.restart();
    });

    it('answers /readyz 503 naming the store as the failing check', async () => {
      const { status, body } = await readyz(h);
      expect(status).toBe(503);
      expect(body.ok).toBe(false);
      expect(body.failing).toEqual(['store']);
      expect(body.checks.store).toEqual({ ok: false, error: expect.stringContaining('STORE_UNAVAILABLE') });
      expect(body.checks.slack).toEqual({ ok: true });
      expect(body.checks.sweep).toEqual({ ok: true });
      // /healthz stays the liveness probe: the process still serves HTTP.
      expect((await fetch(`${h.bot.url}/healthz`)).status).toBe(200);
    });

    it('tells the person running /whatsapp send, within Slack’s 3 s, that nothing was sent', async () => {
      const startedAt = Date.now();
      const res = await slashCommand(h.eventsUrl, SIGNING_SECRET, {
        text: `send ${NUMBER} Hello`,
        user_id: 'U0ALICE',
        channel_id: CHANNEL,
      });
      expect(Date.now() - startedAt).toBeLessThan(3_000);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        response_type: 'ephemeral',
        text: expect.stringMatching(/nothing was sent.*try again/i),
      });
      expect(h.slack.callsTo('views.open')).toHaveLength(0);
    });

    it('answers the form’s submission with an inline error saying nothing was sent', async () => {
      const startedAt = Date.now();
      const res = await submitSendModal(h, { viewId: nextViewId(), recipient: NUMBER, text: 'Hello' });
      expect(Date.now() - startedAt).toBeLessThan(3_000);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        response_action: 'errors',
        errors: { recipient: expect.stringMatching(/nothing was sent.*again/i) },
      });
      expect(h.waping.requests).toHaveLength(0);
    });
  });

  it('answers /readyz 200 again once Redis is back, and the same form then sends', async () => {
    await waitFor(async () => (await readyz(h)).status === 200, 15_000, '/readyz to answer 200 again');
    const res = await submitSendModal(h, { viewId: nextViewId(), recipient: NUMBER, text: 'Hello' });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    await waitFor(() => h.waping.requests.length === 1, 10_000, 'the send to reach WAPing');
    await h.bot.idle();
  });
});

describe('a store that answers but refuses to write', () => {
  it('answers the form’s submission with an inline error that says to press Send again, and sends nothing', async () => {
    const redis = await startRedisServer();
    const h = await startHarness({
      store: 'redis',
      env: { STORE_URL: `${redis.url}?namespace=${uniqueNamespace('ready')}` },
      configFile: { devices: [{ id: 'dev_support', name: 'Support line' }] },
    });
    // A real Redis out of memory: PING and reads still answer, every write is refused (OOM).
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await admin.configSet({ maxmemory: '1', 'maxmemory-policy': 'noeviction' });
      const res = await submitSendModal(h, { viewId: nextViewId(), recipient: NUMBER, text: 'Hello' });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        response_action: 'errors',
        errors: { recipient: expect.stringMatching(/may not have been sent.*Press Send again/) },
      });
      expect(h.waping.requests).toHaveLength(0);
      expect(h.logs.text()).toContain('send modal submission failed before its ack');
      expectCleanLogs(h.logs, [NUMBER, 'Hello']);
    } finally {
      await admin.configSet({ maxmemory: '0' });
      await admin.close();
      await h.stop();
      await redis.stop();
    }
  });
});
