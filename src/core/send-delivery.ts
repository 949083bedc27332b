import type { BackgroundWork } from './background.js';
import { backoffDelayMs } from './backoff.js';
import { type MediaLinks, mediaOf } from './media-links.js';
import type { MessageSync } from './message-sync.js';
import type { PendingIndex } from './pending-index.js';
import type { ClaimRequest, Clock, Logger, SendNotifier, Store, WapingPort } from './ports.js';
import type { SendPolicy } from './send-policy.js';
import { type SendFailure, type SendRecord, sendKey, syncTargetOf } from './send-record.js';
import { newSendRecord, type SendDraft, type SendRecords } from './send-records.js';
import { messageIdKey, RECORD_TTL_MS } from './store-keys.js';
import { noTelemetry, type Telemetry } from './telemetry.js';

/** What a claim found: the send it created (`accepted`), or the one claimed under the key before. */
export type SendClaim = { accepted: boolean; send: SendRecord };

/** What sends are made with. */
export interface SendDeps {
  store: Store;
  waping: WapingPort;
  notifier: SendNotifier;
  /** Keeps the Slack message in step with the record. */
  sync: MessageSync;
  /** The services' background work: deliveries started after the ack, tracked for shutdown. */
  background: BackgroundWork;
  clock: Clock;
  logger: Logger;
  /** Identifies this process as a lease owner. */
  instanceId: string;
  policy: SendPolicy;
  /** Told what a send proved about its device's session: refused as disconnected, or working. */
  onDeviceSession?: (deviceId: string, connected: boolean) => Promise<void>;
  /** Told once WAPing's message id is saved (with the send), so status webhooks that arrived first can be applied. */
  onMessageKnown?: (messageId: string, send: SendRecord) => Promise<void>;
  /**
   * Told, without waiting, of every send this process claimed, grouped or not (the same-text warning notes it, and a
   * send outside any group goes to its requester's Home).
   */
  onSendClaimed?: (send: SendRecord) => void;
  /** Told of each send this process settled for good (a workflow step waiting for it ends). */
  onSettled?: (send: SendRecord) => Promise<void>;
  /** Counts settled sends. */
  telemetry?: Telemetry;
  /** Where the bot serves attached files to WAPing (`<publicUrl>/media/<token>`), and the secret of the tokens. */
  mediaLinks?: MediaLinks;
}

/**
 * The delivery engine. `claim` persists a send (the outbox record: the exact body WAPing will get) under its key,
 * once; `start` works on it in the background: under the send's lease, post its parent message, then call WAPing
 * with the same key and body on every attempt, backing off on network errors, timeouts, 5xx and 429, and settle it
 * for good (accepted or failed) or hand it to the sweep for later.
 */
export class SendDelivery {
  /** Keys this process is working on now: one run per key and process (replicas are kept apart by the lease). */
  private readonly delivering = new Set<string>();

  constructor(
    private readonly deps: SendDeps,
    private readonly records: SendRecords,
    /** The sends WAPing has not answered for good yet. */
    private readonly outbox: PendingIndex,
  ) {}

  /**
   * Claim the key and persist the outbox record, with any `alongside` claims (a form's own claim), all in one store
   * round trip. A key claimed before is reported, never sent again. When `alongside` is given and anything was
   * claimed before, nothing is written: `send` is then undefined unless the send itself existed.
   */
  async claim(draft: SendDraft): Promise<SendClaim>;
  async claim(
    draft: SendDraft,
    alongside: readonly ClaimRequest[],
  ): Promise<SendClaim | { accepted: false; send?: SendRecord }>;
  async claim(
    draft: SendDraft,
    alongside: readonly ClaimRequest[] = [],
  ): Promise<SendClaim | { accepted: false; send?: SendRecord }> {
    const { waping, clock, instanceId, policy } = this.deps;
    const now = clock.now();
    const media = mediaOf(draft, this.deps.mediaLinks, now);
    const body = media
      ? waping.mediaBody({ deviceId: draft.deviceId, to: draft.to, ...media.message })
      : waping.textBody({ deviceId: draft.deviceId, to: draft.to, text: draft.text });
    const record = newSendRecord(draft, body, { now, owner: instanceId, leaseUntil: now + policy.leaseMs });
    // The record, its outbox entry, its file's link and the claims alongside are written together or not at all.
    const claims = await this.outbox.addClaiming(draft.key, [
      ...alongside,
      ...(media?.served ? [media.served] : []),
      { key: sendKey(draft.key), value: record, ttlMs: RECORD_TTL_MS },
    ]);
    const accepted = claims.claimed;
    const send = claims.claimed ? record : (claims.values.at(-1) as SendRecord | undefined);
    this.deps.logger.info({ sendKey: draft.key, accepted }, accepted ? 'send claimed' : 'duplicate send request');
    if (accepted) this.deps.onSendClaimed?.(record);
    if (!accepted && !send) return { accepted: false };
    return { accepted, send: send as SendRecord };
  }

  /**
   * Run `deliver` in the background, tracked so that shutdown can wait for it. `claimed`: the record this process
   * has just claimed for `key`, when it has, which holds the lease already (see `deliver`).
   */
  start(key: string, claimed?: SendRecord): void {
    const crashed = 'send delivery crashed; the sweep will resume it';
    this.deps.background.run(() => this.deliver(key, claimed), { sendKey: key }, crashed);
  }

  /**
   * Work on a send this process owns (or whose lease ran out) until WAPing answers for good, or the
   * attempts of this run are spent. Safe to call for any key at any time: it does nothing to a send
   * that is finished or owned by a live replica.
   */
  async deliver(key: string, claimed?: SendRecord): Promise<SendRecord | undefined> {
    // This process may already be working on the key (its sweep found the lease run out while a slow
    // Slack call held it up): one delivery per process at a time, replicas are kept apart by the lease.
    if (this.delivering.has(key)) return this.records.get(key);
    this.delivering.add(key);
    try {
      return await this.run(key, claimed);
    } finally {
      this.delivering.delete(key);
    }
  }

  /** Deliver a send this process may own; `deliver` keeps one run per key. */
  private async run(key: string, claimed?: SendRecord): Promise<SendRecord | undefined> {
    const { notifier, waping, clock, policy, logger } = this.deps;
    // A send this process has just claimed holds its lease already (the claim wrote it): it is not taken again.
    let send = claimed && this.records.leasedHere(claimed) ? claimed : await this.records.takeLease(key);
    if (!send) return this.records.get(key);

    if (!send.parent && !send.groupId) {
      const shown = send.version;
      const parent = await notifier.announce(send);
      // Posting may have taken long (Slack retries): save the message and renew the lease in one write,
      // or stop if another replica took the send over meanwhile.
      const renewed = await this.records.takeLease(key, (s) =>
        parent && !s.parent ? { ...s, parent, renderedVersion: shown } : s,
      );
      if (!renewed) {
        // Another replica owns it now: still leave it our message, so that it does not post another.
        if (parent)
          await this.records.change(key, (s) => (s.parent ? undefined : { ...s, parent, renderedVersion: shown }));
        return this.records.get(key);
      }
      send = renewed;
    } else if (send.renderedVersion < send.version) {
      // A Retry, or a group: the message shows older news. Best effort: Slack must never stop a send.
      this.deps.sync.syncInBackground(syncTargetOf(send));
    }

    for (let attempt = 1; attempt <= policy.attemptsPerRun; attempt++) {
      const result = await waping.sendMessage(send.key, send.body);
      if (result.ok) {
        // What the send proved about its device, and settling it, do not depend on each other: side by side.
        const [, settled] = await Promise.all([
          this.deps.onDeviceSession?.(send.deviceId, true),
          this.finish(send, { state: 'accepted', messageId: result.messageId, status: 'queued' }),
        ]);
        send = settled;
        logger.info(
          { sendKey: key, messageId: result.messageId, attempts: send?.attempts },
          'WAPing accepted the send',
        );
        return send;
      }
      const failed = result.error;
      logger.warn(
        { sendKey: key, code: failed.code, status: failed.status, retryable: failed.retryable, attempt },
        'WAPing send attempt failed',
      );
      if (!failed.retryable) {
        if (failed.code === 'SESSION_DISCONNECTED') await this.deps.onDeviceSession?.(send.deviceId, false);
        return this.finish(send, {
          state: 'failed',
          failure: { code: failed.code, ...(failed.status ? { status: failed.status } : {}) },
        });
      }
      if (clock.now() - send.createdAt > policy.giveUpAfterMs) {
        return this.finish(send, {
          state: 'failed',
          failure: { code: 'UNREACHABLE' },
        });
      }
      const delay = failed.retryAfterMs ?? backoffDelayMs(send.attempts + 1, policy.baseDelayMs, policy.maxDelayMs);
      const lastOfRun = attempt === policy.attemptsPerRun || delay > policy.maxDelayMs;
      // Record the attempt and, when giving up for now, hand the send to whichever replica sweeps first.
      const next = await this.records.changeVisibly(send, (s) =>
        s.owner !== this.deps.instanceId
          ? undefined
          : {
              ...s,
              attempts: s.attempts + 1,
              lastError: failed.code,
              leaseUntil: clock.now() + (lastOfRun ? delay : delay + policy.leaseMs),
              owner: lastOfRun ? '' : s.owner,
            },
      );
      if (!next || next.owner !== (lastOfRun ? '' : this.deps.instanceId)) return next;
      send = next;
      if (lastOfRun) {
        await this.deps.sync.sync(syncTargetOf(send));
        return send;
      }
      await clock.sleep(delay);
    }
    return send;
  }

  /** Settle a send for good, drop it from the outbox and re-render its Slack message. */
  private async finish(
    send: SendRecord,
    outcome: Pick<SendRecord, 'state'> & Partial<Pick<SendRecord, 'messageId' | 'status'>> & { failure?: SendFailure },
  ): Promise<SendRecord | undefined> {
    const { store, clock } = this.deps;
    const { key } = send;
    // The message id mapping first: a status webhook may arrive the moment WAPing has answered.
    if (outcome.messageId) await store.set(messageIdKey(outcome.messageId), key, RECORD_TTL_MS);
    let settledHere = false; // set by the update that wins, so a send is counted once
    // The record as it stands after the update, whoever settled it: no need to read it again.
    const settled = await this.records.changeVisibly(send, (s) => {
      settledHere = s.state === 'pending';
      return !settledHere
        ? undefined
        : {
            ...s,
            ...outcome,
            // A status webhook may have been applied already (it can outrun WAPing's answer): keep it.
            status: s.status ?? outcome.status,
            attempts: s.attempts + 1,
            leaseUntil: 0,
            owner: '',
            timeline:
              outcome.status && !s.status ? [{ status: outcome.status, at: clock.now() }, ...s.timeline] : s.timeline,
          };
    });
    if (settledHere)
      (this.deps.telemetry ?? noTelemetry).sendSettled(outcome.state === 'accepted' ? 'accepted' : 'failed');
    // Leaving the outbox and telling of the message id do not depend on each other: side by side, one round trip.
    await Promise.all([
      this.outbox.remove(key),
      outcome.messageId && settled ? this.deps.onMessageKnown?.(outcome.messageId, settled) : undefined,
    ]);
    // changeVisibly has just marked the message behind: the sync need not mark it again.
    if (settled) await this.deps.sync.sync(syncTargetOf(settled), { marked: true });
    if (settled) await this.deps.onSettled?.(settled);
    return settled;
  }
}
