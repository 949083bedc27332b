import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseRetryAfter, WapingClient } from '../../../src/adapters/waping/client.js';
import { WapingError } from '../../../src/adapters/waping/errors.js';
import { parseWebhookEvent } from '../../../src/adapters/waping/schemas.js';
import { verifyWebhook } from '../../../src/adapters/waping/webhook-signature.js';
import type { WapingSendResult } from '../../../src/core/ports.js';
import { createWapingSandbox, type WapingSandbox } from '../../../src/sandbox/waping-sandbox.js';
import { createLogCapture } from '../../support/log-capture.js';

const apiKey = 'test_api_key';
const phone = '+14155550123';
const text = 'Your order #12345 is confirmed.';

let sandbox: WapingSandbox;
let client: WapingClient;

beforeEach(async () => {
  sandbox = createWapingSandbox({ apiKey });
  await sandbox.listen();
  client = new WapingClient({ baseUrl: sandbox.url, apiKey, timeoutMs: 2_000 });
});

afterEach(async () => {
  await client.close();
  await sandbox.close();
});

const body = (to = phone, deviceId = 'dev_support') => client.textBody({ deviceId, to, text });

function expectFailure(result: WapingSendResult) {
  if (result.ok) throw new Error(`expected a failure, got message ${result.messageId}`);
  expect(result.error.message).not.toContain(phone);
  expect(result.error.message).not.toContain(text);
  return result.error;
}

describe('WapingClient against the WAPing sandbox', () => {
  it('builds the text body with the keys in the documented order', () => {
    expect(client.textBody({ deviceId: 'dev_123', to: phone, text: 'hi "there"' })).toBe(
      '{"deviceId":"dev_123","to":"+14155550123","type":"text","text":{"body":"hi \\"there\\""}}',
    );
  });

  it('sends a text message and gets back a queued message id', async () => {
    const result = await client.sendMessage('key-success', body());

    expect(result).toEqual({ ok: true, messageId: expect.stringMatching(/^msg_/), status: 'queued' });
    expect(sandbox.messages()).toEqual([
      expect.objectContaining({ key: 'key-success', deviceId: 'dev_support', to: phone, type: 'text', text }),
    ]);
  });

  it('gets the same message id back when the same key and body are sent again, and sends once', async () => {
    const first = await client.sendMessage('key-replay', body());
    const second = await client.sendMessage('key-replay', body());

    expect(second).toEqual(first);
    expect(sandbox.sendsFor('key-replay')).toBe(1);
    expect(sandbox.requests.map((request) => request.outcome)).toEqual(['accepted', 'replayed']);
  });

  it('reports an idempotency conflict when the same key comes with a different body', async () => {
    await client.sendMessage('key-conflict', body());
    const result = expectFailure(await client.sendMessage('key-conflict', body('+14155550124')));

    expect(result).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', retryable: false, status: 409 });
    expect(sandbox.totalSends()).toBe(1);
  });

  it('reports a bad number as a validation error that must not be retried', async () => {
    const result = expectFailure(await client.sendMessage('key-bad-number', body('5551234567')));

    expect(result).toMatchObject({ code: 'VALIDATION', retryable: false, status: 400 });
    expect(sandbox.totalSends()).toBe(0);
  });

  it('reports an unknown device', async () => {
    const result = expectFailure(await client.sendMessage('key-unknown-device', body(phone, 'dev_nope')));

    expect(result).toMatchObject({ code: 'UNKNOWN_DEVICE', retryable: false, status: 400 });
  });

  it('reports a disconnected session, in plain words, without retrying', async () => {
    const result = expectFailure(await client.sendMessage('key-session', body(phone, 'dev_old')));

    expect(result).toMatchObject({ code: 'SESSION_DISCONNECTED', retryable: false, status: 422 });
    expect(result.message).toBe("The device's WhatsApp session is disconnected");
  });

  it('recognises a session error by its code whatever the 4xx status', async () => {
    sandbox.script({ status: 400, body: { error: { code: 'SESSION_NOT_READY', message: 'scan the QR' } } });
    const result = expectFailure(await client.sendMessage('key-session-400', body()));

    expect(result).toMatchObject({ code: 'SESSION_DISCONNECTED', retryable: false, status: 400 });
  });

  it('reports a 500 as retryable, and the retry with the same key sends once', async () => {
    sandbox.script({ status: 500 });
    const failed = expectFailure(await client.sendMessage('key-500', body()));
    expect(failed).toMatchObject({ code: 'HTTP_500', retryable: true, status: 500 });
    expect(sandbox.sendsFor('key-500')).toBe(0);

    const retried = await client.sendMessage('key-500', body());
    expect(retried.ok).toBe(true);
    expect(sandbox.sendsFor('key-500')).toBe(1);
  });

  it('reports a dropped connection as a retryable network error', async () => {
    sandbox.script({ drop: true });
    const result = expectFailure(await client.sendMessage('key-drop', body()));

    expect(result).toMatchObject({ code: 'NETWORK', retryable: true });
    expect(result.status).toBeUndefined();
    expect((await client.sendMessage('key-drop', body())).ok).toBe(true);
    expect(sandbox.sendsFor('key-drop')).toBe(1);
  });

  it('reports a refused connection as a retryable network error that names the call and the host', async () => {
    const closed = createWapingSandbox({ apiKey });
    const url = await closed.listen();
    await closed.close();
    const unreachable = new WapingClient({ baseUrl: url, apiKey });
    const host = new URL(url).host;
    try {
      expect(expectFailure(await unreachable.sendMessage('key-refused', body()))).toMatchObject({
        code: 'NETWORK',
        retryable: true,
        message: `WAPing could not be reached (POST v1/messages at ${host})`,
      });
      await expect(unreachable.listDevices()).rejects.toThrow(
        `WAPing could not be reached (GET v1/devices at ${host})`,
      );
    } finally {
      await unreachable.close();
    }
  });

  it('reports a 429 as retryable after the Retry-After it carries', async () => {
    sandbox.script({ status: 429, retryAfterSeconds: 2 });
    const result = expectFailure(await client.sendMessage('key-429', body()));

    expect(result).toMatchObject({ code: 'RATE_LIMITED', retryable: true, status: 429, retryAfterMs: 2000 });
    expect(sandbox.sendsFor('key-429')).toBe(0);
  });

  it('reports a timeout as retryable, and the retry replays what WAPing did meanwhile', async () => {
    const impatient = new WapingClient({ baseUrl: sandbox.url, apiKey, timeoutMs: 100 });
    try {
      sandbox.script({ delayMs: 400 });
      const result = expectFailure(await impatient.sendMessage('key-timeout', body()));
      expect(result).toMatchObject({ code: 'TIMEOUT', retryable: true });

      // WAPing went on with the request after we gave up; once it is done, the retry gets its answer.
      await vi.waitFor(() => expect(sandbox.requests[0]?.outcome).toBe('accepted'), { timeout: 5_000 });
      const retried = await impatient.sendMessage('key-timeout', body());
      expect(retried).toEqual({ ok: true, messageId: sandbox.messages()[0]?.id, status: 'queued' });
      expect(sandbox.sendsFor('key-timeout')).toBe(1);
    } finally {
      await impatient.close();
    }
  });

  it('tells its telemetry how each HTTP exchange ended and how long it took', async () => {
    const seen: Array<{ operation: string; outcome: string; seconds: number }> = [];
    const observed = new WapingClient({
      baseUrl: sandbox.url,
      apiKey,
      timeoutMs: 150,
      telemetry: { wapingRequest: (operation, outcome, seconds) => seen.push({ operation, outcome, seconds }) },
    });
    try {
      sandbox.script(
        { status: 503 },
        { status: 429, retryAfterSeconds: 1 },
        { status: 422, body: { error: { code: 'VALIDATION', message: 'bad' } } },
        { drop: true },
        { delayMs: 400 },
      );
      for (let i = 0; i < 6; i++) await observed.sendMessage(`key-observed-${i}`, body());
      await observed.listDevices();
    } finally {
      await observed.close();
    }
    expect(seen.map(({ operation, outcome }) => `${operation}:${outcome}`)).toEqual([
      'send:http_5xx',
      'send:rate_limited',
      'send:http_4xx',
      'send:network',
      'send:timeout',
      'send:ok',
      'list_devices:ok',
    ]);
    for (const { seconds } of seen) expect(seconds).toBeGreaterThan(0);
    expect(seen[4]?.seconds).toBeGreaterThanOrEqual(0.14); // the timed-out one waited for its timeout
  });

  it('reports a key still in flight as retryable, while the first request goes through', async () => {
    sandbox.script({ delayMs: 300 });
    const first = client.sendMessage('key-in-flight', body());
    await vi.waitFor(() => expect(sandbox.requests).toHaveLength(1));

    const second = expectFailure(await client.sendMessage('key-in-flight', body()));
    expect(second).toMatchObject({ code: 'IDEMPOTENCY_IN_FLIGHT', retryable: true, status: 409 });
    expect((await first).ok).toBe(true);
    expect(sandbox.sendsFor('key-in-flight')).toBe(1);
  });

  it('reports a wrong API key as unauthorized, not retryable', async () => {
    const stranger = new WapingClient({ baseUrl: sandbox.url, apiKey: 'wrong' });
    try {
      const result = expectFailure(await stranger.sendMessage('key-401', body()));
      expect(result).toMatchObject({ code: 'UNAUTHORIZED', retryable: false, status: 401 });
    } finally {
      await stranger.close();
    }
  });

  it('never repeats an error message from WAPing that echoes the number or the text', async () => {
    sandbox.script({
      status: 400,
      body: { error: { code: 'VALIDATION', message: `Cannot send "${text}" to ${phone}` } },
    });
    const result = expectFailure(await client.sendMessage('key-echo', body()));

    expect(result).toMatchObject({ code: 'VALIDATION', status: 400 });
  });

  it('maps an answer of unknown shape to a typed result with its status', async () => {
    sandbox.script({ status: 418, body: '<html>teapot</html>' }, { status: 502, body: 'Bad gateway' });

    expect(expectFailure(await client.sendMessage('key-418', body()))).toMatchObject({
      code: 'HTTP_418',
      retryable: false,
      status: 418,
    });
    expect(expectFailure(await client.sendMessage('key-502', body()))).toMatchObject({
      code: 'HTTP_502',
      retryable: true,
      status: 502,
    });
  });

  it('throws a typed error when the device list cannot be had', async () => {
    const stranger = new WapingClient({ baseUrl: sandbox.url, apiKey: 'wrong' });
    try {
      await expect(stranger.listDevices()).rejects.toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
      await expect(stranger.listDevices()).rejects.toBeInstanceOf(WapingError);
    } finally {
      await stranger.close();
    }
  });

  it('keeps a path prefix of the base URL', async () => {
    const prefixed = new WapingClient({ baseUrl: `${sandbox.url}/api`, apiKey });
    try {
      await expect(prefixed.listDevices()).rejects.toMatchObject({ code: 'HTTP_404', status: 404 });
    } finally {
      await prefixed.close();
    }
  });
});

describe('Retry-After', () => {
  it('reads delta seconds and HTTP dates', () => {
    const now = Date.parse('2026-04-03T10:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Fri, 03 Apr 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Fri, 03 Apr 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

describe('Webhooks sent by the WAPing sandbox', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  let receiver: Server;
  let received: Received[];
  let answers: number[];
  let webhookUrl: string;

  beforeEach(async () => {
    received = [];
    answers = [];
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(answers.shift() ?? 204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/waping`;
  });

  afterEach(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  const verified = ({ headers, body }: Received) =>
    verifyWebhook({
      secrets: [secret],
      headers: {
        id: headers['webhook-id'] as string,
        timestamp: headers['webhook-timestamp'] as string,
        signature: headers['webhook-signature'] as string,
      },
      body,
      nowSeconds: Math.floor(Date.now() / 1000),
    });

  async function withSandbox(
    options: Partial<Parameters<typeof createWapingSandbox>[0]>,
    run: (sandbox: WapingSandbox, client: WapingClient) => Promise<void>,
  ) {
    const hooked = createWapingSandbox({ apiKey, webhookUrl, webhookSecret: secret, ...options });
    await hooked.listen();
    const hookedClient = new WapingClient({ baseUrl: hooked.url, apiKey });
    try {
      await run(hooked, hookedClient);
    } finally {
      await hookedClient.close();
      await hooked.close();
    }
  }

  it('sends signed queued, sent, delivered and read events after an accepted send', async () => {
    await withSandbox({ webhookDelaysMs: [10, 20, 30, 40] }, async (hooked, hookedClient) => {
      const result = await hookedClient.sendMessage(
        'key-webhooks',
        hookedClient.textBody({ deviceId: 'dev_support', to: phone, text }),
      );
      if (!result.ok) throw new Error(result.error.code);

      await vi.waitFor(() => expect(received).toHaveLength(4), { timeout: 5_000 });
      for (const delivery of received) expect(verified(delivery)).toEqual({ ok: true });
      const events = received.map((delivery) => parseWebhookEvent(JSON.parse(delivery.body)));
      expect(
        events.map((parsed) => (parsed.ok && parsed.event.kind === 'message' ? parsed.event.status : '?')).sort(),
      ).toEqual(['delivered', 'queued', 'read', 'sent']);
      for (const parsed of events) {
        expect(parsed).toMatchObject({
          ok: true,
          event: { data: { messageId: result.messageId, deviceId: 'dev_support' } },
        });
      }
      expect(hooked.sendsFor('key-webhooks')).toBe(1);
    });
  });

  it('redelivers an event with the same webhook-id while the receiver answers an error', async () => {
    answers.push(500, 503);
    await withSandbox({ webhookDelaysMs: [10], webhookRetryDelayMs: 10 }, async (_hooked, hookedClient) => {
      await hookedClient.sendMessage(
        'key-redelivery',
        hookedClient.textBody({ deviceId: 'dev_support', to: phone, text }),
      );

      await vi.waitFor(() => expect(received).toHaveLength(3), { timeout: 5_000 });
      expect(new Set(received.map((delivery) => delivery.headers['webhook-id'])).size).toBe(1);
      for (const delivery of received) expect(verified(delivery)).toEqual({ ok: true });
    });
  });

  it('emits one arbitrary signed event on demand and returns the receiver status', async () => {
    answers.push(202);
    await withSandbox({ emitWebhooks: false }, async (hooked) => {
      const status = await hooked.emit('contact.updated', { contactId: 'c_1' }, { id: 'evt_fixed' });

      expect(status).toBe(202);
      expect(received).toHaveLength(1);
      const [delivery] = received as [Received];
      expect(delivery.headers['webhook-id']).toBe('evt_fixed');
      expect(verified(delivery)).toEqual({ ok: true });
      expect(parseWebhookEvent(JSON.parse(delivery.body))).toMatchObject({
        ok: true,
        event: { kind: 'unknown', type: 'contact.updated' },
      });
    });
  });

  it('announces a session that goes down', async () => {
    await withSandbox({}, async (hooked) => {
      hooked.setDeviceStatus('dev_support', 'disconnected');

      await vi.waitFor(() => expect(received).toHaveLength(1), { timeout: 5_000 });
      expect(parseWebhookEvent(JSON.parse(received[0]?.body ?? ''))).toMatchObject({
        ok: true,
        event: { kind: 'session', type: 'session.disconnected', data: { deviceId: 'dev_support' } },
      });
    });
  });

  it('sends nothing more once closed', async () => {
    await withSandbox({ webhookDelaysMs: [150, 150, 150, 150] }, async (_hooked, hookedClient) => {
      await hookedClient.sendMessage('key-closed', hookedClient.textBody({ deviceId: 'dev_support', to: phone, text }));
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toHaveLength(0);
  });

  it('never logs the number or the text', async () => {
    const capture = createLogCapture();
    await withSandbox(
      { webhookDelaysMs: [10], logger: pino({ level: 'debug' }, capture.stream) },
      async (hooked, hookedClient) => {
        await hookedClient.sendMessage('key-logs', hookedClient.textBody({ deviceId: 'dev_support', to: phone, text }));
        await hookedClient.sendMessage(
          'key-logs-bad',
          hookedClient.textBody({ deviceId: 'dev_support', to: '12', text }),
        );
        await vi.waitFor(() => expect(hooked.deliveries).toHaveLength(1), { timeout: 5_000 });
      },
    );
    expect(capture.lines().length).toBeGreaterThan(0);
    expect(capture.text()).not.toContain(phone);
    expect(capture.text()).not.toContain(text);
  });
});

describe('parseWebhookEvent', () => {
  it('parses a message event into its delivery status', () => {
    const parsed = parseWebhookEvent({
      type: 'message.failed',
      timestamp: '2026-04-03T10:00:00Z',
      data: { messageId: 'msg_1', deviceId: 'dev_1', to: phone, error: { code: 'NOT_ON_WHATSAPP', message: 'x' } },
    });
    expect(parsed).toEqual({
      ok: true,
      event: {
        kind: 'message',
        type: 'message.failed',
        status: 'failed',
        timestamp: '2026-04-03T10:00:00Z',
        data: { messageId: 'msg_1', deviceId: 'dev_1', to: phone, error: { code: 'NOT_ON_WHATSAPP', message: 'x' } },
      },
    });
  });

  it('parses an unknown event type as unknown rather than failing', () => {
    expect(parseWebhookEvent({ type: 'billing.updated', data: 42 })).toEqual({
      ok: true,
      event: { kind: 'unknown', type: 'billing.updated' },
    });
  });

  it('gives a reason for a malformed body', () => {
    const missingType = parseWebhookEvent({ data: {} });
    expect(missingType).toMatchObject({ ok: false, reason: expect.stringContaining('type') });
    const badMessage = parseWebhookEvent({ type: 'message.read', data: { deviceId: 'dev_1' } });
    expect(badMessage).toMatchObject({ ok: false, reason: expect.stringContaining('data.messageId') });
    expect(parseWebhookEvent('not an object')).toMatchObject({ ok: false });
  });
});
