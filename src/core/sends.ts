import { PendingIndex } from './pending-index.js';
import { type SendClaim, SendDelivery, type SendDeps } from './send-delivery.js';
import type { SendRecord } from './send-record.js';
import { type SendDraft, SendRecords } from './send-records.js';
import { PENDING_LISTS } from './store-keys.js';

export type { SendClaim } from './send-delivery.js';
export { defaultSendPolicy, type SendPolicy } from './send-policy.js';
export type { SendDraft } from './send-records.js';

/**
 * The sends of this bot, exactly once per idempotency key: the delivery engine (`delivery`, core/send-delivery.ts)
 * claims and delivers them; this adds what works on many sends at once, for the sweep and for monitoring (resume
 * those whose lease ran out, the backlog) and a Retry's takeover of a message.
 *
 * 1. `request` (the engine's `claim`) claims the key atomically and persists the exact request body (the outbox
 *    record) before the Slack interaction is acknowledged: a second claim of the same key sends nothing.
 * 2. `deliver` owns the send under a lease, posts the parent message and calls WAPing with the same
 *    key and body on every attempt, backing off on network errors, timeouts, 5xx and 429.
 * 3. `resumeStale` picks up sends whose owner died or gave up for now, once their lease ran out.
 */
export class SendService {
  /** The delivery engine, which the send use case (core/send-requests.ts) calls directly. */
  readonly delivery: SendDelivery;
  private readonly outbox: PendingIndex;
  private readonly records: SendRecords;

  constructor(private readonly deps: SendDeps) {
    this.outbox = new PendingIndex(deps.store, PENDING_LISTS.outbox, deps.clock);
    this.records = new SendRecords(deps);
    this.delivery = new SendDelivery(deps, this.records, this.outbox);
  }

  /** Claim the key and persist the outbox record. A key claimed before is reported, never sent again. */
  request(draft: SendDraft): Promise<SendClaim> {
    return this.delivery.claim(draft);
  }

  /** Deliver in the background, tracked so that shutdown can wait for it (`claimed`: see SendDelivery.start). */
  deliverInBackground(key: string, claimed?: SendRecord): void {
    this.delivery.start(key, claimed);
  }

  /** A Retry took over `key`'s Slack message: the old send stops rendering it. */
  async supersede(key: string, by: string): Promise<void> {
    await this.records.change(key, (s) => (s.supersededBy ? undefined : { ...s, supersededBy: by }));
  }

  /** Read a send by key. */
  get(key: string): Promise<SendRecord | undefined> {
    return this.records.get(key);
  }

  /** Deliver now (see SendDelivery.deliver): does nothing to a send that is finished or owned by a live replica. */
  deliver(key: string): Promise<SendRecord | undefined> {
    return this.delivery.deliver(key);
  }

  /** Resume every pending send whose lease ran out; returns how many this replica took over. */
  async resumeStale(): Promise<number> {
    const { clock } = this.deps;
    let resumed = 0;
    for await (const [key, send] of this.outbox.withRecords((k) => this.get(k))) {
      if (send.state !== 'pending') {
        await this.outbox.remove(key);
        continue;
      }
      if (send.leaseUntil > clock.now()) continue;
      resumed++;
      this.deliverInBackground(key);
    }
    return resumed;
  }

  /**
   * The outbox at a glance, for monitoring: how many sends WAPing has not answered for good, and when
   * the oldest was claimed. Reads the list and at most `scanLimit` records from its head: ids are
   * appended as sends are claimed, so the oldest pending send is among the first still pending.
   */
  async backlog(scanLimit = 20): Promise<{ pending: number; oldestCreatedAt?: number }> {
    const keys = await this.outbox.list();
    for (const key of keys.slice(0, scanLimit)) {
      const send = await this.get(key);
      if (send?.state === 'pending') return { pending: keys.length, oldestCreatedAt: send.createdAt };
    }
    return { pending: keys.length };
  }
}
