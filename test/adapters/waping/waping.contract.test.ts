import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WapingClient } from '../../../src/adapters/waping/client.js';
import type { WapingPort } from '../../../src/core/ports.js';
import { createWapingSandbox } from '../../../src/sandbox/waping-sandbox.js';
import { FakeWaping, type FakeWapingFault, WAPING_RESULTS } from '../../support/fake-waping.js';

/*
 * One contract for every WAPing the tests use: the in-memory fake the core's tests run on, and the real client
 * talking HTTP to the WAPing sandbox on loopback. The same situation must come to the same result in both, and to
 * the results the core's tests script (WAPING_RESULTS), so neither fake can drift from what the bot really sees.
 */

const API_KEY = 'contract-api-key';
const TO = '+14155550123';
const TEXT = 'Your order is ready';

/** One WAPing under test, and the handles a test needs to put it in a situation. */
interface Subject {
  port: WapingPort;
  /** Make the next sends fail with these HTTP answers, one each. */
  fault(...faults: FakeWapingFault[]): void;
  /** Link or unlink a device's WhatsApp session. */
  setDeviceStatus(id: string, status: 'connected' | 'disconnected'): void;
  /** Messages really sent (replays not counted). */
  totalSends(): number;
  close(): Promise<void>;
}

const subjects: Array<{ name: string; start(): Promise<Subject> }> = [
  {
    name: 'the in-memory fake (test/support/fake-waping.ts)',
    start: async () => {
      const fake = new FakeWaping();
      return {
        port: fake,
        fault: (...faults) => fake.fault(...faults),
        setDeviceStatus: (id, status) => fake.setDeviceStatus(id, status),
        totalSends: () => fake.totalSends(),
        close: async () => {},
      };
    },
  },
  {
    name: 'WapingClient against the WAPing sandbox over HTTP',
    start: async () => {
      const sandbox = createWapingSandbox({ apiKey: API_KEY, emitWebhooks: false });
      const client = new WapingClient({ baseUrl: await sandbox.listen(), apiKey: API_KEY, timeoutMs: 5_000 });
      return {
        port: client,
        fault: (...faults) => sandbox.script(...faults),
        setDeviceStatus: (id, status) => sandbox.setDeviceStatus(id, status),
        totalSends: () => sandbox.totalSends(),
        close: async () => {
          await client.close();
          await sandbox.close();
        },
      };
    },
  },
];

/** The body builder of the real client, the reference every fake's bodies must match byte for byte. */
const reference = new WapingClient({ baseUrl: 'http://127.0.0.1:9', apiKey: API_KEY });
afterAll(() => reference.close());

describe.each(subjects)('WAPing: $name', ({ start }) => {
  let subject: Subject;
  let waping: WapingPort;
  const body = (to = TO, deviceId = 'dev_support') => waping.textBody({ deviceId, to, text: TEXT });

  beforeEach(async () => {
    subject = await start();
    waping = subject.port;
  });
  afterEach(() => subject.close());

  it("builds a text send's body exactly as the real client does", () => {
    const message = { deviceId: 'dev_support', to: TO, text: 'Line "one"\nand two' };
    expect(waping.textBody(message)).toBe(reference.textBody(message));
  });

  it('accepts a text send and answers a queued message id', async () => {
    expect(await waping.sendMessage('key-accept', body())).toEqual({
      ok: true,
      messageId: expect.stringMatching(/^msg_/),
      status: 'queued',
    });
    expect(subject.totalSends()).toBe(1);
  });

  it('gives different sends different message ids', async () => {
    const first = await waping.sendMessage('key-first', body());
    const second = await waping.sendMessage('key-second', body());
    expect(first.ok && second.ok && first.messageId !== second.messageId).toBe(true);
  });

  it('replays its answer for the same key and body, and sends once', async () => {
    const first = await waping.sendMessage('key-replay', body());
    expect(await waping.sendMessage('key-replay', body())).toEqual(first);
    expect(subject.totalSends()).toBe(1);
  });

  it('refuses the same key with a different body as an idempotency conflict, not to be retried', async () => {
    await waping.sendMessage('key-conflict', body());
    expect(await waping.sendMessage('key-conflict', body('+14155550124'))).toEqual(WAPING_RESULTS.idempotencyConflict);
    expect(subject.totalSends()).toBe(1);
  });

  it('refuses a number not in E.164 form as a validation error, sending nothing', async () => {
    expect(await waping.sendMessage('key-invalid', body('4155550123'))).toEqual(WAPING_RESULTS.validation);
    expect(subject.totalSends()).toBe(0);
  });

  it('refuses a device it does not know', async () => {
    expect(await waping.sendMessage('key-unknown', body(TO, 'dev_nope'))).toEqual(WAPING_RESULTS.unknownDevice);
    expect(subject.totalSends()).toBe(0);
  });

  it('refuses a device whose session is disconnected, and sends once it is linked again', async () => {
    expect(await waping.sendMessage('key-session', body(TO, 'dev_old'))).toEqual(WAPING_RESULTS.sessionDisconnected);
    subject.setDeviceStatus('dev_old', 'connected');
    expect(await waping.sendMessage('key-session', body(TO, 'dev_old'))).toMatchObject({ ok: true });
    expect(subject.totalSends()).toBe(1);
  });

  it('reports a failure on its side as retryable, and the retry with the same key and body sends once', async () => {
    subject.fault({ status: 503 });
    expect(await waping.sendMessage('key-503', body())).toEqual(WAPING_RESULTS.unavailable);
    expect(subject.totalSends()).toBe(0);
    expect(await waping.sendMessage('key-503', body())).toMatchObject({ ok: true });
    expect(subject.totalSends()).toBe(1);
  });

  it('reports a rate limit as retryable after the Retry-After it carries', async () => {
    subject.fault({ status: 429, retryAfterSeconds: 2 });
    expect(await waping.sendMessage('key-429', body())).toEqual(WAPING_RESULTS.rateLimited(2_000));
    expect(subject.totalSends()).toBe(0);
  });

  it('lists its devices with their session state, as they change', async () => {
    expect(await waping.listDevices()).toEqual([
      { id: 'dev_support', name: 'Support line', phone: '+14155550198', connected: true },
      { id: 'dev_sales', name: 'Sales', phone: '+14155550199', connected: true },
      { id: 'dev_old', name: 'Old phone', connected: false },
    ]);
    subject.setDeviceStatus('dev_old', 'connected');
    subject.setDeviceStatus('dev_sales', 'disconnected');
    expect((await waping.listDevices()).map((device) => [device.id, device.connected])).toEqual([
      ['dev_support', true],
      ['dev_sales', false],
      ['dev_old', true],
    ]);
  });
});
