import type { BackgroundWork } from './background.js';
import { type DeliveryEvent, type InboxEntry, type MessageEvent, withDeliveryEvent } from './delivery-events.js';
import type { ReplyMode } from './delivery-status.js';
import type { DeviceHealth } from './device-health.js';
import type { MessageSync } from './message-sync.js';
import { PARKED_EVENTS_CAP, ParkingLot } from './parking.js';
import { PendingIndex } from './pending-index.js';
import type { Clock, Logger, Store } from './ports.js';
import { type SendRecord, sendKey, syncTargetOf } from './send-record.js';
import { messageIdKey, PENDING_LISTS, webhookKey } from './store-keys.js';
import type { Telemetry } from './telemetry.js';

/** WAPing redelivers for days: ids are remembered for longer than that. */
const WEBHOOK_ID_TTL_MS = 8 * 24 * 60 * 60 * 1000;

export type { DeliveryEvent } from './delivery-events.js';
export { PARK_MS, PARKED_EVENTS_CAP } from './parking.js';

/**
 * Delivery webhooks: each is recorded durably before WAPing gets its 2xx (and deduplicated on its id, atomically
 * across replicas), then applied to its send under the status policy; the Slack message catches up through MessageSync.
 *
 * An event for a message id we do not know (it outran WAPing's answer to our send, or the message was sent
 * by another tool on the same WAPing account) leaves the inbox and is parked under that message id, so that
 * the sweep's cost does not grow with them: it is applied when the message becomes known, expires after
 * PARK_MS, and the oldest is dropped once more than the cap are parked.
 */
export class DeliveryService {
  private readonly inbox: PendingIndex;
  private readonly parking: ParkingLot;
  /** Entries this process recorded and has not applied yet: their first apply need not read them back. */
  private readonly recorded = new Map<string, InboxEntry>();

  constructor(
    private readonly deps: {
      store: Store;
      sync: MessageSync;
      /** The services' background work: events applied after the 2xx, tracked for shutdown. */
      background: BackgroundWork;
      health: Pick<DeviceHealth, 'report'>;
      clock: Clock;
      logger: Logger;
      /** Which status changes get a thread reply in a channel. */
      replyMode: (channelId: string) => ReplyMode;
      /** How many events may be parked at once per deployment; PARKED_EVENTS_CAP unless a test says less. */
      parkedEventsCap?: number;
      telemetry?: Telemetry;
    },
  ) {
    this.inbox = new PendingIndex(deps.store, PENDING_LISTS.webhookInbox, deps.clock);
    const cap = Math.max(1, Math.floor(deps.parkedEventsCap ?? PARKED_EVENTS_CAP));
    this.parking = new ParkingLot({ ...deps, cap });
  }

  /** Parked events this process dropped because more than the cap were parked (a counter, for metrics). */
  get parkedEventsDropped(): number {
    return this.parking.droppedCount;
  }

  /**
   * Record a verified event under its webhook id. 'duplicate' when that id was recorded before.
   * Throws when the store cannot be written: the caller must then answer non-2xx so WAPing redelivers.
   */
  async record(webhookId: string, event: DeliveryEvent): Promise<'recorded' | 'duplicate'> {
    // The claim and the inbox entry in one atomic step and round trip: all that must be durable before the 2xx.
    const entry: InboxEntry = { id: webhookId, event, state: 'received', receivedAt: this.deps.clock.now() };
    const recorded = { key: webhookKey(webhookId), value: entry, ttlMs: WEBHOOK_ID_TTL_MS };
    const claim = await this.inbox.addClaiming(webhookId, [recorded]);
    if (claim.claimed) this.recorded.set(webhookId, entry);
    return claim.claimed ? 'recorded' : 'duplicate';
  }

  /** Apply a recorded event in the background, tracked for shutdown. */
  applyInBackground(webhookId: string): void {
    const apply = () => this.apply(webhookId);
    const failed = 'applying a webhook failed; the sweep will retry';
    // Already being applied here (a sweep got to it first): that run read it from the store, so forget our copy.
    if (!this.deps.background.runOnce(webhookId, apply, { webhookId }, failed)) this.recorded.delete(webhookId);
  }

  /** Apply one recorded event; safe to repeat. */
  async apply(webhookId: string): Promise<void> {
    const { store } = this.deps;
    const fresh = this.recorded.get(webhookId);
    this.recorded.delete(webhookId);
    const entry = fresh ?? (await store.get<InboxEntry>(webhookKey(webhookId)));
    if (!entry) return this.inbox.recordMissing(webhookId); // not written yet, or expired while parked
    this.inbox.recordFound(webhookId);
    if (entry.state === 'applied' || entry.state === 'dropped' || this.parking.expired(entry))
      return this.inbox.remove(webhookId);
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
    const key = await store.get<string>(messageIdKey(event.messageId));
    if (!key) return this.park(entry, event.messageId);
    // Events parked for this message before this one came first: apply them before it. This one may be parked
    // too: an event parked just as the send settled applies itself, and must not overtake those before it.
    await this.applyParked(event.messageId, webhookId);
    const send = await this.applyToSend(key, webhookId, event);
    await this.settle(entry);
    if (send) await this.deps.sync.sync(syncTargetOf(send), { marked: true }); // applyToSend marked it
  }

  /** Apply the events parked before WAPing's message id was saved, in the order they were parked. */
  async onMessageKnown(messageId: string): Promise<void> {
    if ((await this.applyParked(messageId)) > 0) await this.parking.clear(messageId);
  }

  /** Apply a message's parked events in order, up to `before` (all when it is not among them); returns how many. */
  private async applyParked(messageId: string, before?: string): Promise<number> {
    const ids = await this.parking.idsOf(messageId);
    for (const id of ids) {
      if (id === before) break;
      await this.apply(id);
    }
    return ids.length;
  }

  /** Re-apply whatever the inbox still holds (after a crash, or a store outage); returns how many. */
  async resumeInbox(): Promise<number> {
    const ids = await this.inbox.list();
    for (const id of ids) this.applyInBackground(id);
    return ids.length;
  }

  /**
   * Take an event for an unknown message out of the inbox and park it under the message id. Each step is
   * safe to repeat, so a crash part way leaves it in the inbox for the sweep to park again.
   */
  private async park(entry: InboxEntry, messageId: string): Promise<void> {
    const parked = await this.parking.park(entry, messageId);
    if (!parked) return this.inbox.remove(entry.id); // applied, dropped or gone meanwhile (another replica was first)
    this.deps.logger.debug({ webhookId: entry.id, messageId }, 'parked a webhook event for an unknown message');
    // The send may have been saved after onMessageKnown read the parked ids: then nobody else applies this one. The
    // look-up and leaving the inbox do not depend on each other: side by side, one round trip.
    const [known] = await Promise.all([
      this.deps.store.get<string>(messageIdKey(messageId)),
      this.inbox.remove(entry.id),
    ]);
    if (known) await this.apply(entry.id);
  }

  private async applyToSend(key: string, webhookId: string, event: MessageEvent) {
    const mode = this.deps.replyMode;
    const current = await this.deps.store.get<SendRecord>(sendKey(key));
    if (current) await this.deps.sync.markBehind(syncTargetOf(current));
    return this.deps.store.update<SendRecord>(sendKey(key), (send) =>
      send ? withDeliveryEvent(send, webhookId, event, mode(send.channelId)) : undefined,
    );
  }

  private async settle(entry: InboxEntry): Promise<void> {
    // Independent writes, side by side: an applied entry left in the inbox (a crash) is taken off by the sweep.
    await Promise.all([
      this.deps.store.set(webhookKey(entry.id), { ...entry, state: 'applied' }, WEBHOOK_ID_TTL_MS),
      this.inbox.remove(entry.id),
    ]);
  }
}
