import type { GroupDirectory } from './access.js';
import { BackgroundWork } from './background.js';
import { derivedUuid } from './idempotency.js';
import type { MessageSync } from './message-sync.js';
import { PendingIndex } from './pending-index.js';
import { type Clock, type Logger, noTelemetry, type SendNotifier, type Store, type Telemetry } from './ports.js';
import {
  type Approval,
  type ApprovalDecision,
  type ApprovalRule,
  approvalsSoFar,
  groupKey,
  type SendGroup,
} from './send-group.js';
import type { SendService } from './sends.js';
import { foreign, type Words } from './words.js';

/** When a send needs a second person: per device, per channel, and past a number of recipients. */
export interface ApprovalPolicy {
  devices: Record<string, ApprovalRule>;
  channels: Record<string, ApprovalRule>;
  /** Who approves sends to more than `maxRecipientsWithoutApproval` recipients. */
  teamSends?: ApprovalRule;
  maxRecipients: number;
  maxRecipientsWithoutApproval: number;
  expiresAfterMs: number;
}

export type RuleCheck = { needed: false } | { needed: true; rule: ApprovalRule } | { needed: true; rule: undefined };

/**
 * The approval a send needs, if any. When several rules apply (a shared device, a channel, many
 * recipients), their approvers are pooled and the highest `minApprovals` counts. `rule: undefined`
 * means approval is needed but nobody is configured to give it.
 */
export function approvalNeeded(
  policy: ApprovalPolicy,
  send: { deviceId: string; channelId: string; recipients: number },
): RuleCheck {
  const many = send.recipients > policy.maxRecipientsWithoutApproval;
  const rules = [ownRule(policy.devices, send.deviceId), ownRule(policy.channels, send.channelId)];
  if (many) rules.push(policy.teamSends);
  const applying = rules.filter((rule): rule is ApprovalRule => rule !== undefined);
  if (applying.length === 0) return many ? { needed: true, rule: undefined } : { needed: false };
  return {
    needed: true,
    rule: {
      approvers: [...new Set(applying.flatMap((rule) => rule.approvers))],
      minApprovals: Math.max(...applying.map((rule) => rule.minApprovals)),
    },
  };
}

/**
 * The rule configured for an id. Ids come from Slack and from the modal: `constructor` or `__proto__` must find
 * nothing, not a member every object inherits.
 */
function ownRule(rules: Readonly<Record<string, ApprovalRule>>, id: string): ApprovalRule | undefined {
  return Object.hasOwn(rules, id) ? rules[id] : undefined;
}

/** The id of a group (and of its approval request) started by a modal submission. */
export function groupIdForView(teamId: string, viewId: string): string {
  return derivedUuid('group', teamId, viewId);
}

/** The idempotency key of one recipient's send in a group: any number of approvals send it once. */
export function idempotencyKeyForGroupRecipient(teamId: string, groupId: string, recipient: string): string {
  return derivedUuid('group-send', teamId, groupId, recipient);
}

export type GroupDraft = Omit<
  SendGroup,
  'keys' | 'approval' | 'launched' | 'parent' | 'version' | 'renderedVersion' | 'createdAt'
>;

export type DecisionOutcome = { ok: true; group: SendGroup } | { ok: false; reason: string; group?: SendGroup };

/** Plain words for an approval's outcome. */
export function outcomeWords(state: Approval['state']): string {
  return {
    pending: 'waiting for approval',
    approved: 'approved',
    rejected: 'rejected',
    cancelled: 'cancelled',
    expired: 'expired',
  }[state];
}

/**
 * Groups and team-send approvals. The first decisive outcome wins atomically (approved, rejected,
 * cancelled, expired), also across replicas; an approved group's sends are keyed by the group id and
 * the recipient, so every Approve click, on any replica, sends each recipient's message once.
 */
export class ApprovalService {
  private static readonly RECORD_TTL_MS = 30 * 24 * 60 * 60 * 1000;
  private readonly background: BackgroundWork;
  /** Groups still to announce, approve, expire or launch. */
  private readonly pending: PendingIndex;

  constructor(
    private readonly deps: {
      store: Store;
      sends: SendService;
      sync: MessageSync;
      notifier: SendNotifier;
      groups: GroupDirectory;
      clock: Clock;
      logger: Logger;
      /** Counts requests and their outcomes. */
      telemetry?: Telemetry;
    },
  ) {
    this.background = new BackgroundWork(deps.logger);
    this.pending = new PendingIndex(deps.store, 'groups:pending', deps.clock);
  }

  /** Claim a group for a submission; a second claim (double submit, replay) reports the first. */
  async create(
    draft: GroupDraft,
    rule: ApprovalRule | undefined,
    expiresAfterMs: number,
  ): Promise<{ accepted: boolean; group: SendGroup }> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const group: SendGroup = {
      ...draft,
      keys: draft.recipients.map((to) => idempotencyKeyForGroupRecipient(draft.teamId, draft.id, to)),
      approval: rule ? { rule, state: 'pending', decisions: [], expiresAt: now + expiresAfterMs } : undefined,
      launched: false,
      version: 1,
      renderedVersion: 1,
      createdAt: now,
    };
    await this.pending.add(group.id);
    const claim = await store.claim(groupKey(group.id), group, ApprovalService.RECORD_TTL_MS);
    if (claim.claimed && rule) this.telemetry.approvalRequested();
    return { accepted: claim.claimed, group: claim.value };
  }

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

  private get telemetry(): Telemetry {
    return this.deps.telemetry ?? noTelemetry;
  }

  /** `start` in the background, tracked for shutdown. */
  startInBackground(id: string): void {
    this.background.run(() => this.start(id), { groupId: id }, 'starting a group failed; the sweep will retry');
  }

  async idle(): Promise<void> {
    await this.background.idle();
  }

  /** Post the group's message, then launch its sends at once when it needs no approval. */
  async start(id: string): Promise<void> {
    const group = await this.get(id);
    if (!group) return;
    if (!group.parent) {
      const parent = await this.deps.notifier.announceGroup(group);
      await this.change(
        id,
        (g) => (g.parent ? undefined : { ...g, parent, announceAttempts: (g.announceAttempts ?? 0) + 1 }),
        false,
      );
    }
    if (!group.approval) await this.launch(id);
  }

  get(id: string): Promise<SendGroup | undefined> {
    return this.deps.store.get<SendGroup>(groupKey(id));
  }

  /** Whether `userId` is one of the rule's approvers, directly or through a user group. */
  async isApprover(rule: ApprovalRule, userId: string): Promise<boolean> {
    if (rule.approvers.includes(userId)) return true;
    for (const id of rule.approvers.filter((a) => a.startsWith('S'))) {
      if ((await this.deps.groups.membersOf(id)).includes(userId)) return true;
    }
    return false;
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
      refusal = undefined;
      expiredHere = false;
      const approval = g.approval;
      if (!approval) return undefined;
      if (approval.state !== 'pending') {
        refusal = `This request is already ${outcomeWords(approval.state)}.`;
        return undefined;
      }
      if (now >= approval.expiresAt) {
        expiredHere = true;
        return withDecision(g, { userId: 'system', decision: 'expire', at: now }, 'expired');
      }
      const barred = decision === 'approve' ? unapprovable?.(g) : undefined;
      if (barred) {
        refusal = barred;
        return undefined;
      }
      if (decision === 'approve' && approval.decisions.some((d) => d.userId === userId && d.decision === 'approve')) {
        refusal = 'You have already approved this request; it needs another approver.';
        return undefined;
      }
      const entry: ApprovalDecision = { userId, decision, at: now, ...(comment ? { comment } : {}) };
      if (decision === 'reject') return withDecision(g, entry, 'rejected');
      const approved =
        approvalsSoFar({ ...approval, decisions: [...approval.decisions, entry] }) >= approval.rule.minApprovals;
      return withDecision(g, entry, approved ? 'approved' : 'pending');
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
      refusal = undefined;
      changedHere = false;
      if (!g.approval) return undefined;
      if (g.requestedBy !== userId) {
        refusal = 'Only the person who asked for this send can cancel it.';
        return undefined;
      }
      if (g.approval.state !== 'pending') {
        refusal = `This request is already ${outcomeWords(g.approval.state)}.`;
        return undefined;
      }
      changedHere = true;
      if (now >= g.approval.expiresAt) {
        refusal = 'This request had already expired, so nothing was sent.';
        return withDecision(g, { userId: 'system', decision: 'expire', at: now }, 'expired');
      }
      return withDecision(g, { userId, decision: 'cancel', at: now }, 'cancelled');
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
      return expiredHere ? withDecision(g, { userId: 'system', decision: 'expire', at: now }, 'expired') : undefined;
    });
    if (!expiredHere || !expired) return false;
    await this.afterDecision(expired, expired.approval?.decisions.at(-1));
    return true;
  }

  /** Claim every recipient's send (idempotent: keys are derived) and start them. */
  private async launch(id: string): Promise<void> {
    const group = await this.get(id);
    if (!group || group.launched || (group.approval && group.approval.state !== 'approved')) return;
    for (const [index, to] of group.recipients.entries()) {
      const outcome = await this.deps.sends.request({
        key: group.keys[index] as string,
        teamId: group.teamId,
        requestedBy: group.requestedBy,
        channelId: group.channelId,
        responseUrl: group.responseUrl,
        origin: { kind: 'group', groupId: group.id },
        groupId: group.id,
        deviceId: group.deviceId,
        deviceName: group.deviceName,
        to,
        text: group.text,
        parent: group.parent,
      });
      if (outcome.accepted) this.deps.sends.deliverInBackground(outcome.send.key);
    }
    await this.change(id, (g) => (g.launched ? undefined : { ...g, launched: true }));
    await this.pending.remove(id);
    await this.deps.sync.sync(groupKey(id));
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

  /** Atomic change of a group; visible changes bump the version its Slack message catches up with. */
  private async change(id: string, change: (group: SendGroup) => SendGroup | undefined, visible = true) {
    if (visible) await this.deps.sync.markBehind(groupKey(id)); // before the change: a crash still re-renders
    return this.deps.store.update<SendGroup>(groupKey(id), (current) => {
      if (!current) return undefined;
      const next = change(current);
      return next && (visible ? { ...next, version: current.version + 1 } : next);
    });
  }
}

function withDecision(group: SendGroup, decision: ApprovalDecision, state: Approval['state']): SendGroup {
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
