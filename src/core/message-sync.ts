import { BackgroundWork } from './background.js';
import { PendingIndex } from './pending-index.js';
import { type Clock, type Logger, MessageGoneError, type SendNotifier, type Store } from './ports.js';
import type { SendGroup } from './send-group.js';
import { type SendRecord, sendKey } from './send-record.js';
import { groupKey, RECORD_TTL_MS } from './store-keys.js';

/**
 * Units (send keys, `group:<id>`) whose Slack message may be behind their records; swept after a crash. A pending
 * list: every change of a send adds and removes its unit, so one shared JSON array here was a hot key whose every
 * write grew with the backlog and raced every other writer's.
 */
const BEHIND_KEY = 'sync:behind';

/** What one Slack message shows: one send, or a group and its sends. */
interface Unit {
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
 * A unit is a send key, or `group:<id>` for a message that shows several sends.
 */
export class MessageSync {
  private readonly background: BackgroundWork;
  private readonly behind: PendingIndex;

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
  ) {
    this.background = new BackgroundWork(deps.logger);
    this.behind = new PendingIndex(deps.store, BEHIND_KEY, deps.clock);
  }

  /** Sync in the background, tracked for shutdown. */
  syncInBackground(unit: string): void {
    this.background.run(() => this.sync(unit), { unit }, 'Slack sync failed; the sweep will retry');
  }

  async idle(): Promise<void> {
    await this.background.idle();
  }

  /** Make the Slack message of `unit` show its records; returns once it does or another replica has taken over. */
  async sync(unit: string): Promise<void> {
    const { store } = this.deps;
    await this.markBehind(unit);
    for (;;) {
      const lock = `sync-lock:${unit}`;
      const token = `${this.deps.instanceId}:${Math.random()}`;
      const claim = await store.claim(lock, token, this.deps.lockMs);
      if (!claim.claimed) return; // the holder re-checks after releasing
      try {
        await this.catchUp(unit);
      } catch (error) {
        // Another replica may have taken the unit off the list meanwhile: put it back for the sweep.
        await this.markBehind(unit);
        throw error;
      } finally {
        // Not atomic, but the lock's lease is far longer than this gap.
        if ((await store.get(lock)) === token) await store.delete(lock);
      }
      if (!isBehind(await this.load(unit))) break;
    }
    await this.behind.remove(unit);
  }

  /** Note that `unit`'s message is about to fall behind, before the change that makes it so. */
  async markBehind(unit: string): Promise<void> {
    await this.behind.add(unit);
  }

  /** Sync every unit left behind (after a crash or a Slack outage); returns how many were behind. */
  async resumeBehind(): Promise<number> {
    const units = await this.behind.list();
    for (const unit of units) this.syncInBackground(unit);
    return units.length;
  }

  /** A message that is gone for good counts as rendered: nothing could ever show it again. */
  private async giveUpIfGone(unit: string, update: Promise<void>): Promise<void> {
    try {
      await update;
    } catch (error) {
      if (!(error instanceof MessageGoneError)) throw error;
      this.deps.logger.warn({ unit }, 'the Slack message is gone; no longer updating it');
    }
  }

  private async load(unit: string): Promise<Unit> {
    const { store } = this.deps;
    if (!unit.startsWith('group:')) {
      const send = await store.get<SendRecord>(sendKey(unit));
      return { sends: send ? [send] : [] };
    }
    const group = await store.get<SendGroup>(unit);
    if (!group) return { sends: [] };
    const sends = group.launched ? await Promise.all(group.keys.map((key) => store.get<SendRecord>(sendKey(key)))) : [];
    return { group, sends: sends.filter((send): send is SendRecord => send !== undefined) };
  }

  private async catchUp(unit: string): Promise<void> {
    const { store, notifier, clock } = this.deps;
    for (;;) {
      const seen = await this.load(unit);
      if (!isBehind(seen)) return;
      for (const send of seen.sends) {
        if (!send.parent) continue;
        for (const [index, reply] of send.replies.entries()) {
          if (reply.posted) continue;
          const guardKey = `reply:${send.key}:${index}:${reply.status}`;
          const guard = await store.claim(guardKey, clock.now(), RECORD_TTL_MS);
          if (guard.claimed) {
            try {
              await notifier.reply(send, reply.status);
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
        if (seen.group.parent) await this.giveUpIfGone(unit, notifier.refreshGroup(seen.group, seen.sends));
        const version = seen.group.version;
        await store.update<SendGroup>(groupKey(seen.group.id), (g) =>
          g && g.renderedVersion < version ? { ...g, renderedVersion: version } : undefined,
        );
      } else if (seen.sends[0]?.parent && !seen.sends[0].supersededBy) {
        await this.giveUpIfGone(unit, notifier.refresh(seen.sends[0])); // a Retry's send owns it once it exists
      }
      for (const send of seen.sends) {
        await store.update<SendRecord>(sendKey(send.key), (s) =>
          s && s.renderedVersion < send.version ? { ...s, renderedVersion: send.version } : undefined,
        );
      }
    }
  }
}

function isBehind(unit: Unit): boolean {
  if (unit.group && unit.group.renderedVersion < unit.group.version) return true;
  return unit.sends.some((send) => send.renderedVersion < send.version);
}
