import type { MessageSync } from './message-sync.js';
import type { Clock, Store } from './ports.js';
import type { SendPolicy } from './send-policy.js';
import { type SendRecord, sendKey, syncTargetOf } from './send-record.js';
import { RECORD_TTL_MS } from './store-keys.js';

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
  | 'media'
  /** An existing Slack message to keep updating (a Retry reuses its parent, a group its message). */
  | 'parent'
> & { generation?: number };

/** Who asked, from where, for what and through which device: what a form, a group and a failed send share. */
export type SendRequestParts = Pick<
  SendRecord,
  'teamId' | 'requestedBy' | 'channelId' | 'responseUrl' | 'deviceId' | 'deviceName' | 'text' | 'media'
>;

/**
 * The one place a send draft is built: a request's parts (picked one by one, so a group or an old record passed
 * in leaves nothing else behind), one recipient, and how this send came about (its key and origin, and for a
 * group's or a retried send, the group, the send retried and the message to keep updating).
 */
export function sendDraft(
  request: SendRequestParts,
  to: string,
  how: Pick<SendDraft, 'key' | 'origin'> & Partial<Pick<SendDraft, 'retryOf' | 'groupId' | 'parent' | 'generation'>>,
): SendDraft {
  const { teamId, requestedBy, channelId, responseUrl, deviceId, deviceName, text, media } = request;
  return {
    teamId,
    requestedBy,
    channelId,
    responseUrl,
    deviceId,
    deviceName,
    to,
    text,
    ...(media ? { media } : {}),
    ...how,
  };
}

/** A new send record for a draft: pending, owned by `owner` until `leaseUntil`, shown by no message yet. */
export function newSendRecord(
  draft: SendDraft,
  body: SendRecord['body'],
  claim: { now: number; owner: string; leaseUntil: number },
): SendRecord {
  return {
    ...draft,
    generation: draft.generation ?? 0,
    body,
    state: 'pending',
    attempts: 0,
    leaseUntil: claim.leaseUntil,
    owner: claim.owner,
    createdAt: claim.now,
    updatedAt: claim.now,
    timeline: [],
    replies: [],
    appliedEvents: [],
    version: 1,
    renderedVersion: 0,
  };
}

/**
 * Send records in the store: read, changed atomically (stamped with the time), changed visibly (the version the
 * Slack message catches up with), and leased to one replica at a time.
 */
export class SendRecords {
  constructor(
    private readonly deps: {
      store: Store;
      sync: Pick<MessageSync, 'changeVisibly'>;
      clock: Clock;
      /** Identifies this process as a lease owner. */
      instanceId: string;
      policy: Pick<SendPolicy, 'leaseMs'>;
    },
  ) {}

  /** Read a send by key. */
  get(key: string): Promise<SendRecord | undefined> {
    return this.deps.store.get<SendRecord>(sendKey(key));
  }

  /**
   * Take (or renew) the lease on a pending send, with `alsoChange` applied in the same write;
   * undefined when it is finished or a live replica owns it.
   */
  async takeLease(
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

  /** Whether `send`, as this process last saw it, is pending under this process's lease for a while yet. */
  leasedHere(send: SendRecord): boolean {
    const { instanceId, clock, policy } = this.deps;
    return send.state === 'pending' && send.owner === instanceId && send.leaseUntil - clock.now() > policy.leaseMs / 2;
  }

  /**
   * A change people should see in Slack: bumps the version that MessageSync catches up with. `send` names the send
   * (any copy of its record: the message that shows it, its group's or its own, never changes).
   */
  changeVisibly(send: Pick<SendRecord, 'key' | 'groupId'>, change: (send: SendRecord) => SendRecord | undefined) {
    return this.deps.sync.changeVisibly<SendRecord>(
      syncTargetOf(send),
      sendKey(send.key),
      (s) => stamp(change(s), this.deps.clock),
      RECORD_TTL_MS,
    );
  }

  /** Atomic change of a send record; `change` returns undefined to leave it as it is. */
  change(key: string, change: (send: SendRecord) => SendRecord | undefined): Promise<SendRecord | undefined> {
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
