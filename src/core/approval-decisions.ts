import type { DecisionRefusal } from './notices.js';
import {
  type Approval,
  type ApprovalDecision,
  type ApprovalState,
  approvalsSoFar,
  type SendGroup,
} from './send-group.js';

/*
 * The approval's state machine as pure functions of a group: each returns the group to store (or none, to leave it)
 * and, when refused, why as a code (the adapter words it). ApprovalService runs them inside an atomic store update, so each may run
 * more than once under contention and the first decisive outcome wins.
 */

/** One step of the state machine: the group to store, if any; why the step was refused, if it was. */
export interface ApprovalStep {
  next?: SendGroup;
  refusal?: DecisionRefusal;
  /** True when this step found the request past its deadline and expired it. */
  expired: boolean;
}

/** The request expired by the system at `now`. */
export function withExpiry(group: SendGroup, now: number): SendGroup {
  return withDecision(group, { userId: 'system', decision: 'expire', at: now }, 'expired');
}

/**
 * An approver's decision: approve counts once per person, reject decides at once, a request past its deadline
 * expires instead. `unapprovable` describes (in the adapter's words) why the group may not be approved as it stands, if so.
 */
export function withApproverDecision(
  group: SendGroup,
  asked: {
    userId: string;
    decision: 'approve' | 'reject';
    comment?: string;
    now: number;
    unapprovable?: (group: SendGroup) => string | undefined;
  },
): ApprovalStep {
  const { userId, decision, comment, now } = asked;
  const approval = group.approval;
  if (!approval) return { expired: false };
  if (approval.state !== 'pending')
    return { refusal: { code: 'already-decided', state: approval.state }, expired: false };
  if (now >= approval.expiresAt) return { next: withExpiry(group, now), expired: true };
  const problem = decision === 'approve' ? asked.unapprovable?.(group) : undefined;
  if (problem) return { refusal: { code: 'unapprovable', problem }, expired: false };
  if (decision === 'approve' && approval.decisions.some((d) => d.userId === userId && d.decision === 'approve')) {
    return { refusal: { code: 'approved-already' }, expired: false };
  }
  const entry: ApprovalDecision = { userId, decision, at: now, ...(comment ? { comment } : {}) };
  if (decision === 'reject') return { next: withDecision(group, entry, 'rejected'), expired: false };
  const approved =
    approvalsSoFar({ ...approval, decisions: [...approval.decisions, entry] }) >= approval.rule.minApprovals;
  return { next: withDecision(group, entry, approved ? 'approved' : 'pending'), expired: false };
}

/** The requester withdraws a pending request (one past its deadline expires instead, and says so). */
export function withCancellation(group: SendGroup, userId: string, now: number): ApprovalStep {
  const approval = group.approval;
  if (!approval) return { expired: false };
  if (group.requestedBy !== userId) return { refusal: { code: 'not-the-requester' }, expired: false };
  if (approval.state !== 'pending')
    return { refusal: { code: 'already-decided', state: approval.state }, expired: false };
  if (now >= approval.expiresAt) {
    return {
      next: withExpiry(group, now),
      refusal: { code: 'expired-before-cancel' },
      expired: true,
    };
  }
  return { next: withDecision(group, { userId, decision: 'cancel', at: now }, 'cancelled'), expired: false };
}

function withDecision(group: SendGroup, decision: ApprovalDecision, state: ApprovalState): SendGroup {
  const approval = group.approval as Approval;
  return {
    ...group,
    approval: {
      ...approval,
      state,
      decisions: [...approval.decisions, decision],
      ...(state === 'pending' ? {} : { decidedAt: decision.at }),
    },
  };
}
