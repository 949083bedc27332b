import { BackgroundWork } from './background.js';
import { nextStatus, type ReplyMode, wantsReply } from './delivery-status.js';
import type { DeviceHealth } from './device-health.js';
import type { MessageSync } from './message-sync.js';
import { PendingIndex } from './pending-index.js';
import type { Clock, Logger, Store } from './ports.js';
import { type DeliveryStatus, type SendRecord, sendKey, syncUnitOf } from './send-record.js';

/** A verified WAPing webhook, in the core's terms (no phone numbers: the core does not need them). */
export type DeliveryEvent =
  | {
      kind: 'message';
      messageId: string;
      status: DeliveryStatus;
      /** When WAPing saw it (ms). */
      at: number;
      error?: { code: string; message: string };
    }
  | { kind: 'session'; deviceId: string; connected: boolean; at: number; reason?: string };

interface InboxEntry {
  id: string;
  event: DeliveryEvent;
  state: 'received' | 'waiting' | 'applied';
  receivedAt: number;
}

/** Ids of webhooks recorded but not yet applied; what the sweep resumes after a crash. */
const INBOX_KEY = 'webhooks:inbox';
/** WAPing redelivers for days: ids are remembered for longer than that. */
const WEBHOOK_ID_TTL_MS = 8 * 24 * 60 * 60 * 1000;
/** An event for a message we have no record of waits this long for the record, then expires quietly. */
const WAITING_TTL_MS = 24 * 60 * 60 * 1000;
const APPLIED_EVENTS_KEPT = 200;

/** Plain words for WhatsApp delivery failures. */
function failureReason(error?: { code: string; message: string }): string {
  if (!error) return 'WhatsApp could not deliver the message.';
  const words = (error.message || error.code).slice(0, 200); // shown in Slack only, never logged
  return `WhatsApp could not deliver the message: ${words} (${error.code}).`;
}

/**
 * Delivery webhooks: each is recorded durably before WAPing gets its 2xx (and deduplicated on its
 * id, atomically across replicas), then applied to its send under the status policy, and the
 * Slack message catches up through MessageSync.
 */
export class DeliveryService {
  private readonly background: BackgroundWork;
  private readonly inbox: PendingIndex;

  constructor(
    private readonly deps: {
      store: Store;
      sync: MessageSync;
      health: Pick<DeviceHealth, 'report'>;
      clock: Clock;
      logger: Logger;
      /** Which status changes get a thread reply in a channel. */
      replyMode: (channelId: string) => ReplyMode;
    },
  ) {
    this.background = new BackgroundWork(deps.logger);
    this.inbox = new PendingIndex(deps.store, INBOX_KEY, deps.clock);
  }

  /**
   * Record a verified event under its webhook id. 'duplicate' when that id was recorded before.
   * Throws when the store cannot be written: the caller must then answer non-2xx so WAPing redelivers.
   */
  async record(webhookId: string, event: DeliveryEvent): Promise<'recorded' | 'duplicate'> {
    const { store, clock } = this.deps;
    // Into the inbox first, so a crash between the two writes leaves nothing unswept.
    await this.inbox.add(webhookId);
    const entry: InboxEntry = { id: webhookId, event, state: 'received', receivedAt: clock.now() };
    const claim = await store.claim(`webhook:${webhookId}`, entry, WEBHOOK_ID_TTL_MS);
    return claim.claimed ? 'recorded' : 'duplicate';
  }

  /** Apply a recorded event in the background, tracked for shutdown. */
  applyInBackground(webhookId: string): void {
    this.background.run(() => this.apply(webhookId), { webhookId }, 'applying a webhook failed; the sweep will retry');
  }

  async idle(): Promise<void> {
    await this.background.idle();
  }

  /** Apply one recorded event; safe to repeat. */
  async apply(webhookId: string): Promise<void> {
    const { store } = this.deps;
    const entry = await store.get<InboxEntry>(`webhook:${webhookId}`);
    if (!entry) return this.inbox.recordMissing(webhookId); // not written yet, or expired while waiting
    this.inbox.recordFound(webhookId);
    if (entry.state === 'applied') return this.inbox.remove(webhookId);
    const { event } = entry;
    if (event.kind === 'session') {
      await this.deps.health.report(event.deviceId, {
        connected: event.connected,
        at: event.at,
        reason: event.reason,
        source: 'webhook',
      });
      return this.settle(entry);
    }
    const key = await store.get<string>(`message:${event.messageId}`);
    if (!key) {
      // The webhook outran our own write of the send: keep it until the record appears, or expire.
      await store.update<string[]>(
        `waiting:${event.messageId}`,
        (ids = []) => (ids.includes(webhookId) ? undefined : [...ids, webhookId]),
        WAITING_TTL_MS,
      );
      if (entry.state === 'received')
        await store.set(`webhook:${webhookId}`, { ...entry, state: 'waiting' }, WAITING_TTL_MS);
      if (!(await store.get<string>(`message:${event.messageId}`))) return;
      return this.apply(webhookId);
    }
    const send = await this.applyToSend(key, webhookId, event);
    await this.settle(entry);
    if (send) await this.deps.sync.sync(syncUnitOf(send));
  }

  /** Apply the events that arrived before WAPing's message id was saved. */
  async onMessageKnown(messageId: string): Promise<void> {
    const ids = (await this.deps.store.get<string[]>(`waiting:${messageId}`)) ?? [];
    for (const id of ids) await this.apply(id);
    if (ids.length > 0) await this.deps.store.delete(`waiting:${messageId}`);
  }

  /** Re-apply whatever the inbox still holds (after a crash, or a store outage); returns how many. */
  async resumeInbox(): Promise<number> {
    const ids = await this.inbox.list();
    for (const id of ids) this.applyInBackground(id);
    return ids.length;
  }

  private async applyToSend(key: string, webhookId: string, event: Extract<DeliveryEvent, { kind: 'message' }>) {
    const mode = this.deps.replyMode;
    const current = await this.deps.store.get<SendRecord>(sendKey(key));
    if (current) await this.deps.sync.markBehind(syncUnitOf(current));
    return this.deps.store.update<SendRecord>(sendKey(key), (send) => {
      if (!send || send.appliedEvents.includes(webhookId)) return undefined;
      const appliedEvents = [...send.appliedEvents, webhookId].slice(-APPLIED_EVENTS_KEPT);
      const status = nextStatus(send.status, event.status);
      if (!status) return { ...send, appliedEvents };
      return {
        ...send,
        appliedEvents,
        status,
        timeline: [...send.timeline, { status, at: event.at }],
        deliveryFailure:
          status === 'failed' ? { code: event.error?.code ?? 'FAILED', reason: failureReason(event.error) } : undefined,
        replies: wantsReply(mode(send.channelId), status)
          ? [...send.replies, { status, at: event.at, posted: false }]
          : send.replies,
        version: send.version + 1,
      };
    });
  }

  private async settle(entry: InboxEntry): Promise<void> {
    await this.deps.store.set(`webhook:${entry.id}`, { ...entry, state: 'applied' }, WEBHOOK_ID_TTL_MS);
    await this.inbox.remove(entry.id);
  }
}
