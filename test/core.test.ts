import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSendArguments } from '../src/adapters/slack/commands/whatsapp.js';
import { createStore } from '../src/adapters/store/create-store.js';
import { BackgroundWork } from '../src/core/background.js';
import { backoffDelayMs } from '../src/core/backoff.js';
import { derivedUuid, idempotencyKeyForAction, idempotencyKeyForView } from '../src/core/idempotency.js';
import { MessageSync } from '../src/core/message-sync.js';
import type {
  Clock,
  Device,
  Logger,
  MessageRef,
  SendNotifier,
  Store,
  WapingPort,
  WapingSendResult,
} from '../src/core/ports.js';
import { normaliseRecipient } from '../src/core/recipient.js';
import { checkSendForm, MAX_TEXT_LENGTH } from '../src/core/send-form.js';
import type { SendRecord } from '../src/core/send-record.js';
import { type SendDraft, type SendPolicy, SendService } from '../src/core/sends.js';
import { boltLogger, createLogger, scrub } from '../src/logger.js';
import { createLogCapture } from './support/log-capture.js';

const NUMBER = '+14155552671';
const TEXT = 'Your order is ready';
const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('idempotency keys', () => {
  it('derives the same key from the same interaction, every time', () => {
    expect(idempotencyKeyForView('T0TEAM', 'V0ABC')).toBe(idempotencyKeyForView('T0TEAM', 'V0ABC'));
    expect(idempotencyKeyForAction('T0TEAM', 'C0SUP', '1700000000.000100', 'retry_send', 1)).toBe(
      idempotencyKeyForAction('T0TEAM', 'C0SUP', '1700000000.000100', 'retry_send', 1),
    );
  });

  it('formats keys as RFC 9562 version 8 UUIDs with the RFC variant', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), (parts) => {
        expect(derivedUuid(...parts)).toMatch(UUID_V8);
      }),
    );
    expect(idempotencyKeyForView('T0TEAM', 'V0ABC')).toMatch(UUID_V8);
  });

  it('gives different views, teams, channels, messages, actions and attempts different keys', () => {
    const keys = [
      idempotencyKeyForView('T0TEAM', 'V0ABC'),
      idempotencyKeyForView('T0TEAM', 'V0ABD'),
      idempotencyKeyForView('T0OTHER', 'V0ABC'),
      idempotencyKeyForAction('T0TEAM', 'C0SUP', '1700000000.000100', 'retry_send', 1),
      idempotencyKeyForAction('T0TEAM', 'C0SUP', '1700000000.000100', 'retry_send', 2),
      idempotencyKeyForAction('T0TEAM', 'C0OPS', '1700000000.000100', 'retry_send', 1),
      idempotencyKeyForAction('T0TEAM', 'C0SUP', '1700000000.000200', 'retry_send', 1),
      idempotencyKeyForAction('T0TEAM', 'C0SUP', '1700000000.000100', 'resend', 1),
      idempotencyKeyForAction('T0OTHER', 'C0SUP', '1700000000.000100', 'retry_send', 1),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('never lets a view key and an action key collide, whatever their parts', () => {
    expect(idempotencyKeyForView('T0TEAM', 'V0ABC')).not.toBe(derivedUuid('action', 'T0TEAM', 'V0ABC'));
    expect(idempotencyKeyForView('T0TEAM', 'V0ABC')).toBe(derivedUuid('view', 'T0TEAM', 'V0ABC'));
  });

  it("length-prefixes the parts, so ('ab','c') and ('a','bc') give different keys", () => {
    expect(derivedUuid('ab', 'c')).not.toBe(derivedUuid('a', 'bc'));
    expect(derivedUuid('a:b')).not.toBe(derivedUuid('a', 'b'));
    expect(derivedUuid('')).not.toBe(derivedUuid());
    fc.assert(
      fc.property(fc.array(fc.string()), fc.array(fc.string()), (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(derivedUuid(...a)).not.toBe(derivedUuid(...b));
      }),
    );
  });
});

describe('normaliseRecipient', () => {
  it('passes an E.164 number through unchanged', () => {
    expect(normaliseRecipient(NUMBER)).toEqual({ ok: true, e164: NUMBER });
    expect(normaliseRecipient('+442071838750')).toEqual({ ok: true, e164: '+442071838750' });
  });

  it('reads a 00 international prefix as +', () => {
    expect(normaliseRecipient('0014155552671')).toEqual({ ok: true, e164: NUMBER });
    expect(normaliseRecipient('00 44 20 7183 8750')).toEqual({ ok: true, e164: '+442071838750' });
  });

  it('ignores spaces, dashes, dots, brackets and surrounding blanks', () => {
    for (const typed of ['+1 415-555-2671', '+1 (415) 555.2671', '  +14155552671\n']) {
      expect(normaliseRecipient(typed)).toEqual({ ok: true, e164: NUMBER });
    }
  });

  it('accepts a national number when a default country is configured', () => {
    expect(normaliseRecipient('(415) 555-2671', 'US')).toEqual({ ok: true, e164: NUMBER });
    expect(normaliseRecipient('020 7183 8750', 'GB')).toEqual({ ok: true, e164: '+442071838750' });
  });

  it('still takes an international number as it is when a default country is configured', () => {
    expect(normaliseRecipient('+442071838750', 'US')).toEqual({ ok: true, e164: '+442071838750' });
  });

  it('refuses a national number without a default country, asking for + and the country code', () => {
    const check = normaliseRecipient('(415) 555-2671');
    expect(check.ok).toBe(false);
    expect(!check.ok && check.error).toMatch(/\+ and the country code/);
  });

  it.each([
    ['too short', '+1415555'],
    ['an unassigned range', '+15551234567'],
    ['letters', '+1 415 CALL NOW'],
    ['an unknown country code', '+999123456789'],
  ])('refuses a number with %s', (_what, typed) => {
    const check = normaliseRecipient(typed, 'US');
    expect(check).toMatchObject({ ok: false });
    expect(!check.ok && check.error).toMatch(/not a valid phone number/);
  });

  it('refuses an empty recipient with an example of what to type', () => {
    expect(normaliseRecipient('   ')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/Enter a phone number/),
    });
  });
});

describe('checkSendForm', () => {
  const devices: Device[] = [
    { id: 'dev_support', name: 'Support line', connected: true },
    { id: 'dev_old', name: 'Old phone', connected: false },
  ];

  it('returns the E.164 number, the device and the text exactly as typed, not trimmed', () => {
    const text = '  Your order is ready\n\n';
    expect(checkSendForm({ recipient: '+1 415 555 2671', deviceId: 'dev_support', text }, devices)).toEqual({
      ok: true,
      to: [NUMBER],
      device: devices[0],
      text,
    });
  });

  it('reports every problem at once, each under its field', () => {
    const checked = checkSendForm({ recipient: '12', deviceId: undefined, text: '  ' }, devices);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && Object.keys(checked.errors).sort()).toEqual(['device', 'message', 'recipient']);
  });

  it(`accepts ${MAX_TEXT_LENGTH} characters and refuses ${MAX_TEXT_LENGTH + 1}, saying by how much to shorten`, () => {
    const form = { recipient: NUMBER, deviceId: 'dev_support' };
    expect(checkSendForm({ ...form, text: 'x'.repeat(4096) }, devices).ok).toBe(true);
    const tooLong = checkSendForm({ ...form, text: 'x'.repeat(4097) }, devices);
    expect(tooLong).toMatchObject({ ok: false, errors: { message: expect.stringContaining('Shorten it by 1') } });
    expect(Object.keys(!tooLong.ok ? tooLong.errors : {})).toEqual(['message']);
  });

  it('refuses a disconnected device, naming it and saying how to re-link it', () => {
    const checked = checkSendForm({ recipient: NUMBER, deviceId: 'dev_old', text: TEXT }, devices);
    expect(checked).toMatchObject({ ok: false, errors: { device: expect.stringMatching(/Old phone.*re-link/) } });
  });

  it('refuses a device that is no longer offered', () => {
    const checked = checkSendForm({ recipient: NUMBER, deviceId: 'dev_gone', text: TEXT }, devices);
    expect(checked).toMatchObject({ ok: false, errors: { device: expect.stringMatching(/not available/) } });
  });

  it('uses the default country for national numbers', () => {
    const checked = checkSendForm({ recipient: '415 555 2671', deviceId: 'dev_support', text: TEXT }, devices, 'US');
    expect(checked).toMatchObject({ ok: true, to: [NUMBER] });
  });
});

describe('backoffDelayMs', () => {
  it('waits between half and all of base·2^(attempt-1)', () => {
    expect(backoffDelayMs(1, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelayMs(1, 500, 30_000, () => 1)).toBe(500);
    expect(backoffDelayMs(3, 500, 30_000, () => 0)).toBe(1_000);
    expect(backoffDelayMs(3, 500, 30_000, () => 1)).toBe(2_000);
    expect(backoffDelayMs(3, 500, 30_000, () => 0.5)).toBe(1_500);
  });

  it('never waits longer than the cap, however many attempts were made', () => {
    expect(backoffDelayMs(50, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelayMs(50, 500, 30_000, () => 0)).toBe(15_000);
  });

  it('treats attempt 0 (nothing tried yet) like the first attempt', () => {
    expect(backoffDelayMs(0, 500, 30_000, () => 1)).toBe(500);
  });

  it('stays within its bounds for any attempt and any random draw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, draw) => {
        const ceiling = Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));
        const delay = backoffDelayMs(attempt, 500, 30_000, () => draw);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(delay).toBeLessThanOrEqual(ceiling);
      }),
    );
  });
});

describe('parseSendArguments', () => {
  it('splits `/whatsapp send <number> <text>` into the recipient and the text', () => {
    expect(parseSendArguments(` ${NUMBER} ${TEXT}`)).toEqual({ recipient: NUMBER, text: TEXT });
  });

  it('keeps a multi-line text whole', () => {
    expect(parseSendArguments(`${NUMBER}\nLine one\nLine two`)).toEqual({
      recipient: NUMBER,
      text: 'Line one\nLine two',
    });
  });

  it('gives the recipient alone when there is no text', () => {
    expect(parseSendArguments(`  ${NUMBER}  `)).toEqual({ recipient: NUMBER, text: undefined });
  });

  it('takes everything as the text when it does not start with a number', () => {
    expect(parseSendArguments('Your order is ready')).toEqual({ text: 'Your order is ready' });
  });

  it('gives nothing to pre-fill for an empty command', () => {
    expect(parseSendArguments('   ')).toEqual({});
  });
});

describe('logging', () => {
  const TOKEN = 'xoxb-1234-5678-abcdef';

  it('scrub drops payloads quoted in a message and everything after them', () => {
    expect(scrub(`http response: {"text":"${TEXT}","channel":"C0SUP"}`)).toBe('http response: [payload omitted]');
    expect(scrub('blocks: [{"type":"section"}]')).toBe('blocks: [payload omitted]');
  });

  it('scrub masks Slack tokens and phone-number-like runs, and leaves plain words alone', () => {
    expect(scrub(`using ${TOKEN} and xapp-1-A0APP-123-abc`)).toBe('using xox?-[redacted] and xapp-[redacted]');
    expect(scrub('sent to +1 (415) 555-2671 today')).toBe('sent to [number] today');
    expect(scrub('apiCall(chat.update) start')).toBe('apiCall(chat.update) start');
  });

  it('createLogger redacts numbers, texts, tokens and authorization headers, top level and one level down', () => {
    const capture = createLogCapture();
    const logger = createLogger('debug', capture.stream);
    logger.info(
      {
        to: NUMBER,
        text: TEXT,
        token: TOKEN,
        headers: { authorization: 'Bearer waping-secret-key' },
        send: { to: NUMBER, text: TEXT, body: `{"to":"${NUMBER}"}`, sendKey: 'kept' },
        request: { headers: { authorization: 'Bearer waping-secret-key' } },
      },
      'sending',
    );
    const [line] = capture.lines();
    expect(line).toMatchObject({
      msg: 'sending',
      to: '[redacted]',
      text: '[redacted]',
      token: '[redacted]',
      headers: { authorization: '[redacted]' },
      send: { to: '[redacted]', text: '[redacted]', body: '[redacted]', sendKey: 'kept' },
      request: { headers: { authorization: '[redacted]' } },
    });
    for (const secret of [NUMBER, TEXT, TOKEN, 'waping-secret-key']) expect(capture.text()).not.toContain(secret);
  });

  it("drops the payloads Bolt's debug messages quote, keeping only their words", () => {
    const capture = createLogCapture();
    const bolt = boltLogger(createLogger('debug', capture.stream));
    bolt.debug(`http request body: {"channel":"C0SUP","text":"${TEXT} ${NUMBER}"}`, { token: TOKEN });
    const [line] = capture.lines();
    expect(line).toMatchObject({ component: 'bolt', msg: 'http request body: [payload omitted]' });
    expect(line).not.toHaveProperty('detail');
    for (const secret of [NUMBER, TEXT, TOKEN]) expect(capture.text()).not.toContain(secret);
  });

  it('scrub leaves IPv4 addresses alone, so a failed call still says where it went', () => {
    expect(scrub('connect ECONNREFUSED 127.0.0.1:9')).toBe('connect ECONNREFUSED 127.0.0.1:9');
    expect(scrub(`call to 10.0.12.7 about ${NUMBER}`)).toBe('call to 10.0.12.7 about [number]');
  });

  it("keeps the type and code of an error Bolt logs, with its message scrubbed, and nothing else of Bolt's objects", () => {
    const capture = createLogCapture();
    const bolt = boltLogger(createLogger('debug', capture.stream));
    const error = Object.assign(new Error(`refused for ${NUMBER}`), { code: 'slack_webapi_request_error' });
    bolt.error('An API error occurred', error, { channel: 'C0SUP', text: TEXT });
    const [line] = capture.lines();
    expect(line).toMatchObject({
      msg: 'An API error occurred',
      error: { name: 'Error', code: 'slack_webapi_request_error', message: 'refused for [number]' },
    });
    for (const secret of [NUMBER, TEXT]) expect(capture.text()).not.toContain(secret);
  });
});

/** Time that moves only when a test (or a backoff sleep) moves it, so nothing really waits. */
class ManualClock implements Clock {
  constructor(public at = Date.now()) {}
  now(): number {
    return this.at;
  }
  async sleep(ms: number): Promise<void> {
    this.at += ms;
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

const ACCEPTED: WapingSendResult = { ok: true, messageId: 'msg_1', status: 'queued' };
const UNAVAILABLE: WapingSendResult = {
  ok: false,
  retryable: true,
  code: 'HTTP_503',
  status: 503,
  message: 'WAPing failed on its side (HTTP 503)',
};

/** A WAPing that answers from a script, then with `fallback`, and remembers every attempt. */
class ScriptedWaping implements WapingPort {
  readonly attempts: Array<{ key: string; body: string; at: number }> = [];

  constructor(
    private readonly clock: Clock,
    private readonly script: WapingSendResult[] = [],
    private readonly fallback: WapingSendResult = ACCEPTED,
  ) {}

  answer(...results: WapingSendResult[]): void {
    this.script.push(...results);
  }

  textBody({ deviceId, to, text }: { deviceId: string; to: string; text: string }): string {
    return JSON.stringify({ deviceId, to, type: 'text', text: { body: text } });
  }

  async sendMessage(key: string, body: string): Promise<WapingSendResult> {
    this.attempts.push({ key, body, at: this.clock.now() });
    return this.script.shift() ?? this.fallback;
  }

  async listDevices(): Promise<Device[]> {
    return [];
  }
}

/** One call the core made to the Slack side. */
interface NotifierCall {
  method: string;
  /** The send's key and state, when the first argument was a send record. */
  key?: string;
  state?: string;
}

/**
 * The Slack side, recorded: every method of SendNotifier resolves, `announce…` methods with a fresh message ts.
 * A Proxy rather than a class so that the port can grow (groups, approvals) without this fake falling behind.
 */
function recordingNotifier(): { notifier: SendNotifier; calls: NotifierCall[] } {
  const calls: NotifierCall[] = [];
  let posted = 0;
  const notifier = new Proxy({} as SendNotifier, {
    get: (_target, method) => {
      if (typeof method !== 'string' || method === 'then') return undefined; // not a thenable
      return async (...args: unknown[]) => {
        const first = args[0] as Partial<SendRecord> | undefined;
        calls.push({ method, key: first?.key, state: first?.state });
        if (method.startsWith('announce')) {
          return { channel: 'C0SUPPORT', ts: `1700000000.${String(++posted).padStart(6, '0')}` } satisfies MessageRef;
        }
        return undefined;
      };
    },
  });
  return { notifier, calls };
}

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const policy: SendPolicy = {
  leaseMs: 10_000,
  attemptsPerRun: 3,
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  giveUpAfterMs: 60 * 60 * 1000,
};

let drafts = 0;
function draft(overrides: Partial<SendDraft> = {}): SendDraft {
  const viewId = `V0CORE${++drafts}`;
  return {
    key: idempotencyKeyForView('T0TEAM', viewId),
    teamId: 'T0TEAM',
    requestedBy: 'U0ALICE',
    channelId: 'C0SUPPORT',
    origin: { kind: 'view', viewId },
    deviceId: 'dev_support',
    deviceName: 'Support line',
    to: NUMBER,
    text: TEXT,
    ...overrides,
  };
}

describe('BackgroundWork', () => {
  it('starts named work once while it runs, and again once it has ended', async () => {
    const work = new BackgroundWork(quiet);
    let started = 0;
    let finish!: () => void;
    const job = () => {
      started++;
      return new Promise<void>((resolve) => {
        finish = resolve;
      });
    };
    work.runOnce('id-1', job, {}, 'failed');
    work.runOnce('id-1', job, {}, 'failed'); // the sweep finding it again while it runs
    expect(started).toBe(1);
    finish();
    await work.idle();
    work.runOnce('id-1', job, {}, 'failed');
    expect(started).toBe(2);
    finish();
    await work.idle();
  });
});

describe('SendService', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'waping-core-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  let store: Store;
  let clock: ManualClock;
  let waping: ScriptedWaping;
  let notifier: SendNotifier;
  let slackCalls: NotifierCall[];
  /** What sends told about their device's session, in order. */
  let sessions: Array<[string, boolean]>;

  /** One replica of the bot's send path; several share the store, the clock, WAPing and Slack. */
  function replica(instanceId: string): SendService {
    const sync = new MessageSync({ store, notifier, clock, logger: quiet, instanceId, lockMs: 60_000 });
    return new SendService({
      store,
      waping,
      notifier,
      sync,
      clock,
      logger: quiet,
      instanceId,
      policy,
      onDeviceSession: async (deviceId, connected) => {
        sessions.push([deviceId, connected]);
      },
    });
  }

  /** The outbox the recovery sweep reads; the service keeps it as this pending list of the store. */
  const outbox = () => store.pendingList('outbox:pending');

  beforeEach(async () => {
    store = await createStore({ url: 'memory://', dataDir });
    clock = new ManualClock();
    waping = new ScriptedWaping(clock);
    ({ notifier, calls: slackCalls } = recordingNotifier());
    sessions = [];
  });
  afterEach(async () => {
    await store.close();
  });

  it('claims a key once: a second request for it is reported as a duplicate and changes nothing', async () => {
    const a = replica('a');
    const first = await a.request(draft({ key: 'k-dup' }));
    clock.advance(5);
    const second = await a.request(draft({ key: 'k-dup', text: 'Something else' }));
    expect(first.accepted).toBe(true);
    expect(second).toMatchObject({ accepted: false, send: { text: TEXT, createdAt: first.send.createdAt } });
    expect(await outbox()).toEqual(['k-dup']);
  });

  /** `store`, noting the name of each call made to it. */
  function noting(backend: Store, names: string[]): Store {
    return new Proxy(backend, {
      get(target, property) {
        const member = Reflect.get(target, property);
        if (typeof member !== 'function') return member;
        return (...args: unknown[]) => {
          names.push(String(property));
          return member.apply(target, args);
        };
      },
    });
  }

  it("claims a form's single send, the form's claim and its outbox entry in one store call", async () => {
    const names: string[] = [];
    store = noting(store, names);
    const a = replica('a');
    await a.request(draft()); // the outbox's first use looks for a legacy array once
    names.length = 0;
    const asked = { to: [NUMBER], text: TEXT };
    const first = draft();
    const outcome = await a.requestForForm('T0TEAM', 'V0FORM', asked, first);
    expect(outcome).toMatchObject({ accepted: true, send: { key: first.key, text: TEXT, state: 'pending' } });
    expect(names).toEqual(['claimAll']);
    expect(await outbox()).toContain(first.key);
    expect(await a.get(first.key)).toMatchObject({ key: first.key, state: 'pending' });
    expect(await a.claimSubmission('T0TEAM', 'V0FORM', asked)).toBe('same');
  });

  it('refuses a resubmitted form asking for something else, and reports one asking the same as a duplicate', async () => {
    const a = replica('a');
    const asked = { to: [NUMBER], text: TEXT };
    const first = draft();
    const claimed = await a.requestForForm('T0TEAM', 'V0AGAIN', asked, first);
    expect(claimed).toMatchObject({ accepted: true, send: { createdAt: clock.now() } });
    clock.advance(5);
    const other = { ...first, text: 'Something else' };
    expect(await a.requestForForm('T0TEAM', 'V0AGAIN', { ...asked, text: other.text }, other)).toBe('different');
    const again = await a.requestForForm('T0TEAM', 'V0AGAIN', asked, { ...first });
    expect(again).toMatchObject({ accepted: false, send: { text: TEXT, createdAt: clock.now() - 5 } });
    expect(await outbox()).toEqual([first.key]);
  });

  it("sends a form whose claim alone was written (by an older version that crashed before the send's claim)", async () => {
    const a = replica('a');
    const asked = { to: [NUMBER], text: TEXT };
    expect(await a.claimSubmission('T0TEAM', 'V0HALF', asked)).toBe('new');
    const first = draft();
    expect(await a.requestForForm('T0TEAM', 'V0HALF', asked, first)).toMatchObject({ accepted: true });
    expect(await outbox()).toEqual([first.key]);
  });

  it("keeps the messages behind as a pending list, moving an older version's JSON array into it", async () => {
    await store.set('sync:behind', ['old-unit']);
    const sync = new MessageSync({ store, notifier, clock, logger: quiet, instanceId: 'a', lockMs: 60_000 });
    clock.advance(1);
    await sync.markBehind('new-unit');
    expect(await store.pendingList('sync:behind')).toEqual(['old-unit', 'new-unit']);
    expect(await store.get('sync:behind')).toEqual([]);
  });

  it('persists the exact request body before the first attempt and sends it with the key on success', async () => {
    const a = replica('a');
    const { send } = await a.request(draft());
    expect(send.body).toBe(waping.textBody({ deviceId: 'dev_support', to: NUMBER, text: TEXT }));
    const done = await a.deliver(send.key);
    expect(done).toMatchObject({ state: 'accepted', status: 'queued', messageId: 'msg_1', owner: '', attempts: 1 });
    expect(waping.attempts).toEqual([{ key: send.key, body: send.body, at: clock.now() }]);
    expect(await outbox()).toEqual([]);
    expect(await store.get('message:msg_1')).toBe(send.key);
    expect(slackCalls.filter((call) => call.method === 'announce')).toHaveLength(1);
    expect(sessions).toEqual([['dev_support', true]]);
  });

  it('defers a send WAPing keeps failing to the sweep after attemptsPerRun attempts, keeping it in the outbox', async () => {
    const a = replica('a');
    waping.answer(UNAVAILABLE, UNAVAILABLE, UNAVAILABLE);
    const { send } = await a.request(draft());
    const deferred = await a.deliver(send.key);

    expect(waping.attempts).toHaveLength(policy.attemptsPerRun);
    expect(new Set(waping.attempts.map(({ key, body }) => `${key} ${body}`))).toEqual(
      new Set([`${send.key} ${send.body}`]),
    );
    expect(deferred).toMatchObject({ state: 'pending', owner: '', attempts: 3, lastError: 'HTTP_503' });
    expect(deferred?.leaseUntil).toBeGreaterThan(clock.now());
    expect(await outbox()).toEqual([send.key]);
    // Slack shows that it is still being tried.
    expect(slackCalls.at(-1)).toMatchObject({ method: 'refresh', state: 'pending' });

    // Any replica takes it over once the backoff has passed, with the same key and body.
    const b = replica('b');
    expect(await b.resumeStale()).toBe(0);
    clock.advance(policy.maxDelayMs);
    expect(await b.resumeStale()).toBe(1);
    await b.idle();
    expect(await b.get(send.key)).toMatchObject({ state: 'accepted', attempts: 4 });
    expect(waping.attempts.at(-1)).toMatchObject({ key: send.key, body: send.body });
    expect(await outbox()).toEqual([]);
  });

  it('waits as long as Retry-After says before trying again', async () => {
    const a = replica('a');
    waping.answer({ ...UNAVAILABLE, code: 'RATE_LIMITED', status: 429, retryAfterMs: 800 });
    const { send } = await a.request(draft());
    expect(await a.deliver(send.key)).toMatchObject({ state: 'accepted' });
    const [first, second] = waping.attempts;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBe(800);
  });

  it('leaves a Retry-After longer than the longest backoff to the sweep, without holding the lease', async () => {
    const a = replica('a');
    waping.answer({ ...UNAVAILABLE, code: 'RATE_LIMITED', status: 429, retryAfterMs: 60_000 });
    const { send } = await a.request(draft());
    const deferred = await a.deliver(send.key);
    expect(waping.attempts).toHaveLength(1);
    expect(deferred).toMatchObject({ state: 'pending', owner: '', leaseUntil: clock.now() + 60_000 });
    expect(await replica('b').resumeStale()).toBe(0);
  });

  it('resumes only the pending sends whose lease ran out, leaving live leases to their owner', async () => {
    const a = replica('a');
    const stale = await a.request(draft());
    clock.advance(policy.leaseMs / 2);
    const live = await a.request(draft());
    clock.advance(policy.leaseMs / 2 + 1);

    const b = replica('b');
    expect(await b.resumeStale()).toBe(1);
    await b.idle();
    expect(waping.attempts.map((attempt) => attempt.key)).toEqual([stale.send.key]);
    expect(await b.get(stale.send.key)).toMatchObject({ state: 'accepted' });
    expect(await b.get(live.send.key)).toMatchObject({ state: 'pending', owner: 'a' });
    expect(await outbox()).toEqual([live.send.key]);
  });

  it('does nothing when a second replica delivers a send whose owner still holds a live lease', async () => {
    const a = replica('a');
    const { send } = await a.request(draft());
    const seenByB = await replica('b').deliver(send.key);
    expect(seenByB).toMatchObject({ state: 'pending', owner: 'a', attempts: 0 });
    expect(waping.attempts).toHaveLength(0);
    expect(slackCalls).toHaveLength(0);
    expect(await a.deliver(send.key)).toMatchObject({ state: 'accepted' });
    expect(waping.attempts).toHaveLength(1);
  });

  it('does nothing when asked to deliver a send that is already settled', async () => {
    const a = replica('a');
    const { send } = await a.request(draft());
    await a.deliver(send.key);
    expect(await replica('b').deliver(send.key)).toMatchObject({ state: 'accepted' });
    expect(waping.attempts).toHaveLength(1);
  });

  it('settles a send WAPing refuses for a dropped session as failed, in plain words, without retrying', async () => {
    const a = replica('a');
    waping.answer({
      ok: false,
      retryable: false,
      code: 'SESSION_DISCONNECTED',
      status: 422,
      message: "The device's WhatsApp session is disconnected",
    });
    const { send } = await a.request(draft());
    const failed = await a.deliver(send.key);
    expect(waping.attempts).toHaveLength(1);
    expect(failed).toMatchObject({ state: 'failed', owner: '', failure: { code: 'SESSION_DISCONNECTED' } });
    expect(failed?.failure?.reason).toMatch(/Support line.*disconnected.*re-link it by QR code.*Retry/);
    expect(failed?.failure?.reason).not.toMatch(/HTTP|422|Error/);
    expect(sessions).toEqual([['dev_support', false]]);
    expect(await outbox()).toEqual([]);
    expect(slackCalls.at(-1)).toMatchObject({ method: 'refresh', state: 'failed' });
  });

  it.each([
    ['VALIDATION', 400, /refused the message as invalid.*nothing was sent/],
    ['IDEMPOTENCY_CONFLICT', 409, /different message under this send id.*nothing was sent/],
    ['UNAUTHORIZED', 401, /WAPING_API_KEY/],
  ])('settles a %s refusal as failed at once, with a reason a person can act on', async (code, status, reason) => {
    const a = replica('a');
    waping.answer({ ok: false, retryable: false, code, status, message: 'refused' });
    const { send } = await a.request(draft());
    const failed = await a.deliver(send.key);
    expect(waping.attempts).toHaveLength(1);
    expect(failed).toMatchObject({ state: 'failed', failure: { code } });
    expect(failed?.failure?.reason).toMatch(reason);
    expect(sessions).toEqual([]);
  });

  it('marks a send failed, with Retry advice, once WAPing has not answered for the give-up time', async () => {
    const a = replica('a');
    waping.answer(UNAVAILABLE);
    const { send } = await a.request(draft());
    clock.advance(policy.giveUpAfterMs + 1);
    const failed = await a.deliver(send.key);
    expect(waping.attempts).toHaveLength(1);
    expect(failed).toMatchObject({ state: 'failed', failure: { code: 'UNREACHABLE' } });
    expect(failed?.failure?.reason).toMatch(/may not have been sent.*Press Retry/);
    expect(await outbox()).toEqual([]);
  });
});
