import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendFailureWords } from '../../src/adapters/slack/wording/send-failures.js';
import { createStore } from '../../src/adapters/store/create-store.js';
import { keyForOrigin } from '../../src/core/idempotency.js';
import type { Store } from '../../src/core/ports.js';
import type { SendRecord } from '../../src/core/send-record.js';
import type { SendDraft, SendService } from '../../src/core/sends.js';
import type { Services } from '../../src/wiring/services.js';
import { FakeWaping, WAPING_RESULTS } from '../support/fake-waping.js';
import { ManualClock, type NotifierCall, RecordingNotifier, SHORT_SEND_POLICY } from '../support/fakes.js';
import { wireTestServices } from '../support/services.js';

const NUMBER = '+14155552671';
const TEXT = 'Your order is ready';

const UNAVAILABLE = WAPING_RESULTS.unavailable;

const policy = SHORT_SEND_POLICY;

let drafts = 0;
function draft(overrides: Partial<SendDraft> = {}): SendDraft {
  const viewId = `V0CORE${++drafts}`;
  return {
    key: keyForOrigin('T0TEAM', viewId),
    teamId: 'T0TEAM',
    requestedBy: 'U0ALICE',
    channelId: 'C0SUPPORT',
    origin: { kind: 'form', originId: viewId },
    deviceId: 'dev_support',
    deviceName: 'Support line',
    to: NUMBER,
    text: TEXT,
    ...overrides,
  };
}

describe('SendService', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'waping-core-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  let store: Store;
  let clock: ManualClock;
  let waping: FakeWaping;
  let notifier: RecordingNotifier;
  let slackCalls: NotifierCall[];
  /** What sends told about their device's session, in order. */
  let sessions: Array<[string, boolean]>;

  /** One replica of the bot's send path, wired as the bot wires it; several share the store, the clock, WAPing and Slack. */
  /** Every replica wired in this test, to wait for their background work. */
  let wired: Services[] = [];
  const idleAll = async () => {
    for (const services of wired) await services.idle();
  };

  function replica(instanceId: string): SendService {
    const services = wireTestServices({ store, waping, notifier, clock, instanceId, sendPolicy: policy });
    wired.push(services);
    const { sends, health } = services;
    // What the send path tells the device tracker: a send went through, or WAPing refused it for the session.
    const sawWorking = health.sawWorking.bind(health);
    const report = health.report.bind(health);
    health.sawWorking = async (deviceId) => {
      sessions.push([deviceId, true]);
      await sawWorking(deviceId);
    };
    health.report = async (deviceId, state) => {
      if (state.source === 'send' && !state.connected) sessions.push([deviceId, false]);
      return report(deviceId, state);
    };
    return sends;
  }

  /** The outbox the recovery sweep reads; the service keeps it as this pending list of the store. */
  const outbox = () => store.pendingList('outbox:pending');

  beforeEach(async () => {
    wired = [];
    store = await createStore({ url: 'memory://', dataDir });
    clock = new ManualClock();
    waping = new FakeWaping({ clock });
    notifier = new RecordingNotifier();
    slackCalls = notifier.calls;
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
    await idleAll();
    expect(await b.get(send.key)).toMatchObject({ state: 'accepted', attempts: 4 });
    expect(waping.attempts.at(-1)).toMatchObject({ key: send.key, body: send.body });
    expect(await outbox()).toEqual([]);
  });

  it('waits as long as Retry-After says before trying again', async () => {
    const a = replica('a');
    waping.answer(WAPING_RESULTS.rateLimited(800));
    const { send } = await a.request(draft());
    expect(await a.deliver(send.key)).toMatchObject({ state: 'accepted' });
    const [first, second] = waping.attempts;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBe(800);
  });

  it('leaves a Retry-After longer than the longest backoff to the sweep, without holding the lease', async () => {
    const a = replica('a');
    waping.answer(WAPING_RESULTS.rateLimited(60_000));
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
    await idleAll();
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
    waping.answer(WAPING_RESULTS.sessionDisconnected);
    const { send } = await a.request(draft());
    const failed = await a.deliver(send.key);
    expect(waping.attempts).toHaveLength(1);
    expect(failed).toMatchObject({ state: 'failed', owner: '', failure: { code: 'SESSION_DISCONNECTED' } });
    expect(failureWords(failed)).toMatch(/Support line.*disconnected.*re-link it by QR code.*Retry/);
    expect(failureWords(failed)).not.toMatch(/HTTP|422|Error/);
    expect(sessions).toEqual([['dev_support', false]]);
    expect(await outbox()).toEqual([]);
    expect(slackCalls.at(-1)).toMatchObject({ method: 'refresh', state: 'failed' });
  });

  it.each([
    ['VALIDATION', WAPING_RESULTS.validation, /refused the message as invalid.*nothing was sent/],
    [
      'IDEMPOTENCY_CONFLICT',
      WAPING_RESULTS.idempotencyConflict,
      /different message under this send id.*nothing was sent/,
    ],
    ['UNAUTHORIZED', WAPING_RESULTS.unauthorized, /WAPING_API_KEY/],
  ])('settles a %s refusal as failed at once, with a reason a person can act on', async (code, result, reason) => {
    const a = replica('a');
    waping.answer(result);
    const { send } = await a.request(draft());
    const failed = await a.deliver(send.key);
    expect(waping.attempts).toHaveLength(1);
    expect(failed).toMatchObject({ state: 'failed', failure: { code } });
    expect(failureWords(failed)).toMatch(reason);
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
    expect(failureWords(failed)).toMatch(/may not have been sent.*Press Retry/);
    expect(await outbox()).toEqual([]);
  });
});

/** What the person reads about a failed send: the stored failure, in the Slack adapter's words. */
function failureWords(send: SendRecord | undefined): string | undefined {
  return send?.failure && sendFailureWords(send.failure, send.deviceName);
}
