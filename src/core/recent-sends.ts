import { derivedUuid } from './idempotency.js';
import type { Clock, Store } from './ports.js';
import { hasFailed, type SendRecord, sendKey } from './send-record.js';
import { recentKey } from './store-keys.js';

/** How long a text sent to a number makes a new form sending the same text to it ask first. */
export const RECENT_SEND_WINDOW_MS = 10 * 60_000;

/** The same text went to `to` at `at`, asked for by `by` (a user id): what the form warns about. */
export interface RecentSend {
  to: string;
  at: number;
  by: string;
}

/** What is stored per number and text: no number, no text (the key is a hash of both). */
export interface RecentEntry {
  at: number;
  by: string;
  /** The send's key: a failed send is no reason to warn, and a form never warns about its own send. */
  key: string;
}

/**
 * The sends of the last ten minutes, by number and text, so that a new form repeating one (often after a chat
 * error made someone think the first did not go) asks before sending the same WhatsApp message again. A send is
 * recorded when it is claimed, not when WAPing accepts it: a second form while the first is still being retried is
 * exactly the case to catch; a send that failed for good is skipped when the entry is read.
 */
export class RecentSends {
  constructor(
    private readonly store: Pick<Store, 'get' | 'set'>,
    private readonly clock: Clock,
    /** The window; 0 turns the warning off. */
    private readonly windowMs = RECENT_SEND_WINDOW_MS,
  ) {}

  /** Note a claimed send; the entry expires after the window. */
  async record(send: Pick<SendRecord, 'teamId' | 'to' | 'text' | 'requestedBy' | 'key'>): Promise<void> {
    if (this.windowMs <= 0) return;
    const entry: RecentEntry = { at: this.clock.now(), by: send.requestedBy, key: send.key };
    await this.store.set(entryKey(send.teamId, send.to, send.text), entry, this.windowMs);
  }

  /** What is noted for `text` to each of `recipients`, read side by side: `find` reads these, or is handed them. */
  entries(teamId: string, recipients: string[], text: string): Promise<Array<RecentEntry | undefined>> {
    return Promise.all(recipients.map((to) => this.store.get<RecentEntry>(entryKey(teamId, to, text))));
  }

  /**
   * The recipients `text` went to in the window, each with when and by whom; `ownKey` names the key this request
   * would send to a recipient under, so a form submitted again (a double click) is not warned about itself.
   * `read`: `entries` of the same recipients and text, when the caller has read them already.
   */
  async find(
    teamId: string,
    recipients: string[],
    text: string,
    ownKey: (to: string) => string,
    read?: Promise<Array<RecentEntry | undefined>>,
  ): Promise<RecentSend[]> {
    const entries = await (read ?? this.entries(teamId, recipients, text));
    const found: RecentSend[] = [];
    for (const [i, to] of recipients.entries()) {
      const entry = entries[i];
      if (!entry || entry.key === ownKey(to) || this.clock.now() - entry.at >= this.windowMs) continue;
      const send = await this.store.get<SendRecord>(sendKey(entry.key));
      if (send && hasFailed(send)) continue;
      found.push({ to, at: entry.at, by: entry.by });
    }
    return found;
  }
}

function entryKey(teamId: string, to: string, text: string): string {
  return recentKey(derivedUuid('recent', teamId, to, text));
}
