import { BackgroundWork } from './background.js';
import { PendingIndex } from './pending-index.js';
import { SendDelivery, type SendDeps } from './send-delivery.js';
import { type SendRecord, sendKey } from './send-record.js';
import { newSendRecord, type SendDraft, SendRecords } from './send-records.js';
import { PENDING_LISTS, RECORD_TTL_MS } from './store-keys.js';
import { claimSubmission, type SubmissionClaim, submissionClaim } from './submissions.js';

export { defaultSendPolicy, type SendPolicy } from './send-policy.js';
export type { SendDraft } from './send-records.js';

export type SendRequestOutcome = { accepted: true; send: SendRecord } | { accepted: false; send: SendRecord };

/**
 * Sends a WhatsApp message exactly once per idempotency key.
 *
 * 1. `request` claims the key atomically and persists the exact request body (the outbox record)
 *    before the Slack interaction is acknowledged: a second claim of the same key sends nothing.
 * 2. `deliver` owns the send under a lease, posts the parent message and calls WAPing with the same
 *    key and body on every attempt, backing off on network errors, timeouts, 5xx and 429.
 * 3. `resumeStale` picks up sends whose owner died or gave up for now, once their lease ran out.
 */
export class SendService {
  private readonly background: BackgroundWork;
  private readonly delivering = new Set<string>();
  private readonly outbox: PendingIndex;
  private readonly records: SendRecords;
  private readonly delivery: SendDelivery;

  constructor(private readonly deps: SendDeps) {
    this.background = new BackgroundWork(deps.logger);
    this.outbox = new PendingIndex(deps.store, PENDING_LISTS.outbox, deps.clock);
    this.records = new SendRecords(deps);
    this.delivery = new SendDelivery(deps, this.records, this.outbox);
  }

  /** Claim the key and persist the outbox record. A key claimed before is reported, never sent again. */
  async request(draft: SendDraft): Promise<SendRequestOutcome> {
    const { store } = this.deps;
    const record = this.newRecord(draft);
    // Into the outbox first: a crash between these two writes leaves a dangling outbox entry, which
    // the sweep drops, rather than a claimed send that nobody would ever resume.
    await this.outbox.add(draft.key);
    const claim = await store.claim(sendKey(draft.key), record, RECORD_TTL_MS);
    this.deps.logger.info(
      { sendKey: draft.key, accepted: claim.claimed },
      claim.claimed ? 'send claimed' : 'duplicate send request',
    );
    return { accepted: claim.claimed, send: claim.value };
  }

  /**
   * A form's single send: the form's claim, the outbox entry and the send's claim in one atomic step and one round
   * trip, so the form is answered sooner. A resubmission finds the claims there and goes the way of one claim at a
   * time: `claimSubmission` ('different' is refused), then `request` (reports the duplicate, repairs a lost outbox id).
   */
  async requestForForm(
    teamId: string,
    formId: string,
    asked: object,
    draft: SendDraft,
  ): Promise<SendRequestOutcome | 'different'> {
    const record = this.newRecord(draft);
    const claims = await this.outbox.addClaiming(draft.key, [
      submissionClaim(teamId, formId, asked),
      { key: sendKey(draft.key), value: record, ttlMs: RECORD_TTL_MS },
    ]);
    if (claims.claimed) {
      this.deps.logger.info({ sendKey: draft.key, accepted: true }, 'send claimed');
      return { accepted: true, send: record };
    }
    if ((await this.claimSubmission(teamId, formId, asked)) === 'different') return 'different';
    return this.request(draft);
  }

  private newRecord(draft: SendDraft): SendRecord {
    const { waping, clock, instanceId, policy } = this.deps;
    const now = clock.now();
    const body = waping.textBody({ deviceId: draft.deviceId, to: draft.to, text: draft.text });
    return newSendRecord(draft, body, { now, owner: instanceId, leaseUntil: now + policy.leaseMs });
  }

  /** The form's claim (see claimSubmission): a resubmission asking for something else is refused. */
  claimSubmission(teamId: string, viewId: string, asked: object): Promise<SubmissionClaim> {
    return claimSubmission(this.deps.store, teamId, viewId, asked);
  }

  /** Run `deliver` in the background, tracked so that shutdown can wait for it. */
  deliverInBackground(key: string): void {
    this.background.run(() => this.deliver(key), { sendKey: key }, 'send delivery crashed; the sweep will resume it');
  }

  /** Wait for background deliveries (graceful shutdown, tests). */
  async idle(): Promise<void> {
    await this.background.idle();
  }

  /** A Retry took over `key`'s Slack message: the old send stops rendering it. */
  async supersede(key: string, by: string): Promise<void> {
    await this.records.change(key, (s) => (s.supersededBy ? undefined : { ...s, supersededBy: by }));
  }

  /** Read a send by key. */
  get(key: string): Promise<SendRecord | undefined> {
    return this.records.get(key);
  }

  /**
   * Work on a send this process owns (or whose lease ran out) until WAPing answers for good, or the
   * attempts of this run are spent. Safe to call for any key at any time: it does nothing to a send
   * that is finished or owned by a live replica.
   */
  async deliver(key: string): Promise<SendRecord | undefined> {
    // This process may already be working on the key (its sweep found the lease run out while a slow
    // Slack call held it up): one delivery per process at a time, replicas are kept apart by the lease.
    if (this.delivering.has(key)) return this.get(key);
    this.delivering.add(key);
    try {
      return await this.delivery.run(key);
    } finally {
      this.delivering.delete(key);
    }
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
