import type { InboxEntry, ParkingSlot } from './delivery-events.js';
import type { Clock, Logger, Store } from './ports.js';
import { PARKING_TICKET_KEY, parkedKey, parkingSlotKey, webhookKey } from './store-keys.js';
import type { Telemetry } from './telemetry.js';

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

/**
 * Where delivery webhook events for unknown message ids wait (see DeliveryService): under their message id, in the
 * order they were parked, each holding a place in a ring of `cap` places shared by every replica. Taking a place
 * drops the event that held it before, if it is still parked: the oldest goes first once more than `cap` wait.
 */
export class ParkingLot {
  private dropped = 0;

  constructor(
    private readonly deps: { store: Store; clock: Clock; logger: Logger; cap: number; telemetry?: Telemetry },
  ) {}

  /** Parked events this process dropped because more than the cap were parked (a counter, for metrics). */
  get droppedCount(): number {
    return this.dropped;
  }

  /**
   * Park `entry` under `messageId`: mark it parked, take its place in the ring, list it under the message. Each
   * step is safe to repeat. Returns false when it was applied, dropped or gone meanwhile (nothing left to park).
   */
  async park(entry: InboxEntry, messageId: string): Promise<boolean> {
    const { store, clock } = this.deps;
    const { id } = entry;
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
      if (after?.state !== 'parked') return false;
      // The place in the ring and the message's list are independent: written side by side (one round trip).
      const place = after.parked?.ticket === ticket ? this.takePlace({ ticket, webhookId: id, messageId }) : undefined;
      await Promise.all([place, this.list(id, messageId)]);
      return true;
    }
    await this.list(id, messageId);
    return true;
  }

  /** List `id` under `messageId`. Most messages get one event parked: a new list is one claim; one that exists changes. */
  private async list(id: string, messageId: string): Promise<void> {
    const { store } = this.deps;
    const list = await store.claim(parkedKey(messageId), [id], PARK_MS);
    if (!list.claimed && !list.value.includes(id))
      await store.update<string[]>(
        parkedKey(messageId),
        (ids = []) => (ids.includes(id) ? undefined : [...ids, id]),
        PARK_MS,
      );
  }

  /** The events parked for `messageId`, in the order they were parked. */
  async idsOf(messageId: string): Promise<string[]> {
    return (await this.deps.store.get<string[]>(parkedKey(messageId))) ?? [];
  }

  /** The events parked for `messageId` were applied: forget the list. */
  async clear(messageId: string): Promise<void> {
    await this.deps.store.delete(parkedKey(messageId));
  }

  /** A parked event whose message did not become known in time. */
  expired(entry: InboxEntry): boolean {
    return entry.state === 'parked' && entry.parked !== undefined && this.deps.clock.now() - entry.parked.at >= PARK_MS;
  }

  /** Put a parked event in its place of the ring; whoever held that place before is dropped, if still parked. */
  private async takePlace(slot: ParkingSlot): Promise<void> {
    const key = parkingSlotKey(slot.ticket % this.deps.cap);
    // A free place is taken with one claim; a place held before is compared and changed.
    const free = await this.deps.store.claim(key, slot, PARK_MS);
    if (free.claimed) return;
    let previous: ParkingSlot | undefined;
    await this.deps.store.update<ParkingSlot>(
      key,
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
        cap: this.deps.cap,
        parkedEventsDropped: this.dropped,
      },
      'dropped the oldest parked webhook event: more events for unknown messages are parked than the cap',
    );
  }
}
