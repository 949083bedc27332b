import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/adapters/store/create-store.js';
import { withApproverDecision, withCancellation } from '../../src/core/approval-decisions.js';
import type { Approval, SendGroup } from '../../src/core/send-group.js';
import { FakeWaping } from '../support/fake-waping.js';
import { RecordingNotifier, sendGroupFixture } from '../support/fakes.js';
import { wireTestServices } from '../support/services.js';

/*
 * Decisions on approval requests speak codes (`DecisionRefusal`), never words: the pure steps and the service give
 * the code and the data its wording needs (test/adapters/slack/wording.test.ts pins the words).
 */

const NOW = 1_700_000_000_000;
const REQUESTER = 'U0REQ';

/** A request from REQUESTER that two of U0A and U0B must approve before NOW + 60 s, not launched yet. */
function pendingGroup(overrides: Partial<Approval> = {}): SendGroup {
  return sendGroupFixture({
    id: 'g1',
    requestedBy: REQUESTER,
    approval: {
      rule: { approvers: ['U0A', 'U0B'], minApprovals: 2 },
      state: 'pending',
      decisions: [],
      expiresAt: NOW + 60_000,
      ...overrides,
    },
    launched: false,
    renderedVersion: 1,
    createdAt: NOW,
  });
}

describe('decision refusals are codes in the core', () => {
  it('refuses a decision on a decided request with its outcome', () => {
    for (const state of ['approved', 'rejected', 'cancelled', 'expired'] as const) {
      const group = pendingGroup({ state });
      expect(withApproverDecision(group, { userId: 'U0A', decision: 'approve', now: NOW }).refusal).toEqual({
        code: 'already-decided',
        state,
      });
      expect(withCancellation(group, REQUESTER, NOW).refusal).toEqual({ code: 'already-decided', state });
    }
  });

  it('refuses a second approval by the same approver', () => {
    const once = withApproverDecision(pendingGroup(), { userId: 'U0A', decision: 'approve', now: NOW });
    expect(once.refusal).toBeUndefined();
    const twice = withApproverDecision(once.next as SendGroup, { userId: 'U0A', decision: 'approve', now: NOW + 1 });
    expect(twice).toEqual({ refusal: { code: 'approved-already' }, expired: false });
  });

  it("carries the adapter's own description of what keeps a group from being approved, and lets a reject through", () => {
    const unapprovable = () => '52 blocks (at most 50)';
    const group = pendingGroup();
    expect(withApproverDecision(group, { userId: 'U0A', decision: 'approve', now: NOW, unapprovable }).refusal).toEqual(
      { code: 'unapprovable', problem: '52 blocks (at most 50)' },
    );
    const rejected = withApproverDecision(group, { userId: 'U0A', decision: 'reject', now: NOW, unapprovable });
    expect(rejected.refusal).toBeUndefined();
    expect(rejected.next?.approval?.state).toBe('rejected');
  });

  it('lets only the requester cancel, and says so when the deadline had passed', () => {
    expect(withCancellation(pendingGroup(), 'U0A', NOW).refusal).toEqual({ code: 'not-the-requester' });
    const late = withCancellation(pendingGroup(), REQUESTER, NOW + 60_000);
    expect(late.refusal).toEqual({ code: 'expired-before-cancel' });
    expect(late.next?.approval?.state).toBe('expired');
  });

  it('expires a request an approver finds past its deadline, without a refusal (the service answers `expired`)', () => {
    const step = withApproverDecision(pendingGroup(), { userId: 'U0A', decision: 'approve', now: NOW + 60_000 });
    expect(step.expired).toBe(true);
    expect(step.refusal).toBeUndefined();
    expect(step.next?.approval?.state).toBe('expired');
  });
});

describe('ApprovalService answers refused decisions with codes', () => {
  /** One replica, wired as the bot wires it, holding one request that needs one approval from U0A or the S0OPS group. */
  async function wired() {
    const time = { now: NOW };
    const clock = { now: () => time.now, sleep: async () => {} };
    const store = await createStore({ url: 'memory://', dataDir: '/nonexistent' });
    const services = wireTestServices({
      store,
      waping: new FakeWaping(),
      notifier: new RecordingNotifier(),
      clock,
      userGroups: { membersOf: async (id) => (id === 'S0OPS' ? ['U0B'] : []) },
    });
    const { id, teamId, requestedBy, channelId, deviceId, deviceName, text, recipients } = pendingGroup();
    await services.sendGroups.create(
      { id, teamId, requestedBy, channelId, deviceId, deviceName, text, recipients },
      { approvers: ['U0A', 'S0OPS'], minApprovals: 1 },
      60_000,
    );
    return { ...services, time, store };
  }

  it('gone, own request, not an approver; an approver of a user group may review', async () => {
    const { approvals, store } = await wired();
    expect(await approvals.mayReview('nope', 'U0A')).toEqual({ ok: false, error: { code: 'gone' } });
    expect(await approvals.mayReview('g1', REQUESTER)).toMatchObject({ ok: false, error: { code: 'own-request' } });
    expect(await approvals.mayReview('g1', 'U0X')).toMatchObject({ ok: false, error: { code: 'not-an-approver' } });
    expect(await approvals.mayReview('g1', 'U0B')).toMatchObject({ ok: true });
    await store.close();
  });

  it('expired when the click comes after the deadline; already decided afterwards', async () => {
    const { approvals, background, time, store } = await wired();
    time.now += 60_000;
    expect(await approvals.decide('g1', 'U0A', 'approve')).toMatchObject({ ok: false, error: { code: 'expired' } });
    await background.idle();
    expect(await approvals.decide('g1', 'U0A', 'approve')).toMatchObject({
      ok: false,
      error: { code: 'already-decided', state: 'expired' },
    });
    expect(await approvals.cancel('g1', REQUESTER)).toMatchObject({
      ok: false,
      error: { code: 'already-decided', state: 'expired' },
    });
    await store.close();
  });
});
