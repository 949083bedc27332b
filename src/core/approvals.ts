import { isAmong, type UserGroupDirectory } from './access.js';
import { withApproverDecision, withCancellation, withExpiry } from './approval-decisions.js';
import type { BackgroundWork } from './background.js';
import type { MessageSync } from './message-sync.js';
import type { DecisionRefusal } from './notices.js';
import type { Clock, Logger, SendNotifier } from './ports.js';
import { type ApprovalDecision, type ApprovalRule, groupKey, type SendGroup } from './send-group.js';
import type { SendGroups } from './send-groups.js';
import { noTelemetry, type Telemetry } from './telemetry.js';

/** A decision's outcome: accepted, or refused with a code the adapter words (and the group, when there is one). */
export type DecisionOutcome = { ok: true; group: SendGroup } | { ok: false; error: DecisionRefusal; group?: SendGroup };

const gone: DecisionOutcome = { ok: false, error: { code: 'gone' } };

/**
 * Decisions on approval requests: review, approve, reject, cancel, expire. The first decisive outcome wins
 * atomically, also across replicas; an approved group is launched by SendGroups, whose sends are keyed by the
 * group id and the recipient, so every Approve click, on any replica, sends each recipient's message once.
 */
export class ApprovalService {
  constructor(
    private readonly deps: {
      sendGroups: SendGroups;
      sync: MessageSync;
      notifier: SendNotifier;
      /** Where decisions' follow-ups run (shared by the services, so one `idle()` waits for all). */
      background: BackgroundWork;
      /** User groups (groups of people), for approvers named by group. */
      userGroups: UserGroupDirectory;
      clock: Clock;
      logger: Logger;
      /** Counts outcomes. */
      telemetry?: Telemetry;
      /** Told when a request ended without sending (rejected, expired, cancelled): a workflow step waiting ends. */
      onEnded?: (group: SendGroup) => Promise<void>;
    },
  ) {}

  /**
   * How many approval requests wait for a decision, for monitoring. Reads at most `scanLimit` groups
   * of the pending index (which also holds groups being announced or launched).
   */
  async pendingApprovals(scanLimit = 500): Promise<number> {
    const now = this.deps.clock.now();
    let waiting = 0;
    for (const id of (await this.deps.sendGroups.pendingIds()).slice(0, scanLimit)) {
      const approval = (await this.deps.sendGroups.get(id))?.approval;
      if (approval?.state === 'pending' && now < approval.expiresAt) waiting++;
    }
    return waiting;
  }

  /** Whether `userId` is one of the rule's approvers, directly or through a user group. */
  async isApprover(rule: ApprovalRule, userId: string): Promise<boolean> {
    return isAmong(rule.approvers, userId, this.deps.userGroups);
  }

  /** Whether `userId` may open the review of a pending request (and why not, as a code). */
  async mayReview(id: string, userId: string): Promise<DecisionOutcome> {
    const group = await this.deps.sendGroups.get(id);
    if (!group?.approval) return gone;
    const { approval } = group;
    if (approval.state !== 'pending')
      return { ok: false, error: { code: 'already-decided', state: approval.state }, group };
    if (group.requestedBy === userId) return { ok: false, error: { code: 'own-request' }, group };
    if (!(await this.isApprover(approval.rule, userId)))
      return { ok: false, error: { code: 'not-an-approver' }, group };
    return { ok: true, group };
  }

  /**
   * Record one approver's decision. Approve counts once per person; the requester never counts; the
   * first decisive outcome wins and later decisions are refused with the outcome.
   */
  async decide(
    id: string,
    userId: string,
    decision: 'approve' | 'reject',
    comment?: string,
    /** What keeps this group from being approved as it stands (the approvers could not be shown all of it), if so. */
    unapprovable?: (group: SendGroup) => string | undefined,
  ): Promise<DecisionOutcome> {
    const allowed = await this.mayReview(id, userId);
    if (!allowed.ok) return allowed;
    const now = this.deps.clock.now();
    let refusal: DecisionRefusal | undefined;
    let expiredHere = false; // set by the update that wins, so only one click announces the expiry
    const group = await this.deps.sendGroups.change(id, (g) => {
      const step = withApproverDecision(g, { userId, decision, comment, now, unapprovable });
      refusal = step.refusal;
      expiredHere = step.expired;
      return step.next;
    });
    if (!group?.approval) return gone;
    if (refusal) return { ok: false, error: refusal, group };
    this.afterDecisionInBackground(group, group.approval.decisions.at(-1));
    // This click found it past its deadline and expired it.
    return expiredHere ? { ok: false, error: { code: 'expired' }, group } : { ok: true, group };
  }

  /** The requester withdraws a pending request. */
  async cancel(id: string, userId: string): Promise<DecisionOutcome> {
    const now = this.deps.clock.now();
    let refusal: DecisionRefusal | undefined;
    let changedHere = false; // set by the update that wins, so only it announces the outcome
    const group = await this.deps.sendGroups.change(id, (g) => {
      const step = withCancellation(g, userId, now);
      refusal = step.refusal;
      changedHere = step.next !== undefined;
      return step.next;
    });
    if (!group?.approval) return gone;
    if (changedHere) this.afterDecisionInBackground(group, group.approval.decisions.at(-1));
    return refusal ? { ok: false, error: refusal, group } : { ok: true, group };
  }

  /** The sweep of decisions: expire pending requests past their deadline (also after a restart); returns how many. */
  async sweep(): Promise<number> {
    const { clock } = this.deps;
    let expired = 0;
    for await (const [id, group] of this.deps.sendGroups.pendingGroups()) {
      if (group.approval?.state === 'pending' && clock.now() >= group.approval.expiresAt && (await this.expire(id))) {
        expired++;
      }
    }
    return expired;
  }

  /** Expire a pending request past its deadline; true when this call did it (and announced it). */
  private async expire(id: string): Promise<boolean> {
    const now = this.deps.clock.now();
    let expiredHere = false; // set by the update that wins, so only one replica announces it
    const expired = await this.deps.sendGroups.change(id, (g) => {
      expiredHere = g.approval?.state === 'pending' && now >= g.approval.expiresAt;
      return expiredHere ? withExpiry(g, now) : undefined;
    });
    if (!expiredHere || !expired) return false;
    await this.afterDecision(expired, expired.approval?.decisions.at(-1));
    return true;
  }

  /**
   * After the chat interaction is answered: a decision's follow-up (thread note, sends, message update) can take
   * longer than Slack's 3 seconds. If it fails, the sweep launches approved groups.
   */
  private afterDecisionInBackground(group: SendGroup, decision: ApprovalDecision | undefined): void {
    this.deps.background.run(
      () => this.afterDecision(group, decision),
      { groupId: group.id },
      'approval follow-up failed',
    );
  }

  /** Note the decision in the thread, tell the requester when nothing will be sent, update the message, launch. */
  private async afterDecision(group: SendGroup, decision: ApprovalDecision | undefined): Promise<void> {
    const { notifier, logger, sendGroups } = this.deps;
    const state = group.approval?.state;
    logger.info({ groupId: group.id, state, decision: decision?.decision }, 'approval decision recorded');
    // Called once per decision that was stored (the update that won), so each outcome is counted once.
    if (state && state !== 'pending') (this.deps.telemetry ?? noTelemetry).approvalDecided(state);
    if (decision && group.parent) await notifier.noteInThread(group.parent, { kind: 'approval-decision', decision });
    if (state === 'rejected' || state === 'expired' || state === 'cancelled') {
      if (state !== 'cancelled') {
        await notifier.tell(
          { userId: group.requestedBy, channelId: group.channelId },
          { kind: 'group-ended', state, recipients: group.recipients.length, comment: decision?.comment },
        );
      }
      await sendGroups.done(group.id);
      await this.deps.onEnded?.(group);
    }
    if (state === 'approved') await sendGroups.launch(group.id);
    await this.deps.sync.sync(groupKey(group.id));
  }
}
