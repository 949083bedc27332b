import { isAmong } from './access.js';
import { outcomeWords, withApproverDecision, withCancellation, withExpiry } from './approval-decisions.js';
import { type ApprovalDecision, type ApprovalRule, groupKey, type SendGroup } from './send-group.js';
import { SendGroups } from './send-groups.js';
import { foreign, type Words } from './words.js';

export type DecisionOutcome = { ok: true; group: SendGroup } | { ok: false; reason: string; group?: SendGroup };

/**
 * Team-send approvals on top of the send groups' lifecycle. The first decisive outcome wins atomically (approved,
 * rejected, cancelled, expired), also across replicas; an approved group's sends are keyed by the group id and
 * the recipient, so every Approve click, on any replica, sends each recipient's message once.
 */
export class ApprovalService extends SendGroups {
  /**
   * How many approval requests wait for a decision, for monitoring. Reads at most `scanLimit` groups
   * of the pending index (which also holds groups being announced or launched).
   */
  async pendingApprovals(scanLimit = 500): Promise<number> {
    const now = this.deps.clock.now();
    let waiting = 0;
    for (const id of (await this.pending.list()).slice(0, scanLimit)) {
      const approval = (await this.get(id))?.approval;
      if (approval?.state === 'pending' && now < approval.expiresAt) waiting++;
    }
    return waiting;
  }

  /** Whether `userId` is one of the rule's approvers, directly or through a user group. */
  async isApprover(rule: ApprovalRule, userId: string): Promise<boolean> {
    return isAmong(rule.approvers, userId, this.deps.groups);
  }

  /** Whether `userId` may open the review of a pending request (and why not, in plain words). */
  async mayReview(id: string, userId: string): Promise<DecisionOutcome> {
    const group = await this.get(id);
    if (!group?.approval) return { ok: false, reason: 'This approval request does not exist any more.' };
    if (group.approval.state !== 'pending') {
      return { ok: false, reason: `This request is already ${outcomeWords(group.approval.state)}.`, group };
    }
    if (group.requestedBy === userId) {
      return { ok: false, reason: 'You asked for this send, so someone else has to approve it.', group };
    }
    if (!(await this.isApprover(group.approval.rule, userId))) {
      return { ok: false, reason: 'Only the approvers listed on this request can review it.', group };
    }
    return { ok: true, group };
  }

  /**
   * Record one approver's decision. Approve counts once per person; the requester never counts; the
   * first decisive outcome wins and later decisions are refused with the outcome in plain words.
   */
  async decide(
    id: string,
    userId: string,
    decision: 'approve' | 'reject',
    comment?: string,
    /** Why this group may not be approved as it stands (the approvers could not be shown all of it), if so. */
    unapprovable?: (group: SendGroup) => string | undefined,
  ): Promise<DecisionOutcome> {
    const allowed = await this.mayReview(id, userId);
    if (!allowed.ok) return allowed;
    const now = this.deps.clock.now();
    let refusal: string | undefined;
    let expiredHere = false; // set by the update that wins, so only one click announces the expiry
    const group = await this.change(id, (g) => {
      const step = withApproverDecision(g, { userId, decision, comment, now, unapprovable });
      refusal = step.refusal;
      expiredHere = step.expired;
      return step.next;
    });
    if (!group?.approval) return { ok: false, reason: 'This approval request does not exist any more.' };
    if (refusal) return { ok: false, reason: refusal, group };
    const last = group.approval.decisions.at(-1);
    if (expiredHere) {
      this.afterDecisionInBackground(group, last); // this click found it past its deadline
      return { ok: false, reason: 'This request has expired, so nothing was sent.', group };
    }
    this.afterDecisionInBackground(group, last);
    return { ok: true, group };
  }

  /** The requester withdraws a pending request. */
  async cancel(id: string, userId: string): Promise<DecisionOutcome> {
    const now = this.deps.clock.now();
    let refusal: string | undefined;
    let changedHere = false; // set by the update that wins, so only it announces the outcome
    const group = await this.change(id, (g) => {
      const step = withCancellation(g, userId, now);
      refusal = step.refusal;
      changedHere = step.next !== undefined;
      return step.next;
    });
    if (!group?.approval) return { ok: false, reason: 'This approval request does not exist any more.' };
    if (changedHere) this.afterDecisionInBackground(group, group.approval.decisions.at(-1));
    return refusal ? { ok: false, reason: refusal, group } : { ok: true, group };
  }

  /**
   * The sweep: expire pending requests past their deadline (also after a restart), and launch
   * approved groups whose sends were not all claimed (a crash right after the approval).
   */
  async sweep(): Promise<number> {
    const { clock } = this.deps;
    let changed = 0;
    for await (const [id, group] of this.pending.withRecords((i) => this.get(i))) {
      const state = group.approval?.state;
      if (group.launched || state === 'rejected' || state === 'cancelled' || state === 'expired') {
        await this.pending.remove(id);
        continue;
      }
      if (group.approval && state === 'pending' && clock.now() >= group.approval.expiresAt) {
        if (await this.expire(id)) changed++;
        continue;
      }
      if (!group.parent && clock.now() - group.createdAt > 30_000 && (group.announceAttempts ?? 0) < 3) {
        await this.start(id); // claimed, but its message was never posted (a crash, or Slack refused it)
        changed++;
        continue;
      }
      if (!group.approval || state === 'approved') {
        await this.launch(id);
        changed++;
      }
    }
    return changed;
  }

  /** Expire a pending request past its deadline; true when this call did it (and announced it). */
  private async expire(id: string): Promise<boolean> {
    const now = this.deps.clock.now();
    let expiredHere = false; // set by the update that wins, so only one replica announces it
    const expired = await this.change(id, (g) => {
      expiredHere = g.approval?.state === 'pending' && now >= g.approval.expiresAt;
      return expiredHere ? withExpiry(g, now) : undefined;
    });
    if (!expiredHere || !expired) return false;
    await this.afterDecision(expired, expired.approval?.decisions.at(-1));
    return true;
  }

  /**
   * After the Slack interaction is answered: a decision's follow-up (thread reply, sends, message
   * update) can take longer than Slack's 3 seconds. If it fails, the sweep launches approved groups.
   */
  private afterDecisionInBackground(group: SendGroup, decision: ApprovalDecision | undefined): void {
    this.background.run(() => this.afterDecision(group, decision), { groupId: group.id }, 'approval follow-up failed');
  }

  /** Tell the thread and the requester, update the message, and send when approved. */
  private async afterDecision(group: SendGroup, decision: ApprovalDecision | undefined): Promise<void> {
    const { notifier, logger } = this.deps;
    const state = group.approval?.state;
    logger.info({ groupId: group.id, state, decision: decision?.decision }, 'approval decision recorded');
    // Called once per decision that was stored (the update that won), so each outcome is counted once.
    if (state && state !== 'pending') this.telemetry.approvalDecided(state);
    if (decision && group.parent) {
      const said: Words = decision.comment ? [': “', foreign(decision.comment, { max: 500 }), '”'] : [];
      const who: Words = decision.userId === 'system' ? ['The request'] : [{ user: decision.userId }];
      const verb = { approve: 'approved', reject: 'rejected', cancel: 'cancelled', expire: 'expired' }[
        decision.decision
      ];
      await notifier.replyInThread(group.parent, [...who, ` ${verb}`, ...said]);
    }
    if (state === 'rejected' || state === 'expired' || state === 'cancelled') {
      const reason: Words = decision?.comment ? [' Reason: “', foreign(decision.comment, { max: 500 }), '”.'] : [];
      if (state !== 'cancelled') {
        await notifier.tell({ userId: group.requestedBy, channelId: group.channelId }, [
          `Your WhatsApp send to ${group.recipients.length} recipient${group.recipients.length === 1 ? '' : 's'} was ${state}, so nothing was sent.`,
          ...reason,
        ]);
      }
      await this.pending.remove(group.id);
    }
    if (state === 'approved') await this.launch(group.id);
    await this.deps.sync.sync(groupKey(group.id));
  }
}
