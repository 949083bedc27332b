import type { GroupDirectory } from './access.js';
import { BackgroundWork } from './background.js';
import { derivedUuid } from './idempotency.js';
import type { MessageSync } from './message-sync.js';
import { PendingIndex } from './pending-index.js';
import { type Clock, type Logger, noTelemetry, type SendNotifier, type Store, type Telemetry } from './ports.js';
import { type ApprovalRule, groupKey, type SendGroup } from './send-group.js';
import { sendDraft } from './send-records.js';
import type { SendService } from './sends.js';
import { PENDING_LISTS, RECORD_TTL_MS } from './store-keys.js';

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
 * The lifecycle of a send group: claimed once per submission, announced in Slack, then (at once, or once
 * approved) launched as one send per recipient. ApprovalService adds the decisions and the sweep.
 */
export class SendGroups {
  protected readonly background: BackgroundWork;
  /** Groups still to announce, approve, expire or launch. */
  protected readonly pending: PendingIndex;

  constructor(
    protected readonly deps: {
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
    this.pending = new PendingIndex(deps.store, PENDING_LISTS.groups, deps.clock);
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
    const claim = await store.claim(groupKey(group.id), group, RECORD_TTL_MS);
    if (claim.claimed && rule) this.telemetry.approvalRequested();
    return { accepted: claim.claimed, group: claim.value };
  }

  protected get telemetry(): Telemetry {
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

  /** Claim every recipient's send (idempotent: keys are derived) and start them. */
  protected async launch(id: string): Promise<void> {
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
      if (outcome.accepted) this.deps.sends.deliverInBackground(outcome.send.key);
    }
    await this.change(id, (g) => (g.launched ? undefined : { ...g, launched: true }));
    await this.pending.remove(id);
    await this.deps.sync.sync(groupKey(id));
  }

  /** Atomic change of a group; visible changes bump the version its Slack message catches up with. */
  protected async change(id: string, change: (group: SendGroup) => SendGroup | undefined, visible = true) {
    if (visible) await this.deps.sync.markBehind(groupKey(id)); // before the change: a crash still re-renders
    return this.deps.store.update<SendGroup>(groupKey(id), (current) => {
      if (!current) return undefined;
      const next = change(current);
      return next && (visible ? { ...next, version: current.version + 1 } : next);
    });
  }
}
