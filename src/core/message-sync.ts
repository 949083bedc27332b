import type { BackgroundWork } from './background.js';
import { PendingIndex } from './pending-index.js';
import { type Clock, type Logger, MessageGoneError, type SendNotifier, type Store } from './ports.js';
import type { SendGroup } from './send-group.js';
import { type SendRecord, sendKey } from './send-record.js';
import { groupKey, PENDING_LISTS, RECORD_TTL_MS } from './store-keys.js';

/** What one chat message shows: one send, or a group and its sends. */
interface MessageContent {
  group?: SendGroup;
  sends: SendRecord[];
}

/**
 * Brings a Slack message up to date with the records behind it: thread replies first, in order,
 * each posted once (a claim per reply guards it across replicas), then one update of the message with
 * the latest state. One replica at a time works on one message (a lock with a lease), so a burst of
 * changes is coalesced into as few Slack calls as the lock holder needs, and none is missed: the
 * holder re-reads after releasing the lock and goes again while anything is behind.
 *
 * A message is named by its sync target: a send key, or `group:<id>` for a message that shows several sends
 * (`syncTargetOf` in send-record.ts).
 */
export class MessageSync {
  /** Sync targets whose message may be behind their records; swept after a crash. */
  private readonly behind: PendingIndex;

  constructor(
    private readonly deps: {
      store: Store;
      notifier: SendNotifier;
      /** Where syncs started after an answer run (shared by the services, so one `idle()` waits for all). */
      background: BackgroundWork;
      clock: Clock;
      logger: Logger;
      instanceId: string;
      /** How long a lock holder may take before another replica assumes it died. */
      lockMs: number;
      /**
       * Told (without waiting) each time a sync target's message was brought up to date (open Homes show it), with
       * the record it showed: the group of a group's message, else the send.
       */
      onRendered?: (target: string, shown: SendGroup | SendRecord) => void;
    },
  ) {
    this.behind = new PendingIndex(deps.store, PENDING_LISTS.syncBehind, deps.clock);
  }

  /** Sync in the background, tracked for shutdown. */
  syncInBackground(target: string): void {
    this.deps.background.run(() => this.sync(target), { target }, 'message sync failed; the sweep will retry');
  }

  /**
   * Make the Slack message of `target` show its records; returns once it does or another replica has taken over.
   * `marked`: the caller has just marked it behind (changeVisibly does), so it is not marked again first.
   */
  async sync(target: string, options: { marked?: boolean } = {}): Promise<void> {
    const { store } = this.deps;
    if (!options.marked) await this.markBehind(target);
    for (;;) {
      const lock = `sync-lock:${target}`;
      const token = `${this.deps.instanceId}:${Math.random()}`;
      const claim = await store.claim(lock, token, this.deps.lockMs);
      if (!claim.claimed) return; // the holder re-checks after releasing
      try {
        await this.catchUp(target);
      } catch (error) {
        // Another replica may have taken the target off the list meanwhile: put it back for the sweep.
        await this.markBehind(target);
        throw error;
      } finally {
        // Only while it still holds our token: if the lease ran out meanwhile, the lock is another replica's now.
        await store.deleteIf(lock, token);
      }
      if (!isBehind(await this.load(target))) break;
    }
    await this.behind.remove(target);
  }

  /** Note that `target`'s message is about to fall behind, before the change that makes it so. */
  async markBehind(target: string): Promise<void> {
    await this.behind.add(target);
  }

  /**
   * A change people should see, to the record under `key` shown by `target`'s message: marks the message behind
   * first (so that a crash right after the change still gets it re-rendered), then changes the record atomically
   * with its version bumped, the version the message catches up with. `change` returns undefined to leave it.
   */
  async changeVisibly<T extends { version: number }>(
    target: string,
    key: string,
    change: (current: T) => T | undefined,
    ttlMs?: number,
  ): Promise<T | undefined> {
    await this.markBehind(target);
    return this.deps.store.update<T>(
      key,
      (current) => {
        const next = current && change(current);
        return next && current && { ...next, version: current.version + 1 };
      },
      ttlMs,
    );
  }

  /** Sync every target left behind (after a crash or a Slack outage); returns how many were behind. */
  async resumeBehind(): Promise<number> {
    const targets = await this.behind.list();
    for (const target of targets) this.syncInBackground(target);
    return targets.length;
  }

  /** A message that is gone for good counts as rendered: nothing could ever show it again. */
  private async giveUpIfGone(target: string, update: Promise<void>): Promise<void> {
    try {
      await update;
    } catch (error) {
      if (!(error instanceof MessageGoneError)) throw error;
      this.deps.logger.warn({ target }, 'the posted message is gone; no longer updating it');
    }
  }

  private async load(target: string): Promise<MessageContent> {
    const { store } = this.deps;
    if (!target.startsWith('group:')) {
      const send = await store.get<SendRecord>(sendKey(target));
      return { sends: send ? [send] : [] };
    }
    const group = await store.get<SendGroup>(target);
    if (!group) return { sends: [] };
    const sends = group.launched ? await Promise.all(group.keys.map((key) => store.get<SendRecord>(sendKey(key)))) : [];
    return { group, sends: sends.filter((send): send is SendRecord => send !== undefined) };
  }

  private async catchUp(target: string): Promise<void> {
    const { store, notifier, clock } = this.deps;
    let seen = await this.load(target);
    for (;;) {
      if (!isBehind(seen)) return;
      for (const send of seen.sends) {
        if (!send.parent) continue;
        for (const [index, reply] of send.replies.entries()) {
          if (reply.posted) continue;
          const guardKey = `reply:${send.key}:${index}:${reply.status}`;
          const guard = await store.claim(guardKey, clock.now(), RECORD_TTL_MS);
          if (guard.claimed) {
            try {
              await notifier.replyWithStatus(send, reply.status);
            } catch (error) {
              if (!(error instanceof MessageGoneError)) {
                await store.delete(guardKey); // Slack refused it for now: the next catch-up posts it again
                throw error;
              }
              this.deps.logger.warn({ sendKey: send.key }, 'the thread is gone; skipping its status reply');
            }
          }
          await store.update<SendRecord>(sendKey(send.key), (s) =>
            s ? { ...s, replies: s.replies.map((r, i) => (i === index ? { ...r, posted: true } : r)) } : undefined,
          );
        }
      }
      if (seen.group) {
        if (seen.group.parent) await this.giveUpIfGone(target, notifier.refreshGroup(seen.group, seen.sends));
        const version = seen.group.version;
        await store.update<SendGroup>(groupKey(seen.group.id), (g) =>
          g && g.renderedVersion < version ? { ...g, renderedVersion: version } : undefined,
        );
      } else if (seen.sends[0]?.parent && !seen.sends[0].supersededBy) {
        await this.giveUpIfGone(target, notifier.refresh(seen.sends[0])); // a Retry's send owns it once it exists
      }
      const rendered: SendRecord[] = [];
      for (const send of seen.sends) {
        const now = await store.update<SendRecord>(sendKey(send.key), (s) =>
          s && s.renderedVersion < send.version ? { ...s, renderedVersion: send.version } : undefined,
        );
        if (now) rendered.push(now);
      }
      const shown = seen.group ?? rendered[0];
      if (shown) this.deps.onRendered?.(target, shown);
      // A send's message: the update just returned the record as it stands, so it tells whether more changed
      // meanwhile without another read. A group's message reads its group and sends again.
      seen = seen.group || seen.sends.length === 0 ? await this.load(target) : { sends: rendered };
    }
  }
}

function isBehind(content: MessageContent): boolean {
  if (content.group && content.group.renderedVersion < content.group.version) return true;
  return content.sends.some((send) => send.renderedVersion < send.version);
}
