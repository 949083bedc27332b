import type { BackgroundWork } from './background.js';
import {
  type DeliveryEvent,
  type InboxEntry,
  type MessageEvent,
  type ParkingSlot,
  withDeliveryEvent,
} from './delivery-events.js';
import type { ReplyMode } from './delivery-status.js';
import type { DeviceHealth } from './device-health.js';
import type { MessageSync } from './message-sync.js';
import { PendingIndex } from './pending-index.js';
import type { Clock, Logger, Store } from './ports.js';
import { type SendRecord, sendKey, syncTargetOf } from './send-record.js';
import {
  messageIdKey,
  PARKING_TICKET_KEY,
  PENDING_LISTS,
  parkedKey,
  parkingSlotKey,
  webhookKey,
} from './store-keys.js';
import type { Telemetry } from './telemetry.js';

/** WAPing redelivers for days: ids are remembered for longer than that. */
const WEBHOOK_ID_TTL_MS = 8 * 24 * 60 * 60 * 1000;
/**
 * An event for a message we have no record of is parked this long for the record to appear, then expires
 * quietly. Our own sends are known within seconds (the event only outran WAPing's answer, or a crash delayed
 * it to the next sweep); a day is far more than that, and short enough that a shared WAPing account's events
 * for other tools' messages do not pile up.
 */
export const PARK_MS = 24 * 60 * 60 * 1000;
/**
 * At most this many events are parked per deployment (a ring of that many places, shared by every replica);
 * the oldest is dropped first. 10,000 is a day of a busy shared account's foreign events (~7 a minute) at
 * ~1 KB each in the store, and far more than our own events can ever be waiting at once.
 */
export const PARKED_EVENTS_CAP = 10_000;

export type { DeliveryEvent } from './delivery-events.js';

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
  private readonly parkingCap: number;
  private dropped = 0;

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
    this.parkingCap = Math.max(1, Math.floor(deps.parkedEventsCap ?? PARKED_EVENTS_CAP));
  }

  /** Parked events this process dropped because more than the cap were parked (a counter, for metrics). */
  get parkedEventsDropped(): number {
    return this.dropped;
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
    return claim.claimed ? 'recorded' : 'duplicate';
  }

  /** Apply a recorded event in the background, tracked for shutdown. */
  applyInBackground(webhookId: string): void {
    const apply = () => this.apply(webhookId);
    this.deps.background.runOnce(webhookId, apply, { webhookId }, 'applying a webhook failed; the sweep will retry');
  }

  /** Apply one recorded event; safe to repeat. */
  async apply(webhookId: string): Promise<void> {
    const { store } = this.deps;
    const entry = await store.get<InboxEntry>(webhookKey(webhookId));
    if (!entry) return this.inbox.recordMissing(webhookId); // not written yet, or expired while parked
    this.inbox.recordFound(webhookId);
    if (entry.state === 'applied' || entry.state === 'dropped' || this.expired(entry))
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
    if (send) await this.deps.sync.sync(syncTargetOf(send));
  }

  /** Apply the events parked before WAPing's message id was saved, in the order they were parked. */
  async onMessageKnown(messageId: string): Promise<void> {
    if ((await this.applyParked(messageId)) > 0) await this.deps.store.delete(parkedKey(messageId));
  }

  /** Apply a message's parked events in order, up to `before` (all when it is not among them); returns how many. */
  private async applyParked(messageId: string, before?: string): Promise<number> {
    const ids = (await this.deps.store.get<string[]>(parkedKey(messageId))) ?? [];
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
    const { store, clock } = this.deps;
    const { id } = entry;
    let parked = entry;
    if (entry.state !== 'parked') {
      const ticket = await store.increment(PARKING_TICKET_KEY); // one INCR on Redis: every park writes this key
      const after = await store.update<InboxEntry>(
        webhookKey(id),
        (e) =>
          e && (e.state === 'received' || e.state === 'waiting')
            ? { ...e, state: 'parked', parked: { at: clock.now(), ticket } }
            : undefined,
        PARK_MS,
      );
      // Applied, dropped or gone meanwhile (another replica got there first): nothing left to park.
      if (after?.state !== 'parked') return this.inbox.remove(id);
      parked = after;
      if (after.parked?.ticket === ticket) await this.takePlace({ ticket, webhookId: id, messageId });
    }
    await store.update<string[]>(
      parkedKey(messageId),
      (ids = []) => (ids.includes(id) ? undefined : [...ids, id]),
      PARK_MS,
    );
    await this.inbox.remove(id);
    this.deps.logger.debug(
      { webhookId: id, messageId, ticket: parked.parked?.ticket },
      'parked a webhook event for an unknown message',
    );
    // The send may have been saved after onMessageKnown read the parked ids: then nobody else applies this one.
    if (await store.get<string>(messageIdKey(messageId))) await this.apply(id);
  }

  /** Put a parked event in its place of the ring; whoever held that place before is dropped, if still parked. */
  private async takePlace(slot: ParkingSlot): Promise<void> {
    let previous: ParkingSlot | undefined;
    await this.deps.store.update<ParkingSlot>(
      parkingSlotKey(slot.ticket % this.parkingCap),
      (current) => {
        previous = current; // the last run is the one that wrote
        return current && current.ticket >= slot.ticket ? undefined : slot;
      },
      PARK_MS,
    );
    if (previous && previous.ticket < slot.ticket) await this.drop(previous);
  }

  /** Drop the event of a place in the ring, unless it was applied, dropped or expired meanwhile. */
  private async drop(slot: ParkingSlot): Promise<void> {
    const { store, clock, logger } = this.deps;
    let parkedAt: number | undefined;
    await store.update<InboxEntry>(webhookKey(slot.webhookId), (e) => {
      parkedAt = undefined;
      if (e?.state !== 'parked' || e.parked?.ticket !== slot.ticket || this.expired(e)) return undefined;
      parkedAt = e.parked.at;
      return { ...e, state: 'dropped' };
    });
    if (parkedAt === undefined) return;
    await store.update<string[]>(parkedKey(slot.messageId), (ids) =>
      ids?.includes(slot.webhookId) ? ids.filter((i) => i !== slot.webhookId) : undefined,
    );
    this.dropped++;
    this.deps.telemetry?.parkedEventDropped();
    logger.warn(
      {
        webhookId: slot.webhookId,
        messageId: slot.messageId,
        parkedForMs: clock.now() - parkedAt,
        cap: this.parkingCap,
        parkedEventsDropped: this.dropped,
      },
      'dropped the oldest parked webhook event: more events for unknown messages are parked than the cap',
    );
  }

  /** A parked event whose message did not become known in time. */
  private expired(entry: InboxEntry): boolean {
    return entry.state === 'parked' && entry.parked !== undefined && this.deps.clock.now() - entry.parked.at >= PARK_MS;
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
    await this.deps.store.set(webhookKey(entry.id), { ...entry, state: 'applied' }, WEBHOOK_ID_TTL_MS);
    await this.inbox.remove(entry.id);
  }
}
