import { keyForWorkflowStep } from './idempotency.js';
import { PendingIndex } from './pending-index.js';
import type { Clock, Logger, Store } from './ports.js';
import type { SendGroup } from './send-group.js';
import { groupIdForOrigin } from './send-groups.js';
import { type DeliveryStatus, type SendFailure, type SendRecord, sendKey, syncTargetOf } from './send-record.js';
import type { SendRequestOutcome } from './send-requests.js';
import { groupKey, PENDING_LISTS, RECORD_TTL_MS, stepKey, stepLockKey, stepOfKey } from './store-keys.js';

/** Why a workflow step sent nothing, or what it sent failed for good, as codes; the chat adapter words them. */
export type StepFailure =
  /** The platform handed the step inputs it cannot read (missing or of the wrong type). */
  | { code: 'unreadable-inputs' }
  /** The step's inputs asked for several numbers; a step sends one message. */
  | { code: 'one-recipient' }
  /** The send use case refused the request (its inputs, who may send, approval rules). */
  | {
      code: 'refused-request';
      outcome: Extract<
        SendRequestOutcome,
        { kind: 'invalid' | 'refused' | 'needs-approver' | 'too-long-to-show' | 'different-resubmission' }
      >;
    }
  /** The approval request ended without sending. */
  | { code: 'approval-ended'; state: 'rejected' | 'expired' | 'cancelled'; comment?: string }
  /** WAPing refused the send, or never answered in time. */
  | { code: 'send-failed'; failure: SendFailure; deviceName: string };

/** How a step ended: WAPing accepted its message, or it failed for good. */
export type StepEnd = { ok: true; messageId: string; status: DeliveryStatus } | { ok: false; failure: StepFailure };

/** The chat platform's side of a workflow step (Slack: `functions.completeSuccess` / `completeError`). */
export interface WorkflowStepPort {
  /**
   * Tell the platform how the step ended. Resolves when it was told, or already knew the step had ended; throws
   * when it could not be told now (the sweep tries again).
   */
  complete(executionId: string, end: StepEnd): Promise<void>;
}

/** One workflow step, stored as `step:<executionId>` until the platform has been told its end. */
interface StepRecord {
  executionId: string;
  teamId: string;
  /** What the step waits for: a send key, or `group:<id>` when the send needs approval. */
  target?: string;
  /** Why nothing was sent, when the request was refused. */
  refusal?: StepFailure;
  completed?: boolean;
  createdAt: number;
}

/** How long one replica may take telling the platform a step's end before another may try. */
const COMPLETION_LOCK_MS = 60_000;

/**
 * The end of workflow steps: a step waits (maybe through an approval, retries and restarts) for its send, and the
 * platform is told once when WAPing accepted it or it failed for good. Every step stays on a pending list until the
 * platform was told, so the sweep finishes what a crash left undone; a lock keeps replicas from telling it twice.
 */
export class StepCompletions {
  private readonly pending: PendingIndex;

  constructor(
    private readonly deps: {
      store: Store;
      port: WorkflowStepPort;
      clock: Clock;
      logger: Logger;
      instanceId: string;
    },
  ) {
    this.pending = new PendingIndex(deps.store, PENDING_LISTS.steps, deps.clock);
  }

  /** Note a step before anything is claimed for it: its record and its pending entry in one atomic step. */
  async begin(executionId: string, teamId: string): Promise<void> {
    const record: StepRecord = { executionId, teamId, createdAt: this.deps.clock.now() };
    await this.pending.addClaiming(executionId, [{ key: stepKey(executionId), value: record, ttlMs: RECORD_TTL_MS }]);
  }

  /** The step waits for `target` (a send key, or `group:<id>`): its end is told once that ends. */
  async follow(executionId: string, target: string): Promise<void> {
    await this.deps.store.set(stepOfKey(target), executionId, RECORD_TTL_MS);
    await this.deps.store.update<StepRecord>(stepKey(executionId), (s) =>
      s && !s.target ? { ...s, target } : undefined,
    );
  }

  /** The step sent nothing: tell the platform why. */
  async refuse(executionId: string, refusal: StepFailure): Promise<void> {
    await this.deps.store.update<StepRecord>(stepKey(executionId), (s) =>
      s && !s.refusal && !s.target ? { ...s, refusal } : undefined,
    );
    await this.settle(executionId);
  }

  /** A send was settled (accepted or failed): end the step waiting for it, if one is. */
  async onSendSettled(send: Pick<SendRecord, 'key' | 'groupId' | 'origin'>): Promise<void> {
    // Only a step's own send, or a send of a group (a step may wait for its group), can have a step waiting: the
    // others cost no look-up.
    if (send.origin.kind !== 'step' && !send.groupId) return;
    await this.settleTarget(syncTargetOf(send));
  }

  /** A group's approval ended without sending: end the step waiting for it, if one is. */
  async onGroupEnded(group: Pick<SendGroup, 'id'>): Promise<void> {
    await this.settleTarget(groupKey(group.id));
  }

  /** The sweep: tell the platform the end of every step that ended but was not told (a crash, Slack away). */
  async sweep(): Promise<number> {
    let told = 0;
    for (const id of await this.pending.list()) {
      if (await this.settle(id)) told++;
    }
    return told;
  }

  /** Tell the platform the step's end if it has one and nobody told it yet; true when this call told it. */
  async settle(executionId: string): Promise<boolean> {
    const { store, logger } = this.deps;
    const step = await store.get<StepRecord>(stepKey(executionId));
    if (!step) {
      await this.pending.recordMissing(executionId);
      return false;
    }
    if (step.completed) {
      await this.pending.remove(executionId);
      return false;
    }
    const end = await this.endOf(step);
    if (!end) return false;
    const lock = await store.claim(stepLockKey(executionId), this.deps.instanceId, COMPLETION_LOCK_MS);
    if (!lock.claimed) return false;
    try {
      await this.deps.port.complete(executionId, end);
    } catch (error) {
      // Not told: free the lock for the next sweep (a crash instead leaves it to run out).
      await store.delete(stepLockKey(executionId));
      logger.warn({ err: error, executionId }, 'could not tell Slack how a workflow step ended; the sweep will retry');
      return false;
    }
    await store.update<StepRecord>(stepKey(executionId), (s) =>
      s && !s.completed ? { ...s, completed: true } : undefined,
    );
    await this.pending.remove(executionId);
    logger.info({ executionId, ok: end.ok }, 'workflow step completed');
    return true;
  }

  private async settleTarget(target: string): Promise<void> {
    const executionId = await this.deps.store.get<string>(stepOfKey(target));
    if (executionId) await this.settle(executionId);
  }

  /**
   * What a step waits for when `follow` never ran (a crash right after the claim, and Slack gave up redelivering):
   * its send or group, found under the ids derived from the execution id.
   */
  private async derivedTarget(step: StepRecord): Promise<string | undefined> {
    const key = keyForWorkflowStep(step.teamId, step.executionId);
    if (await this.deps.store.get(sendKey(key))) return key;
    const group = groupKey(groupIdForOrigin(step.teamId, step.executionId));
    return (await this.deps.store.get(group)) ? group : undefined;
  }

  /** The step's end from its records, or undefined while it is still under way. */
  private async endOf(step: StepRecord): Promise<StepEnd | undefined> {
    const { store } = this.deps;
    if (step.refusal) return { ok: false, failure: step.refusal };
    const target = step.target ?? (await this.derivedTarget(step));
    if (!target) return undefined;
    let key = target;
    if (target.startsWith(groupKey(''))) {
      const group = await store.get<SendGroup>(target);
      const state = group?.approval?.state;
      if (state === 'rejected' || state === 'expired' || state === 'cancelled') {
        const comment = group?.approval?.decisions.at(-1)?.comment;
        return { ok: false, failure: { code: 'approval-ended', state, ...(comment ? { comment } : {}) } };
      }
      const first = group?.keys[0];
      if (!first) return undefined;
      key = first;
    }
    const send = await store.get<SendRecord>(sendKey(key));
    if (send?.state === 'accepted' && send.messageId) {
      return { ok: true, messageId: send.messageId, status: send.status ?? 'queued' };
    }
    if (send?.state === 'failed') {
      return {
        ok: false,
        failure: { code: 'send-failed', failure: send.failure ?? { code: 'UNREACHABLE' }, deviceName: send.deviceName },
      };
    }
    return undefined;
  }
}
