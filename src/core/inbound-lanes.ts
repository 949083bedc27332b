import type { ConversationNotifier, InboundEntry, InboundOutcome, InboundTarget } from './inbound.js';
import { type Clock, type Logger, MessageGoneError, type Store } from './ports.js';
import { inboundLaneKey, inboundLockKey, webhookKey } from './store-keys.js';

/**
 * The received messages of one thread (or of the inbox) are posted one at a time, in the order the customer wrote
 * them. Each thread has a lane: a pending list of webhook ids scored by the customer's timestamp, and a lock with a
 * lease, so that one replica (one background task) posts into a thread at a time, whichever replica recorded the
 * messages. The holder waits `holdMs` before reading the lane, so that replies written a moment apart but
 * delivered out of order (or applied concurrently) are sorted before any is posted, and reads the lane again after
 * releasing the lock while anything is left, so that nothing queued meanwhile waits for the sweep.
 *
 * A message is marked posted after Slack took it: a crash in between posts it once more when the sweep resumes it
 * (the same trade as the status replies). A message arriving more than `holdMs` after a later one was posted
 * is posted after it.
 */
export class InboundLanes {
  constructor(
    private readonly deps: {
      store: Store;
      notifier: ConversationNotifier;
      clock: Clock;
      logger: Logger;
      instanceId: string;
      holdMs: number;
      lockMs: number;
      /** Called once a message is posted (or can never be): the caller keeps its outcome. */
      settle: (entry: InboundEntry, outcome: InboundOutcome) => Promise<void>;
    },
  ) {}

  /** Queue a message in its thread's lane, by when the customer wrote it; queuing twice keeps the first place. */
  async enqueue(target: InboundTarget, webhookId: string, at: number): Promise<void> {
    await this.deps.store.pendingAdd(inboundLaneKey(laneOf(target)), webhookId, at);
  }

  /** Post what the lane holds, in order; returns once it is empty or another holder of the lock will see to it. */
  async drain(target: InboundTarget): Promise<void> {
    const { store, clock } = this.deps;
    const lane = laneOf(target);
    for (;;) {
      const lock = inboundLockKey(lane);
      const token = `${this.deps.instanceId}:${Math.random()}`;
      if (!(await store.claim(lock, token, this.deps.lockMs)).claimed) return; // the holder re-checks after releasing
      try {
        await clock.sleep(this.deps.holdMs);
        for (const id of await store.pendingList(inboundLaneKey(lane))) await this.post(lane, id);
      } finally {
        // Only while it still holds our token: if the lease ran out meanwhile, the lock is another replica's now.
        await store.deleteIf(lock, token);
      }
      if ((await store.pendingSize(inboundLaneKey(lane))) === 0) return;
    }
  }

  /** Post one message of the lane where it was routed (each of the inbox's names its own device). */
  private async post(lane: string, webhookId: string): Promise<void> {
    const { store, notifier, logger } = this.deps;
    const entry = await store.get<InboundEntry>(webhookKey(webhookId));
    if (entry?.state === 'received' && entry.message && entry.target) {
      try {
        await notifier.postInbound(entry.target, entry.message);
        await this.deps.settle(entry, entry.target.kind);
      } catch (error) {
        if (!(error instanceof MessageGoneError)) throw error; // Slack away: the sweep posts it, still in order
        logger.warn({ webhookId }, 'the thread of a received message is gone; not posted');
        await this.deps.settle(entry, 'unrouted');
      }
    }
    await store.pendingRemove(inboundLaneKey(lane), webhookId);
  }
}

/** One lane per thread, and one for the top of each inbox channel. */
function laneOf(target: InboundTarget): string {
  return target.kind === 'thread' ? `${target.thread.channel}:${target.thread.ts}` : target.channel;
}
