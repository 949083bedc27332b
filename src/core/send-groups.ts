import type { BackgroundWork } from './background.js';
import { derivedUuid } from './idempotency.js';
import type { MessageSync } from './message-sync.js';
import { PendingIndex } from './pending-index.js';
import type { ClaimListener, Clock, Logger, SendNotifier, Store } from './ports.js';
import { type ApprovalRule, groupKey, type SendGroup } from './send-group.js';
import { sendDraft } from './send-records.js';
import type { SendService } from './sends.js';
import { PENDING_LISTS, RECORD_TTL_MS } from './store-keys.js';
import { noTelemetry, type Telemetry } from './telemetry.js';

/** The id of a group (and of its approval request) started by a form submission (`originId`: see keyForOrigin). */
export function groupIdForOrigin(teamId: string, originId: string): string {
  return derivedUuid('group', teamId, originId);
}

/** The idempotency key of one recipient's send in a group: any number of approvals send it once. */
export function idempotencyKeyForGroupRecipient(teamId: string, groupId: string, recipient: string): string {
  return derivedUuid('group-send', teamId, groupId, recipient);
}

export type GroupDraft = Omit<
  SendGroup,
  'keys' | 'approval' | 'launched' | 'parent' | 'version' | 'renderedVersion' | 'createdAt'
>;

/**
 * The lifecycle of a send group (one message to several recipients): claimed once per submission, announced in
 * its chat message, then (at once, or once ApprovalService approved it) launched as one send per recipient.
 */
export class SendGroups {
  /** Groups still to announce, approve, expire or launch. */
  private readonly pending: PendingIndex;

  constructor(
    private readonly deps: {
      store: Store;
      sends: SendService;
      sync: MessageSync;
      notifier: SendNotifier;
      /** Where work started after an answer runs (shared by the services, so one `idle()` waits for all). */
      background: BackgroundWork;
      clock: Clock;
      logger: Logger;
      /** Counts requests and their outcomes. */
      telemetry?: Telemetry;
      /** Told when a group was claimed (as `group:<id>`) for its requester. */
      onClaimed?: ClaimListener;
    },
  ) {
    this.pending = new PendingIndex(deps.store, PENDING_LISTS.groups, deps.clock);
  }

  /** Claim a group for a submission; a second claim (double submit, replay) reports the first. */
  async create(
    draft: GroupDraft,
    rule: ApprovalRule | undefined,
    expiresAfterMs: number,
  ): Promise<{ accepted: boolean; group: SendGroup }> {
    const { clock } = this.deps;
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
    // The group and its pending entry in one atomic step; a group claimed before is reported as it is.
    const claims = await this.pending.addClaiming(group.id, [
      { key: groupKey(group.id), value: group, ttlMs: RECORD_TTL_MS },
    ]);
    if (!claims.claimed) return { accepted: false, group: claims.values[0] as SendGroup };
    if (rule) this.telemetry.approvalRequested();
    this.deps.onClaimed?.(groupKey(group.id), group);
    return { accepted: true, group };
  }

  private get telemetry(): Telemetry {
    return this.deps.telemetry ?? noTelemetry;
  }

  /** `start` in the background, tracked for shutdown. */
  startInBackground(id: string): void {
    this.deps.background.run(() => this.start(id), { groupId: id }, 'starting a group failed; the sweep will retry');
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

  /** Claim every recipient's send (idempotent: keys are derived) and start them, once it needs no approval. */
  async launch(id: string): Promise<void> {
    const group = await this.get(id);
    if (!group || group.launched || (group.approval && group.approval.state !== 'approved')) return;
    for (const [index, to] of group.recipients.entries()) {
      const outcome = await this.deps.sends.request(
        sendDraft(group, to, {
          key: group.keys[index] as string,
          origin: { kind: 'group', groupId: group.id },
          groupId: group.id,
          parent: group.parent,
        }),
      );
      if (outcome.accepted) this.deps.sends.deliverInBackground(outcome.send.key, outcome.send);
    }
    await this.change(id, (g) => (g.launched ? undefined : { ...g, launched: true }));
    await this.done(id);
    await this.deps.sync.sync(groupKey(id));
  }

  /** Atomic change of a group; visible changes bump the version its chat message catches up with. */
  async change(id: string, change: (group: SendGroup) => SendGroup | undefined, visible = true) {
    if (visible) return this.deps.sync.changeVisibly<SendGroup>(groupKey(id), groupKey(id), change);
    return this.deps.store.update<SendGroup>(groupKey(id), (current) => current && change(current));
  }

  /** The group's work is done (sent, or ended without sending): the sweep no longer looks at it. */
  async done(id: string): Promise<void> {
    await this.pending.remove(id);
  }

  /** The ids of the groups still pending, oldest first. */
  pendingIds(): Promise<string[]> {
    return this.pending.list();
  }

  /** Each group still pending whose record exists, oldest first (a record missing for long is dropped). */
  pendingGroups(): AsyncGenerator<[string, SendGroup]> {
    return this.pending.withRecords((id) => this.get(id));
  }

  /**
   * The sweep of the lifecycle: drop groups that are done, re-post a message that was never posted (a crash, or
   * Slack refused it), and launch groups that need no approval or were approved but not launched (a crash right
   * after the approval). Pending approvals past their deadline are ApprovalService's to expire. Returns how many
   * groups it moved on.
   */
  async sweep(): Promise<number> {
    const now = () => this.deps.clock.now();
    let moved = 0;
    for await (const [id, group] of this.pendingGroups()) {
      const state = group.approval?.state;
      if (group.launched || state === 'rejected' || state === 'cancelled' || state === 'expired') {
        await this.done(id);
        continue;
      }
      if (group.approval && state === 'pending' && now() >= group.approval.expiresAt) continue;
      if (!group.parent && now() - group.createdAt > 30_000 && (group.announceAttempts ?? 0) < 3) {
        await this.start(id);
        moved++;
        continue;
      }
      if (!group.approval || state === 'approved') {
        await this.launch(id);
        moved++;
      }
    }
    return moved;
  }
}
