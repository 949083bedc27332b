import { BackgroundWork } from './background.js';
import { backoffDelayMs } from './backoff.js';
import { derivedUuid } from './idempotency.js';
import type { MessageSync } from './message-sync.js';
import { PendingIndex } from './pending-index.js';
import {
  type Clock,
  type Logger,
  noTelemetry,
  type SendNotifier,
  type Store,
  type Telemetry,
  type WapingPort,
  type WapingSendResult,
} from './ports.js';
import { type SendFailure, type SendRecord, sendKey, syncUnitOf } from './send-record.js';

/** The outbox: keys of sends that WAPing has not answered for good yet. Read by the recovery sweep. */
const OUTBOX_KEY = 'outbox:pending';
/** Send records outlive any retry window by far; a month keeps them for status webhooks and support questions. */
const RECORD_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface SendPolicy {
  /** How long one replica owns a send before another may take it over. Much longer than one HTTP attempt. */
  leaseMs: number;
  /** HTTP attempts made in one go before the send is left to the recovery sweep. */
  attemptsPerRun: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** After this long without a definite answer from WAPing, the send is marked failed. */
  giveUpAfterMs: number;
}

export const defaultSendPolicy: SendPolicy = {
  leaseMs: 60_000,
  attemptsPerRun: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  giveUpAfterMs: 60 * 60 * 1000,
};

/** Everything needed to create a send, before it has a state. */
export type SendDraft = Pick<
  SendRecord,
  | 'key'
  | 'teamId'
  | 'requestedBy'
  | 'channelId'
  | 'responseUrl'
  | 'origin'
  | 'retryOf'
  | 'groupId'
  | 'deviceId'
  | 'deviceName'
  | 'to'
  | 'text'
  /** An existing Slack message to keep updating (a Retry reuses its parent, a group its message). */
  | 'parent'
> & { generation?: number };

export type SendRequestOutcome = { accepted: true; send: SendRecord } | { accepted: false; send: SendRecord };

/** Plain words (no markup: Slack shows them literally) for WAPing's refusals, shown next to a Retry button. */
export function reasonFor(result: Extract<WapingSendResult, { ok: false }>, deviceName: string): string {
  switch (result.code) {
    case 'SESSION_DISCONNECTED':
      return `Device “${deviceName}” is disconnected: re-link it by QR code in WAPing, then press Retry.`;
    case 'VALIDATION':
      return 'WAPing refused the message as invalid (check the number and the text), so nothing was sent.';
    case 'UNKNOWN_DEVICE':
      return `WAPing does not know device “${deviceName}”: choose another device and send again.`;
    case 'IDEMPOTENCY_CONFLICT':
      return 'WAPing already holds a different message under this send id, so nothing was sent. Send it again as a new message.';
    case 'UNAUTHORIZED':
      return 'WAPing refused our API key: ask whoever runs the bot to check WAPING_API_KEY, then press Retry.';
    default:
      return `WAPing refused the message (${result.code}${result.status ? `, HTTP ${result.status}` : ''}).`;
  }
}

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

  constructor(
    private readonly deps: {
      store: Store;
      waping: WapingPort;
      notifier: SendNotifier;
      /** Keeps the Slack message in step with the record. */
      sync: MessageSync;
      clock: Clock;
      logger: Logger;
      /** Identifies this process as a lease owner. */
      instanceId: string;
      policy: SendPolicy;
      /** Told what a send proved about its device's session: refused as disconnected, or working. */
      onDeviceSession?: (deviceId: string, connected: boolean) => Promise<void>;
      /** Told once WAPing's message id is saved, so status webhooks that arrived first can be applied. */
      onMessageKnown?: (messageId: string) => Promise<void>;
      /** Counts settled sends. */
      telemetry?: Telemetry;
    },
  ) {
    this.background = new BackgroundWork(deps.logger);
    this.outbox = new PendingIndex(deps.store, OUTBOX_KEY, deps.clock);
  }

  /** Claim the key and persist the outbox record. A key claimed before is reported, never sent again. */
  async request(draft: SendDraft): Promise<SendRequestOutcome> {
    const { store, waping, clock, instanceId, policy } = this.deps;
    const now = clock.now();
    const record: SendRecord = {
      ...draft,
      generation: draft.generation ?? 0,
      body: waping.textBody({ deviceId: draft.deviceId, to: draft.to, text: draft.text }),
      state: 'pending',
      attempts: 0,
      leaseUntil: now + policy.leaseMs,
      owner: instanceId,
      createdAt: now,
      updatedAt: now,
      timeline: [],
      replies: [],
      appliedEvents: [],
      version: 1,
      renderedVersion: 0,
    };
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
   * One claim per form submission, holding a fingerprint of what it asked for. A resubmission of the
   * same form (Slack's 3 seconds missed, the form edited meanwhile) that asks for something else is
   * refused, so one form can never start two different sends (a single send and a group use
   * different keys). 'same' carries on: requests are idempotent, and that repairs a crash in between.
   */
  async claimSubmission(teamId: string, viewId: string, asked: object): Promise<'new' | 'same' | 'different'> {
    const fingerprint = derivedUuid('submission-content', JSON.stringify(asked));
    const claim = await this.deps.store.claim(
      `submission:${derivedUuid('submission', teamId, viewId)}`,
      fingerprint,
      RECORD_TTL_MS,
    );
    if (claim.claimed) return 'new';
    return claim.value === fingerprint ? 'same' : 'different';
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
    await this.change(key, (s) => (s.supersededBy ? undefined : { ...s, supersededBy: by }));
  }

  /** Read a send by key. */
  get(key: string): Promise<SendRecord | undefined> {
    return this.deps.store.get<SendRecord>(sendKey(key));
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
      return await this.deliverOwned(key);
    } finally {
      this.delivering.delete(key);
    }
  }

  private async deliverOwned(key: string): Promise<SendRecord | undefined> {
    const { notifier, waping, clock, policy, logger } = this.deps;
    let send = await this.takeLease(key);
    if (!send) return this.get(key);

    if (!send.parent && !send.groupId) {
      const shown = send.version;
      const parent = await notifier.announce(send);
      // Posting may have taken long (Slack retries): save the message and renew the lease in one write,
      // or stop if another replica took the send over meanwhile.
      const renewed = await this.takeLease(key, (s) =>
        parent && !s.parent ? { ...s, parent, renderedVersion: shown } : s,
      );
      if (!renewed) {
        // Another replica owns it now: still leave it our message, so that it does not post another.
        if (parent) await this.change(key, (s) => (s.parent ? undefined : { ...s, parent, renderedVersion: shown }));
        return this.get(key);
      }
      send = renewed;
    } else if (send.renderedVersion < send.version) {
      // A Retry, or a group: the message shows older news. Best effort: Slack must never stop a send.
      this.deps.sync.syncInBackground(syncUnitOf(send));
    }

    for (let attempt = 1; attempt <= policy.attemptsPerRun; attempt++) {
      const result = await waping.sendMessage(send.key, send.body);
      if (result.ok) {
        await this.deps.onDeviceSession?.(send.deviceId, true);
        send = await this.finish(key, { state: 'accepted', messageId: result.messageId, status: 'queued' });
        logger.info(
          { sendKey: key, messageId: result.messageId, attempts: send?.attempts },
          'WAPing accepted the send',
        );
        return send;
      }
      logger.warn(
        { sendKey: key, code: result.code, status: result.status, retryable: result.retryable, attempt },
        'WAPing send attempt failed',
      );
      if (!result.retryable) {
        if (result.code === 'SESSION_DISCONNECTED') await this.deps.onDeviceSession?.(send.deviceId, false);
        return this.finish(key, {
          state: 'failed',
          failure: { code: result.code, reason: reasonFor(result, send.deviceName) },
        });
      }
      if (clock.now() - send.createdAt > policy.giveUpAfterMs) {
        return this.finish(key, {
          state: 'failed',
          failure: {
            code: 'UNREACHABLE',
            reason:
              'WAPing did not answer for too long, so the message may not have been sent. Press Retry to try again.',
          },
        });
      }
      const delay = result.retryAfterMs ?? backoffDelayMs(send.attempts + 1, policy.baseDelayMs, policy.maxDelayMs);
      const lastOfRun = attempt === policy.attemptsPerRun || delay > policy.maxDelayMs;
      // Record the attempt and, when giving up for now, hand the send to whichever replica sweeps first.
      const next = await this.changeVisibly(key, (s) =>
        s.owner !== this.deps.instanceId
          ? undefined
          : {
              ...s,
              attempts: s.attempts + 1,
              lastError: result.code,
              leaseUntil: clock.now() + (lastOfRun ? delay : delay + policy.leaseMs),
              owner: lastOfRun ? '' : s.owner,
            },
      );
      if (!next || next.owner !== (lastOfRun ? '' : this.deps.instanceId)) return next;
      send = next;
      if (lastOfRun) {
        await this.deps.sync.sync(syncUnitOf(send));
        return send;
      }
      await clock.sleep(delay);
    }
    return send;
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

  /**
   * Take (or renew) the lease on a pending send, with `alsoChange` applied in the same write;
   * undefined when it is finished or a live replica owns it.
   */
  private async takeLease(
    key: string,
    alsoChange: (send: SendRecord) => SendRecord = (send) => send,
  ): Promise<SendRecord | undefined> {
    const { clock, instanceId, policy } = this.deps;
    const after = await this.change(key, (s) => {
      if (s.state !== 'pending') return undefined;
      if (s.owner !== instanceId && s.leaseUntil > clock.now()) return undefined;
      return { ...alsoChange(s), owner: instanceId, leaseUntil: clock.now() + policy.leaseMs };
    });
    return after && after.state === 'pending' && after.owner === instanceId ? after : undefined;
  }

  /** Settle a send for good, drop it from the outbox and re-render its Slack message. */
  private async finish(
    key: string,
    outcome: Pick<SendRecord, 'state'> & Partial<Pick<SendRecord, 'messageId' | 'status'>> & { failure?: SendFailure },
  ): Promise<SendRecord | undefined> {
    const { store, clock } = this.deps;
    // The message id mapping first: a status webhook may arrive the moment WAPing has answered.
    if (outcome.messageId) await store.set(`message:${outcome.messageId}`, key, RECORD_TTL_MS);
    let settledHere = false; // set by the update that wins, so a send is counted once
    await this.changeVisibly(key, (s) => {
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
    await this.outbox.remove(key);
    if (outcome.messageId) await this.deps.onMessageKnown?.(outcome.messageId);
    const settled = await this.get(key);
    if (settled) await this.deps.sync.sync(syncUnitOf(settled));
    return settled;
  }

  /** A change people should see in Slack: bumps the version that MessageSync catches up with. */
  private async changeVisibly(key: string, change: (send: SendRecord) => SendRecord | undefined) {
    // Marked behind before the change, so that a crash right after it still gets the message re-rendered.
    const current = await this.get(key);
    if (current) await this.deps.sync.markBehind(syncUnitOf(current));
    return this.change(key, (s) => {
      const next = change(s);
      return next && { ...next, version: s.version + 1 };
    });
  }

  /** Atomic change of a send record; `change` returns undefined to leave it as it is. */
  private change(key: string, change: (send: SendRecord) => SendRecord | undefined): Promise<SendRecord | undefined> {
    return this.deps.store.update<SendRecord>(
      sendKey(key),
      (current) => (current ? stamp(change(current), this.deps.clock) : undefined),
      RECORD_TTL_MS,
    );
  }
}

function stamp(send: SendRecord | undefined, clock: Clock): SendRecord | undefined {
  return send && { ...send, updatedAt: clock.now() };
}
