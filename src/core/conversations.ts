import type { BackgroundWork } from './background.js';
import { derivedUuid } from './idempotency.js';
import type { ConversationNotifier, InboundEntry, InboundMessage, InboundOutcome, InboundTarget } from './inbound.js';
import { InboundLanes } from './inbound-lanes.js';
import type { MessageRef } from './message-ref.js';
import { PendingIndex } from './pending-index.js';
import type { Clock, Logger, Store } from './ports.js';
import type { SendGroup } from './send-group.js';
import type { SendRecord } from './send-record.js';
import {
  conversationKey,
  groupKey,
  INBOUND_PENDING,
  inboundKey,
  messageIdKey,
  sendKey,
  webhookKey,
} from './store-keys.js';
import type { Telemetry } from './telemetry.js';

/** Received messages are remembered as long as delivery webhooks: WAPing redelivers for days. */
const INBOUND_ID_TTL_MS = 8 * 24 * 60 * 60 * 1000;
/** How long customers' replies land in the thread of the send they answer, unless configured otherwise. */
export const DEFAULT_CONVERSATION_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/** The latest send to one number through one device, stored under its conversation key for the window. */
interface LatestSend {
  sendKey: string;
  at: number;
}

export interface ConversationDeps {
  store: Store;
  notifier: ConversationNotifier;
  /** The services' shared background work: posting runs after WAPing's answer, and idles with the rest. */
  background: BackgroundWork;
  clock: Clock;
  logger: Logger;
  instanceId: string;
  /** How long after a send the customer's replies land in its thread. */
  windowMs: number;
  /** Where messages from numbers nobody here wrote to (in the window) go; nowhere when unset. */
  inboxChannel?: string;
  /** Whether a channel takes customers' replies in its sends' threads. */
  conversationsOn: (channelId: string) => boolean;
  /** A device's name, for messages in the inbox. */
  deviceName: (deviceId: string) => Promise<string>;
  /** How long the poster of a thread waits for replies written just before, so they are posted in order. */
  orderHoldMs?: number;
  telemetry?: Telemetry;
}

/**
 * Customers' replies: each received message is recorded under its webhook id before WAPing gets its 2xx, then
 * claimed once per WAPing message id (a redelivery under another webhook id posts nothing), routed once, and
 * posted in its thread in the order the customer wrote (see InboundLanes).
 *
 * A reply lands in the thread of the send it quotes, else of the latest send to that number through that device,
 * within the window; never in a channel for a send to another number. The rest go to the inbox channel, or
 * nowhere (counted only).
 */
export class Conversations {
  private readonly pending: PendingIndex;
  private readonly lanes: InboundLanes;

  constructor(private readonly deps: ConversationDeps) {
    this.pending = new PendingIndex(deps.store, INBOUND_PENDING, deps.clock);
    this.lanes = new InboundLanes({
      ...deps,
      holdMs: deps.orderHoldMs ?? 1_000,
      lockMs: 2 * 60_000,
      settle: (entry, outcome) => this.settle(entry, outcome),
    });
  }

  /** Remember `send` as the latest to its number through its device, once WAPing took it; never throws. */
  async noteSend(send: SendRecord): Promise<void> {
    const { store, windowMs, logger } = this.deps;
    try {
      await store.update<LatestSend>(
        conversationKey(numberHash(send.deviceId, send.to)),
        (latest) => (latest && latest.at >= send.createdAt ? undefined : { sendKey: send.key, at: send.createdAt }),
        windowMs,
      );
    } catch (error) {
      // Replies quoting the message still find it; only unquoted ones miss this send.
      logger.warn({ err: error, sendKey: send.key }, 'could not note the send for its conversation');
    }
  }

  /**
   * Record a verified received message under its webhook id. 'duplicate' when that id was recorded before.
   * Throws when the store cannot be written: the caller must then answer non-2xx so WAPing redelivers.
   */
  async record(webhookId: string, message: InboundMessage): Promise<'recorded' | 'duplicate'> {
    // The claim and the pending entry in one atomic step and round trip, as for delivery webhooks.
    const entry: InboundEntry = {
      id: webhookId,
      kind: 'inbound',
      message,
      state: 'received',
      receivedAt: this.deps.clock.now(),
    };
    const recorded = { key: webhookKey(webhookId), value: entry, ttlMs: INBOUND_ID_TTL_MS };
    const claim = await this.pending.addClaiming(webhookId, [recorded]);
    return claim.claimed ? 'recorded' : 'duplicate';
  }

  /** Post in the background, tracked for shutdown; an id this process is still posting is not started again. */
  applyInBackground(webhookId: string): void {
    const apply = () => this.apply(webhookId);
    this.deps.background.runOnce(webhookId, apply, { webhookId }, 'posting a received message failed; retried');
  }

  /** Re-apply the received messages not posted yet (after a crash, or Slack or the store being away). */
  async resume(): Promise<number> {
    const ids = await this.pending.list();
    for (const id of ids) this.applyInBackground(id);
    return ids.length;
  }

  /** Post one recorded message where it belongs, once; safe to repeat. */
  async apply(webhookId: string): Promise<void> {
    const { store } = this.deps;
    const found = await store.get<InboundEntry>(webhookKey(webhookId));
    if (!found) return this.pending.recordMissing(webhookId);
    this.pending.recordFound(webhookId);
    if (found.kind !== 'inbound' || found.state !== 'received' || !found.message) return this.pending.remove(webhookId);
    const { message } = found;
    // One webhook id per WAPing message is posted: the first to claim it.
    const claim = await store.claim(inboundKey(message.deviceId, message.messageId), webhookId, INBOUND_ID_TTL_MS);
    if (claim.value !== webhookId) return this.settle(found, 'duplicate');
    let entry = found;
    if (entry.target === undefined) {
      const target = (await this.route(message)) ?? null;
      // Routed once: a send made meanwhile must not move a message another replica already queued.
      entry = (await store.update<InboundEntry>(
        webhookKey(webhookId),
        (e) => (e && e.target === undefined ? { ...e, target } : undefined),
        INBOUND_ID_TTL_MS,
      )) as InboundEntry;
      if (entry?.state !== 'received') return this.pending.remove(webhookId);
    }
    if (!entry.target) return this.settle(entry, 'unrouted');
    await this.lanes.enqueue(entry.target, webhookId, message.at);
    await this.lanes.drain(entry.target);
  }

  /** The thread of the send this message answers, or the inbox, or nowhere. */
  private async route(message: InboundMessage): Promise<InboundTarget | undefined> {
    const send = (message.quotes && (await this.quoted(message))) || (await this.latest(message));
    if (send && this.deps.conversationsOn(send.channelId)) {
      const thread = await this.threadOf(send);
      if (thread) return { kind: 'thread', thread, deviceName: send.deviceName };
    }
    const { inboxChannel } = this.deps;
    if (!inboxChannel) return undefined;
    return { kind: 'inbox', channel: inboxChannel, deviceName: await this.deps.deviceName(message.deviceId) };
  }

  /** The send the customer quoted, if it went to them through this device within the window. */
  private async quoted(message: InboundMessage): Promise<SendRecord | undefined> {
    const key = await this.deps.store.get<string>(messageIdKey(message.quotes as string));
    return key ? this.ownSend(key, message) : undefined;
  }

  /** The latest send to the customer through this device within the window. */
  private async latest(message: InboundMessage): Promise<SendRecord | undefined> {
    const latest = await this.deps.store.get<LatestSend>(conversationKey(numberHash(message.deviceId, message.from)));
    return latest ? this.ownSend(latest.sendKey, message) : undefined;
  }

  /** A send, only when it went to this message's sender through its device, within the window. */
  private async ownSend(key: string, message: InboundMessage): Promise<SendRecord | undefined> {
    const send = await this.deps.store.get<SendRecord>(sendKey(key));
    if (!send || send.to !== message.from || send.deviceId !== message.deviceId) return undefined;
    return this.deps.clock.now() - send.createdAt <= this.deps.windowMs ? send : undefined;
  }

  /** The posted message that shows a send: its own, or its group's (their threads take the replies). */
  private async threadOf(send: SendRecord): Promise<MessageRef | undefined> {
    if (send.groupId) return (await this.deps.store.get<SendGroup>(groupKey(send.groupId)))?.parent;
    return send.parent;
  }

  /** The message's work is over: keep only its outcome (no number, no text), and take it off the pending list. */
  private async settle(entry: InboundEntry, outcome: InboundOutcome): Promise<void> {
    const { message: _dropped, ...rest } = entry;
    const state = outcome === 'thread' || outcome === 'inbox' ? 'posted' : outcome;
    await this.deps.store.set<InboundEntry>(webhookKey(entry.id), { ...rest, state }, INBOUND_ID_TTL_MS);
    await this.pending.remove(entry.id);
    this.deps.telemetry?.inboundMessage(outcome);
    this.deps.logger.info({ webhookId: entry.id, outcome }, 'received message handled');
  }
}

/** The conversation of one number on one device, hashed so that the number is not spelled out in a store key. */
function numberHash(deviceId: string, number: string): string {
  return derivedUuid('conversation', deviceId, number);
}
