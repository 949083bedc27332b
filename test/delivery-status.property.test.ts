/**
 * Property tests of the delivery status policy: first `nextStatus` alone, against an oracle written from the policy
 * text, then the real DeliveryService and MessageSync over a real Store, fed random orders and redeliveries of
 * status webhooks for many messages at once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStore } from '../src/adapters/store/create-store.js';
import { type DeliveryEvent, DeliveryService } from '../src/core/deliveries.js';
import { nextStatus } from '../src/core/delivery-status.js';
import { MessageSync } from '../src/core/message-sync.js';
import type { Clock, Logger, SendNotifier, Store } from '../src/core/ports.js';
import { type DeliveryStatus, type SendRecord, sendKey } from '../src/core/send-record.js';
import { testRedisUrl, uniqueNamespace } from './support/redis.js';
import { latencies, slowed } from './support/slowed-store.js';

const STATUSES = ['queued', 'sent', 'delivered', 'read', 'failed'] as const satisfies readonly DeliveryStatus[];
const anyStatus = fc.constantFrom(...STATUSES);

/** The ranked statuses, lowest first, as the policy lists them. */
const RANKED: readonly DeliveryStatus[] = ['queued', 'sent', 'delivered', 'read'];
const rank = (status: DeliveryStatus): number => RANKED.indexOf(status);
const highest = (statuses: DeliveryStatus[]): DeliveryStatus | undefined =>
  statuses.reduce<DeliveryStatus | undefined>(
    (best, status) => (best === undefined || rank(status) > rank(best) ? status : best),
    undefined,
  );

/**
 * Where a message ends up once every one of `reported` has arrived, in whatever order: proof of delivery (delivered,
 * read) beats everything, a failure beats queued/sent, and otherwise the furthest of queued/sent.
 */
function oracle(reported: Iterable<DeliveryStatus>): DeliveryStatus | undefined {
  const seen = new Set(reported);
  const proof = [...seen].filter((status) => status === 'delivered' || status === 'read');
  if (proof.length > 0) return highest(proof);
  if (seen.has('failed')) return 'failed';
  return highest([...seen].filter((status) => status === 'queued' || status === 'sent'));
}

/** Fold `nextStatus` over `reported` from `start`; returns the final status and the statuses it changed to. */
function fold(reported: DeliveryStatus[], start?: DeliveryStatus) {
  let current = start;
  const steps: DeliveryStatus[] = [];
  for (const status of reported) {
    const next = nextStatus(current, status);
    if (next === undefined) continue;
    steps.push(next);
    current = next;
  }
  return { final: current, steps };
}

/** The invariants every sequence of forward steps keeps, whatever order the statuses arrived in. */
function expectForwardSteps(steps: DeliveryStatus[], final: DeliveryStatus | undefined): void {
  expect(new Set(steps).size).toBe(steps.length);
  const ranked = steps.filter((status) => status !== 'failed').map(rank);
  for (let i = 1; i < ranked.length; i++) expect(ranked[i]).toBeGreaterThan(ranked[i - 1] as number);
  const failedAt = steps.indexOf('failed');
  if (failedAt >= 0) {
    expect(steps.slice(0, failedAt)).not.toContain('delivered');
    expect(steps.slice(0, failedAt)).not.toContain('read');
  }
  expect(steps.at(-1)).toBe(final);
}

describe('the delivery status policy', () => {
  it('ends on the status the policy names, whatever order the statuses arrive in', () => {
    fc.assert(
      fc.property(fc.array(anyStatus, { maxLength: 20 }), (reported) => {
        expect(fold(reported).final).toBe(oracle(reported));
      }),
      { numRuns: 2000 },
    );
  });

  it('ends on the same status for every permutation of the same statuses', () => {
    fc.assert(
      fc.property(
        fc
          .array(anyStatus, { maxLength: 12 })
          .chain((reported) =>
            fc.tuple(
              fc.constant(reported),
              fc.shuffledSubarray(reported, { minLength: reported.length, maxLength: reported.length }),
            ),
          ),
        ([reported, shuffled]) => {
          expect(fold(shuffled).final).toBe(fold(reported).final);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('only ever steps forward: no status twice, ranked steps rising, no failure after proof of delivery', () => {
    fc.assert(
      fc.property(fc.array(anyStatus, { maxLength: 20 }), (reported) => {
        const { final, steps } = fold(reported);
        expectForwardSteps(steps, final);
      }),
      { numRuns: 2000 },
    );
  });

  it('follows the policy from a message WAPing already queued', () => {
    fc.assert(
      fc.property(fc.array(anyStatus, { maxLength: 20 }), (reported) => {
        const { final, steps } = fold(reported, 'queued');
        expect(final).toBe(oracle(['queued', ...reported]));
        expectForwardSteps(['queued', ...steps], final);
      }),
      { numRuns: 2000 },
    );
  });

  it('treats an empty history as no status at all', () => {
    expect(fold([])).toEqual({ final: undefined, steps: [] });
    expect(oracle([])).toBeUndefined();
  });
});

/** One status webhook WAPing reports, and the order keys of its deliveries (one per copy: 1 to 3 copies). */
interface Reported {
  message: number;
  status: DeliveryStatus;
  withError: boolean;
  copies: number[];
}

interface Scenario {
  messages: number;
  reported: Reported[];
  /** How many deliveries are in flight at once. */
  concurrency: number;
  /** Event-loop turns before each delivery arrives, used in turn: spreads a group's arrivals. */
  arrivals: number[];
  /** Event-loop turns each Slack call (and each apply after its record) takes, used in turn. */
  latency: number[];
  /** Likewise for each store call. */
  storeLatency: number[];
}

const scenario = (maxEvents: number): fc.Arbitrary<Scenario> =>
  fc.record({
    messages: fc.integer({ min: 1, max: 8 }),
    reported: fc.array(
      fc.record({
        message: fc.nat(7),
        status: anyStatus,
        withError: fc.boolean(),
        copies: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
      }),
      { maxLength: maxEvents },
    ),
    concurrency: fc.integer({ min: 1, max: 6 }),
    arrivals: fc.array(fc.nat(40), { minLength: 1, maxLength: 8 }),
    latency: fc.array(fc.nat(4), { minLength: 1, maxLength: 8 }),
    storeLatency: fc.array(fc.nat(2), { minLength: 1, maxLength: 8 }),
  });

const NOW = 1_700_000_000_000;
const clock: Clock = { now: () => NOW, sleep: async () => {} };
const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A SendNotifier that keeps each send's thread, and what its parent message last showed. */
class RecordingNotifier implements SendNotifier {
  readonly threads = new Map<string, DeliveryStatus[]>();
  readonly lastRefresh = new Map<string, DeliveryStatus | undefined>();

  constructor(private readonly latency: () => Promise<void>) {}

  async announce(send: SendRecord) {
    return { channel: 'C1', ts: `announced.${send.key}` };
  }
  async refresh(send: SendRecord) {
    await this.latency();
    this.lastRefresh.set(send.key, send.status);
  }
  async reply(send: SendRecord, status: DeliveryStatus) {
    await this.latency();
    this.threads.set(send.key, [...(this.threads.get(send.key) ?? []), status]);
  }
  async announceGroup() {
    return undefined;
  }
  async refreshGroup() {}
  async replyInThread() {}
  async alertOps() {}
  async tell() {}
}

const keyOf = (i: number) => `key_${i}`;

/** A send WAPing has accepted and queued, as SendService.request then finish leave it. */
function acceptedSend(i: number): SendRecord {
  return {
    key: keyOf(i),
    teamId: 'T1',
    requestedBy: 'U1',
    channelId: 'C1',
    origin: { kind: 'view', viewId: `V${i}` },
    generation: 0,
    deviceId: 'dev_1',
    deviceName: 'Support',
    to: '+14155552671',
    text: `message ${i}`,
    body: JSON.stringify({ deviceId: 'dev_1', to: '+14155552671', text: `message ${i}` }),
    state: 'accepted',
    status: 'queued',
    messageId: `msg_${i}`,
    attempts: 1,
    parent: { channel: 'C1', ts: `1.${i}` },
    leaseUntil: 0,
    owner: '',
    createdAt: NOW,
    updatedAt: NOW,
    timeline: [{ status: 'queued', at: NOW }],
    replies: [],
    appliedEvents: [],
    version: 1,
    renderedVersion: 1,
  };
}

const webhookIdOf = (j: number) => `wh_${j}`;

function eventOf(scenario: Scenario, j: number): DeliveryEvent {
  const reported = scenario.reported[j] as Reported;
  return {
    kind: 'message',
    messageId: `msg_${reported.message % scenario.messages}`,
    status: reported.status,
    at: NOW + 1000 * (j + 1),
    ...(reported.status === 'failed' && reported.withError
      ? { error: { code: 'RECIPIENT_UNREACHABLE', message: 'the phone is off' } }
      : {}),
  };
}

/** Every delivery of every webhook, in the order their keys put them (ties broken by webhook, then copy). */
function deliveriesOf(scenario: Scenario): number[] {
  const deliveries = scenario.reported.flatMap((r, j) => r.copies.map((order, copy) => ({ j, order, copy })));
  deliveries.sort((a, b) => a.order - b.order || a.j - b.j || a.copy - b.copy);
  return deliveries.map((d) => d.j);
}

/** Run one scenario against a fresh store: seed the sends, deliver every webhook, then check each message. */
async function check(fast: Store, scenario: Scenario): Promise<void> {
  const store = slowed(fast, latencies(scenario.storeLatency));
  const notifier = new RecordingNotifier(latencies(scenario.latency));
  const arrival = latencies(scenario.arrivals);
  const pause = latencies([...scenario.latency].reverse());
  const sync = new MessageSync({ store, notifier, clock, logger: quiet, instanceId: 'bot-1', lockMs: 60_000 });
  const deliveries = new DeliveryService({
    store,
    sync,
    health: { report: async () => true },
    clock,
    logger: quiet,
    replyMode: () => 'all',
  });
  for (let i = 0; i < scenario.messages; i++) {
    await store.set(sendKey(keyOf(i)), acceptedSend(i));
    await store.set(`message:msg_${i}`, keyOf(i));
  }

  // As the webhook route does: record (the 2xx), then apply; a few deliveries in flight at once.
  const outcomes = new Map<string, string[]>();
  const order = deliveriesOf(scenario);
  for (let start = 0; start < order.length; start += scenario.concurrency) {
    await Promise.all(
      order.slice(start, start + scenario.concurrency).map(async (j) => {
        const id = webhookIdOf(j);
        await arrival();
        const outcome = await deliveries.record(id, eventOf(scenario, j));
        outcomes.set(id, [...(outcomes.get(id) ?? []), outcome]);
        await pause();
        await deliveries.apply(id);
      }),
    );
  }

  for (const [j, reported] of scenario.reported.entries()) {
    const recorded = outcomes.get(webhookIdOf(j)) ?? [];
    expect(recorded).toHaveLength(reported.copies.length);
    expect(recorded.filter((outcome) => outcome === 'recorded')).toHaveLength(1);
  }
  expect(await store.pendingList('webhooks:inbox')).toEqual([]);
  expect(await store.pendingList('sync:behind')).toEqual([]);

  for (let i = 0; i < scenario.messages; i++) {
    const ids = scenario.reported.flatMap((r, j) => (r.message % scenario.messages === i ? [j] : []));
    const statuses = ids.map((j) => (scenario.reported[j] as Reported).status);
    const send = (await store.get<SendRecord>(sendKey(keyOf(i)))) as SendRecord;
    const final = oracle(['queued', ...statuses]);

    expect(send.status, `message ${i} after ${statuses.join(', ')}`).toBe(final);
    expect(send.timeline[0]).toEqual({ status: 'queued', at: NOW });
    const steps = send.timeline.slice(1).map((entry) => entry.status);
    expectForwardSteps(['queued', ...steps], final);

    // One reply per forward step, each posted once, in the order the record owes them.
    const thread = notifier.threads.get(keyOf(i)) ?? [];
    expect(send.replies).toEqual(send.timeline.slice(1).map((entry) => ({ ...entry, posted: true })));
    expect(thread, `thread of message ${i} after ${statuses.join(', ')}`).toEqual(steps);

    // The parent message shows the final status, and has caught up with the record.
    expect(notifier.lastRefresh.get(keyOf(i))).toBe(steps.length > 0 ? final : undefined);
    expect(send.renderedVersion).toBe(send.version);
    expect(send.version).toBe(1 + steps.length);

    // A failure carries its reason; proof of delivery clears it.
    if (final === 'failed') expect(send.deliveryFailure?.reason).toMatch(/WhatsApp could not deliver/);
    else expect(send.deliveryFailure).toBeUndefined();

    // Every webhook counted once, however many times it came.
    expect([...send.appliedEvents].sort()).toEqual(ids.map(webhookIdOf).sort());
  }
}

describe('status webhooks on the memory store', () => {
  it('leave each message on the policy status with one thread reply per forward step, in any order', async () => {
    await fc.assert(
      fc.asyncProperty(scenario(40), async (s) => {
        // The memory store never touches its data directory.
        const store = await createStore({ url: 'memory://', dataDir: '/nonexistent' });
        try {
          await check(store, s);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('status webhooks on the Redis store', () => {
  it('leave each message on the policy status with one thread reply per forward step, in any order', async () => {
    await fc.assert(
      fc.asyncProperty(scenario(40), async (s) => {
        const store = await createStore({
          url: testRedisUrl(),
          dataDir: '/nonexistent',
          namespace: uniqueNamespace('delivery-status'),
        });
        try {
          await check(store, s);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});
