import type { Clock, Logger, SendNotifier, Store } from './ports.js';
import { type SendRecord, sendKey } from './send-record.js';

/** Keys of sends whose Slack message may be behind their record; swept after a crash. */
const BEHIND_KEY = 'sync:behind';
const REPLY_GUARD_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Brings a send's Slack message up to date with its record: thread replies first, in order, each
 * posted once (a claim per reply guards it across replicas), then one update of the parent with the
 * latest state. One replica at a time works on one message (a lock with a lease), so a burst of
 * changes is coalesced into as few Slack calls as the lock holder needs, and none is missed: the
 * holder re-reads the record after releasing the lock and goes again while it is behind.
 */
export class MessageSync {
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: {
      store: Store;
      notifier: SendNotifier;
      clock: Clock;
      logger: Logger;
      instanceId: string;
      /** How long a lock holder may take before another replica assumes it died. */
      lockMs: number;
    },
  ) {}

  /** Sync in the background, tracked for shutdown. */
  syncInBackground(key: string): void {
    const run = this.sync(key)
      .catch((error: unknown) =>
        this.deps.logger.error({ err: error, sendKey: key }, 'Slack sync failed; the sweep will retry'),
      )
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Make the Slack message of `key` show its record; returns once it does or another replica has taken over. */
  async sync(key: string): Promise<void> {
    const { store } = this.deps;
    await store.update<string[]>(BEHIND_KEY, (keys = []) => (keys.includes(key) ? undefined : [...keys, key]));
    for (;;) {
      const lock = `sync-lock:${key}`;
      const token = `${this.deps.instanceId}:${Math.random()}`;
      const claim = await store.claim(lock, token, this.deps.lockMs);
      if (!claim.claimed) return; // the holder re-checks after releasing
      try {
        await this.catchUp(key);
      } finally {
        // Not atomic, but the lock's lease is far longer than this gap.
        if ((await store.get(lock)) === token) await store.delete(lock);
      }
      const send = await store.get<SendRecord>(sendKey(key));
      if (!send || send.renderedVersion >= send.version) break;
    }
    await store.update<string[]>(BEHIND_KEY, (keys = []) =>
      keys.includes(key) ? keys.filter((k) => k !== key) : undefined,
    );
  }

  /** Sync every send left behind (after a crash or a Slack outage); returns how many were behind. */
  async resumeBehind(): Promise<number> {
    const keys = (await this.deps.store.get<string[]>(BEHIND_KEY)) ?? [];
    for (const key of keys) this.syncInBackground(key);
    return keys.length;
  }

  private async catchUp(key: string): Promise<void> {
    const { store, notifier, clock } = this.deps;
    for (;;) {
      const send = await store.get<SendRecord>(sendKey(key));
      if (!send || send.renderedVersion >= send.version) return;
      if (send.parent) {
        for (const [index, reply] of send.replies.entries()) {
          if (reply.posted) continue;
          const guard = await store.claim(`reply:${key}:${index}:${reply.status}`, clock.now(), REPLY_GUARD_TTL_MS);
          if (guard.claimed) await notifier.reply(send, reply.status);
          await this.change(key, (s) => {
            const replies = s.replies.map((r, i) => (i === index ? { ...r, posted: true } : r));
            return { ...s, replies };
          });
        }
        await notifier.refresh(send);
      }
      await this.change(key, (s) =>
        s.renderedVersion >= send.version ? undefined : { ...s, renderedVersion: send.version },
      );
    }
  }

  /** A change that is not itself something to show (bookkeeping): the version stays. */
  private change(key: string, change: (send: SendRecord) => SendRecord | undefined): Promise<SendRecord | undefined> {
    return this.deps.store.update<SendRecord>(sendKey(key), (current) => (current ? change(current) : undefined));
  }
}
