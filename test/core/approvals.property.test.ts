/**
 * Property tests of team-send approvals: the real ApprovalService, SendService and MessageSync of two replicas over
 * one real Store, fed random interleavings of approve, reject, cancel and expiry (the clock moving on, the sweep)
 * from random users. Run one action at a time, the outcome must be the one an oracle written from the rules names:
 * the first valid decisive action wins. Run a few at a time on both replicas, whatever the order: one decisive
 * decision, and each recipient sent to once, only when approved.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/adapters/store/create-store.js';
import type { UserGroupDirectory } from '../../src/core/access.js';
import type { Clock, Store } from '../../src/core/ports.js';
import type { ApprovalDecision, ApprovalRule, ApprovalState, SendGroup } from '../../src/core/send-group.js';
import { groupIdForOrigin, idempotencyKeyForGroupRecipient } from '../../src/core/send-groups.js';
import { type SendRecord, sendKey } from '../../src/core/send-record.js';
import { defaultSendPolicy } from '../../src/core/sends.js';
import type { Services } from '../../src/wiring/services.js';
import { FakeWaping } from '../support/fake-waping.js';
import { quietLogger, RecordingNotifier } from '../support/fakes.js';
import { testRedisUrl, uniqueNamespace } from '../support/redis.js';
import { wireTestServices } from '../support/services.js';
import { latencies, slowed } from '../support/slowed-store.js';

const T0 = 1_700_000_000_000;
const EXPIRES_AFTER_MS = 1000;
const TEAM = 'T1';
const REQUESTER = 'U0REQ';
const GROUP_ID = groupIdForOrigin(TEAM, 'V1');
const USER_GROUP = 'S0GRP';
/** Who is in the user group that may be listed among the approvers. */
const GROUP_MEMBERS = ['U0D'];
const PHONES = ['+14155552671', '+14155552672', '+14155552673', '+14155552674'];
/** Everyone who clicks: the requester, the approvers that may be listed, the user group's member, and a bystander. */
const USERS = [REQUESTER, 'U0A', 'U0B', 'U0C', 'U0D', 'U0X'];

type Action =
  | { kind: 'decide'; user: string; decision: 'approve' | 'reject'; replica: number }
  | { kind: 'cancel'; user: string; replica: number }
  /** The clock moves on by `ms`; with `sweep`, that replica's expiry sweep runs right after. */
  | { kind: 'tick'; ms: number; sweep: boolean; replica: number };

interface Scenario {
  rule: ApprovalRule;
  recipients: string[];
  actions: Action[];
  /** How many actions run at once, used in turn (the concurrent property only). */
  chunks: number[];
  /** Event-loop turns before each store call, used in turn (the concurrent property only). */
  storeLatency: number[];
}

/** Users the rule lets approve, the requester included when listed: the oracle's own reading of the rule. */
function listedApprovers(rule: ApprovalRule): Set<string> {
  const users = rule.approvers.filter((approver) => approver.startsWith('U'));
  if (rule.approvers.includes(USER_GROUP)) users.push(...GROUP_MEMBERS);
  return new Set(users);
}

/** Whether `user` may approve or reject: listed (directly or through the user group), and not the requester. */
const mayDecide = (rule: ApprovalRule, user: string): boolean => user !== REQUESTER && listedApprovers(rule).has(user);

const anyRule: fc.Arbitrary<ApprovalRule> = fc
  .record({
    approvers: fc.subarray(['U0A', 'U0B', 'U0C', USER_GROUP], { minLength: 1 }),
    // The requester listed as an approver too: they still never count.
    requesterListed: fc.boolean(),
    min: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ approvers, requesterListed, min }) => {
    const rule = { approvers: requesterListed ? [...approvers, REQUESTER] : approvers, minApprovals: 1 };
    const possible = [...listedApprovers(rule)].filter((user) => user !== REQUESTER).length;
    return { ...rule, minApprovals: Math.min(min, possible) };
  });

const anyReplica = fc.integer({ min: 0, max: 1 });
const anyUser = fc.constantFrom(...USERS);

const anyAction: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('decide' as const),
      user: anyUser,
      decision: fc.constant('approve' as const),
      replica: anyReplica,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('decide' as const),
      user: anyUser,
      decision: fc.constant('reject' as const),
      replica: anyReplica,
    }),
  },
  {
    weight: 1,
    // Mostly the requester, who alone may cancel.
    arbitrary: fc.record({
      kind: fc.constant('cancel' as const),
      user: fc.oneof(fc.constant(REQUESTER), anyUser),
      replica: anyReplica,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('tick' as const),
      ms: fc.integer({ min: 0, max: 600 }),
      sweep: fc.boolean(),
      replica: anyReplica,
    }),
  },
);

const anyScenario: fc.Arbitrary<Scenario> = fc.record({
  rule: anyRule,
  recipients: fc.shuffledSubarray(PHONES, { minLength: 1 }),
  actions: fc.array(anyAction, { minLength: 2, maxLength: 20, size: 'medium' }),
  chunks: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }),
  storeLatency: fc.array(fc.nat(3), { minLength: 1, maxLength: 8 }),
});

/** What one action came to: decide and cancel say whether they were accepted, a sweep how much it changed. */
type Outcome = boolean | number | null;

interface Expected {
  state: ApprovalState;
  decisions: ApprovalDecision[];
  outcomes: Outcome[];
}

/**
 * The rules, applied to the actions in order. A request is decided by the first of: an approve that brings the
 * distinct approvers (never the requester, never someone the rule does not list, the same person once) to
 * `minApprovals`; a reject by an approver; a cancel by the requester; its deadline. Once the clock has reached the
 * deadline, whatever looks at the request (the sweep, an approver's click, the requester's cancel) finds it expired,
 * and the expiry is recorded then. Nothing changes a decided request.
 */
function oracle(scenario: Scenario): Expected {
  const { rule, actions } = scenario;
  let now = T0;
  const expiresAt = T0 + EXPIRES_AFTER_MS;
  let state: ApprovalState = 'pending';
  const decisions: ApprovalDecision[] = [];
  const outcomes: Outcome[] = [];
  const approvedBy = new Set<string>();
  const expireIfDue = (): boolean => {
    if (state !== 'pending' || now < expiresAt) return false;
    state = 'expired';
    decisions.push({ userId: 'system', decision: 'expire', at: now });
    return true;
  };
  for (const action of actions) {
    if (action.kind === 'tick') {
      now += action.ms;
      outcomes.push(action.sweep ? (expireIfDue() ? 1 : 0) : null);
    } else if (action.kind === 'cancel') {
      if (state !== 'pending' || action.user !== REQUESTER || expireIfDue()) {
        outcomes.push(false);
        continue;
      }
      state = 'cancelled';
      decisions.push({ userId: action.user, decision: 'cancel', at: now });
      outcomes.push(true);
    } else {
      const { user, decision } = action;
      if (state !== 'pending' || !mayDecide(rule, user) || expireIfDue()) {
        outcomes.push(false);
        continue;
      }
      if (decision === 'approve' && approvedBy.has(user)) {
        outcomes.push(false);
        continue;
      }
      decisions.push({ userId: user, decision, at: now });
      outcomes.push(true);
      if (decision === 'reject') {
        state = 'rejected';
      } else {
        approvedBy.add(user);
        if (approvedBy.size >= rule.minApprovals) state = 'approved';
      }
    }
  }
  return { state, decisions, outcomes };
}

/** One replica's core services, wired as the bot wires them. */
type Replica = Services;

interface Harness {
  replicas: Replica[];
  store: Store;
  waping: FakeWaping;
  notifier: RecordingNotifier;
  time: { now: number };
  errors: unknown[];
}

/** Two replicas of the bot, each over its own handle on the same store, sharing WAPing, Slack and the clock. */
function wire(stores: readonly Store[]): Harness {
  const time = { now: T0 };
  const clock: Clock = { now: () => time.now, sleep: async () => {} };
  const errors: unknown[] = [];
  const logger = quietLogger(errors);
  const waping = new FakeWaping({ devices: [{ id: 'dev_1', name: 'Support', status: 'connected' }] });
  const notifier = new RecordingNotifier();
  const userGroups: UserGroupDirectory = {
    membersOf: async (id) => (id === USER_GROUP ? GROUP_MEMBERS : []),
  };
  const replicas = stores.map((store, i) =>
    wireTestServices({
      store,
      waping,
      notifier,
      clock,
      logger,
      userGroups,
      instanceId: `bot-${i + 1}`,
      sendPolicy: defaultSendPolicy,
    }),
  );
  return { replicas, store: stores[0] as Store, waping, notifier, time, errors };
}

function replicaOf(h: Harness, action: Action): Replica {
  return h.replicas[action.replica % h.replicas.length] as Replica;
}

/** Claim the group for the request and post its message, as the modal submission does. */
async function request(h: Harness, scenario: Scenario): Promise<void> {
  const replica = h.replicas[0] as Replica;
  const { accepted } = await replica.sendGroups.create(
    {
      id: GROUP_ID,
      teamId: TEAM,
      requestedBy: REQUESTER,
      channelId: 'C1',
      deviceId: 'dev_1',
      deviceName: 'Support',
      text: 'Hello from the team',
      recipients: scenario.recipients,
    },
    scenario.rule,
    EXPIRES_AFTER_MS,
  );
  expect(accepted).toBe(true);
  await replica.sendGroups.start(GROUP_ID);
}

async function perform(h: Harness, action: Action): Promise<Outcome> {
  const { approvals, sendGroups } = replicaOf(h, action);
  switch (action.kind) {
    case 'decide':
      return (await approvals.decide(GROUP_ID, action.user, action.decision)).ok;
    case 'cancel':
      return (await approvals.cancel(GROUP_ID, action.user)).ok;
    case 'tick':
      h.time.now += action.ms;
      // The sweep expires requests due, then moves the groups' lifecycle on (none to move in these runs).
      return action.sweep ? (await approvals.sweep()) + (await sendGroups.sweep()) : null;
  }
}

/** Wait until no replica has work in the background (deliveries, Slack syncs). */
async function settle(h: Harness): Promise<void> {
  for (const replica of h.replicas) await replica.idle();
}

/** The recipients' keys as the rules derive them: one per group and recipient. */
const keysOf = (scenario: Scenario): string[] =>
  scenario.recipients.map((to) => idempotencyKeyForGroupRecipient(TEAM, GROUP_ID, to));

/** The line a decision posts in the request's thread. */
function threadLine(decision: ApprovalDecision): string {
  const who = decision.userId === 'system' ? 'The request' : `<@${decision.userId}>`;
  const verb = { approve: 'approved', reject: 'rejected', cancel: 'cancelled', expire: 'expired' }[decision.decision];
  return `${who} ${verb}`;
}

/** Checks every run shares: sends iff approved, once per recipient, and Slack caught up with the outcome. */
async function expectSendsMatch(h: Harness, scenario: Scenario, group: SendGroup): Promise<void> {
  const approved = group.approval?.state === 'approved';
  const keys = keysOf(scenario);
  const calls = h.waping.callsPerKey();
  const unknown = [...calls.keys()].filter((key) => !keys.includes(key));
  expect(unknown, 'WAPing calls under keys of no recipient').toEqual([]);
  for (const key of keys) {
    expect(calls.get(key) ?? 0, `WAPing calls for one recipient (${group.approval?.state})`).toBe(approved ? 1 : 0);
    const send = await h.store.get<SendRecord>(sendKey(key));
    if (approved) expect(send?.state).toBe('accepted');
    else expect(send).toBeUndefined();
  }
  expect(group.launched).toBe(approved);
  expect(await h.store.pendingList('groups:pending')).toEqual(group.approval?.state === 'pending' ? [GROUP_ID] : []);
  // Two launches racing (the sweep's and the approver's) may leave a finished send's key in the outbox; the
  // recovery sweep drops it and resumes nothing.
  expect(await (h.replicas[0] as Replica).sends.resumeStale()).toBe(0);
  expect(await h.store.pendingList('outbox:pending')).toEqual([]);
  // Changes mark their message behind before they are tried (a refused decision leaves a mark behind it); the
  // sweep's catch-up clears every mark.
  for (const replica of h.replicas) await replica.sync.resumeBehind();
  await settle(h);
  expect(await h.store.pendingList('sync:behind')).toEqual([]);
  expect(group.renderedVersion).toBe(group.version);
  // The message was posted pending, and re-rendered after every decision since.
  expect(h.notifier.lastGroup?.approval?.state ?? 'pending').toBe(group.approval?.state);
  expect(h.errors).toEqual([]);
}

/** One action at a time, on either replica: the outcome, every decision and every answer are the oracle's. */
async function checkSequential(stores: readonly Store[], scenario: Scenario): Promise<void> {
  const h = wire(stores);
  await request(h, scenario);
  const outcomes: Outcome[] = [];
  // One at a time: each action's follow-up (run after Slack's answer, in the background) ends before the next.
  for (const action of scenario.actions) {
    outcomes.push(await perform(h, action));
    await settle(h);
  }

  const group = (await h.store.get<SendGroup>(`group:${GROUP_ID}`)) as SendGroup;
  const expected = oracle(scenario);
  expect({ state: group.approval?.state, decisions: group.approval?.decisions, outcomes }).toEqual(expected);
  expect(group.approval?.decidedAt).toBe(expected.state === 'pending' ? undefined : expected.decisions.at(-1)?.at);
  await expectSendsMatch(h, scenario, group);

  expect(h.notifier.threadLines).toEqual(expected.decisions.map(threadLine));
  const toldRequester = expected.state === 'rejected' || expected.state === 'expired' ? 1 : 0;
  expect(h.notifier.told.filter((t) => t.userId === REQUESTER)).toHaveLength(toldRequester);
  expect(h.notifier.told).toHaveLength(toldRequester);
}

/** Claim and post the request, then run its actions a chunk at a time, each chunk's actions all at once. */
async function runConcurrently(h: Harness, scenario: Scenario): Promise<void> {
  await request(h, scenario);
  let at = 0;
  for (let chunk = 0; at < scenario.actions.length; chunk++) {
    const size = scenario.chunks[chunk % scenario.chunks.length] ?? 1;
    await Promise.all(scenario.actions.slice(at, at + size).map((action) => perform(h, action)));
    at += size;
  }
  await settle(h);
}

/** The state a decisive decision leads to. */
const DECIDES: Record<ApprovalDecision['decision'], ApprovalState> = {
  approve: 'approved',
  reject: 'rejected',
  cancel: 'cancelled',
  expire: 'expired',
};

/** A few actions at once, spread over both replicas: the invariants that hold whatever order they land in. */
async function checkConcurrent(stores: readonly Store[], scenario: Scenario): Promise<void> {
  const h = wire(stores.map((store) => slowed(store, latencies(scenario.storeLatency))));
  await runConcurrently(h, scenario);

  const group = (await h.store.get<SendGroup>(`group:${GROUP_ID}`)) as SendGroup;
  const approval = group.approval;
  if (!approval) throw new Error('the group lost its approval');
  const { rule, decisions, state } = approval;

  // Only valid decisions were recorded: approvers approve (once each) or reject, the requester cancels, the
  // system expires once the deadline has come.
  const approvals = decisions.filter((d) => d.decision === 'approve');
  expect(new Set(approvals.map((d) => d.userId)).size, 'someone approved twice').toBe(approvals.length);
  for (const d of decisions) {
    if (d.decision === 'approve' || d.decision === 'reject') expect(mayDecide(rule, d.userId), d.userId).toBe(true);
    if (d.decision === 'cancel') expect(d.userId).toBe(REQUESTER);
    if (d.decision === 'expire') {
      expect(d.userId).toBe('system');
      expect(d.at).toBeGreaterThanOrEqual(approval.expiresAt);
    }
  }

  // Exactly one decisive decision once decided, and it is the last: reject, cancel, expire, or the approve that
  // brought the distinct approvers to minApprovals.
  const decisive = decisions.filter((d) => d.decision !== 'approve');
  if (approvals.length >= rule.minApprovals) decisive.push(approvals[rule.minApprovals - 1] as ApprovalDecision);
  expect(approvals.length).toBeLessThanOrEqual(rule.minApprovals);
  if (state === 'pending') {
    expect(decisive).toEqual([]);
    expect(approval.decidedAt).toBeUndefined();
  } else {
    expect(decisive).toHaveLength(1);
    const [winner] = decisive as [ApprovalDecision];
    expect(decisions.at(-1)).toBe(winner);
    expect(DECIDES[winner.decision]).toBe(state);
    expect(approval.decidedAt).toBe(winner.at);
  }

  await expectSendsMatch(h, scenario, group);
}

/** Every decision is told once in the thread, however many replicas saw it; the requester hears of a refusal once. */
async function checkAnnouncedOnce(stores: readonly Store[], scenario: Scenario): Promise<void> {
  const h = wire(stores.map((store) => slowed(store, latencies(scenario.storeLatency))));
  await runConcurrently(h, scenario);
  const group = (await h.store.get<SendGroup>(`group:${GROUP_ID}`)) as SendGroup;
  const state = group.approval?.state;
  expect([...h.notifier.threadLines].sort()).toEqual((group.approval?.decisions ?? []).map(threadLine).sort());
  expect(h.notifier.told).toHaveLength(state === 'rejected' || state === 'expired' ? 1 : 0);
}

const tick = (ms: number, sweep: boolean, replica = 0): Action => ({ kind: 'tick', ms, sweep, replica });
const oneApprover = {
  rule: { approvers: ['U0A'], minApprovals: 1 },
  recipients: [PHONES[0] as string],
  storeLatency: [0],
};

/** Found by these properties, so always tried first: the requester cancels past the deadline, before any sweep. */
const cancelAfterDeadline: Scenario = {
  ...oneApprover,
  chunks: [1],
  actions: [tick(400, false), tick(600, false), { kind: 'cancel', user: REQUESTER, replica: 0 }],
};

/** Found by these properties, so always tried first: two replicas find the request past its deadline in one ms. */
const sweepsInOneMillisecond: Scenario = {
  ...oneApprover,
  chunks: [2],
  actions: [tick(400, true, 0), tick(600, true, 1)],
};
const clickAndSweepInOneMillisecond: Scenario = {
  ...oneApprover,
  chunks: [1, 2],
  actions: [tick(400, false), { kind: 'decide', user: 'U0A', decision: 'approve', replica: 1 }, tick(600, true, 0)],
};

async function withMemoryStore(run: (stores: readonly Store[]) => Promise<void>): Promise<void> {
  // The memory store never touches its data directory; one store stands for what the replicas share.
  const store = await createStore({ url: 'memory://', dataDir: '/nonexistent' });
  try {
    await run([store, store]);
  } finally {
    await store.close();
  }
}

async function withRedisStores(run: (stores: readonly Store[]) => Promise<void>): Promise<void> {
  // One connection per replica, so their updates contend in Redis rather than queue in one process.
  const namespace = uniqueNamespace('approvals');
  const stores = await Promise.all(
    [1, 2].map(() => createStore({ url: testRedisUrl(), dataDir: '/nonexistent', namespace })),
  );
  try {
    await run(stores);
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
}

describe('the approval oracle', () => {
  it('never lets the requester, a bystander or the same approver twice count towards minApprovals', () => {
    const rule = { approvers: ['U0A', USER_GROUP, REQUESTER], minApprovals: 2 };
    const approve = (user: string): Action => ({ kind: 'decide', user, decision: 'approve', replica: 0 });
    const base = { ...oneApprover, rule, chunks: [1] };
    expect(oracle({ ...base, actions: [REQUESTER, 'U0X', 'U0A', 'U0A'].map(approve) }).state).toBe('pending');
    expect(oracle({ ...base, actions: ['U0A', 'U0D'].map(approve) }).state).toBe('approved');
    expect(oracle({ ...base, actions: [tick(1000, false), approve('U0A')] }).state).toBe('expired');
    expect(oracle(cancelAfterDeadline).state).toBe('expired');
  });
});

describe('approvals on the memory store, two replicas', () => {
  it('end as the first valid decisive action says, and send to each recipient once only when approved', async () => {
    await fc.assert(
      fc.asyncProperty(anyScenario, (scenario) => withMemoryStore((stores) => checkSequential(stores, scenario))),
      { numRuns: 300, examples: [[cancelAfterDeadline]] },
    );
  });

  it('record one decisive decision and send at most once per recipient when actions race', async () => {
    await fc.assert(
      fc.asyncProperty(anyScenario, (scenario) => withMemoryStore((stores) => checkConcurrent(stores, scenario))),
      { numRuns: 300 },
    );
  });

  it('announce each decision once in the thread when actions race', async () => {
    await fc.assert(
      fc.asyncProperty(anyScenario, (scenario) => withMemoryStore((stores) => checkAnnouncedOnce(stores, scenario))),
      { numRuns: 300, examples: [[sweepsInOneMillisecond], [clickAndSweepInOneMillisecond]] },
    );
  });
});

describe('approvals on the Redis store, two replicas with a connection each', () => {
  it('end as the first valid decisive action says, and send to each recipient once only when approved', async () => {
    await fc.assert(
      fc.asyncProperty(anyScenario, (scenario) => withRedisStores((stores) => checkSequential(stores, scenario))),
      { numRuns: 25, examples: [[cancelAfterDeadline]] },
    );
  });

  it('record one decisive decision and send at most once per recipient when actions race', async () => {
    await fc.assert(
      fc.asyncProperty(anyScenario, (scenario) => withRedisStores((stores) => checkConcurrent(stores, scenario))),
      { numRuns: 25 },
    );
  });
});
