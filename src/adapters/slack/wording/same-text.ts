import type { RecentSend } from '../../../core/recent-sends.js';
import { displayNumber } from '../../../core/recipient.js';

/*
 * The send form's warning when the same text went to the same number a few minutes ago (often: a Slack error
 * made someone think the first form failed, and they filled in a new one). Plain text: an inline error cannot
 * mention a person or show a local time, so the sender is "you" or their Slack id, and the time is in UTC.
 */

/** The warning under "Send it again", naming each number with when the text went there and who sent it. */
export function recentlySentWords(sends: RecentSend[], requester: string, now: number): string {
  const lines = sends.map(({ to, at, by }) => `${displayNumber(to)} ${when(at, now)}, sent by ${who(by, requester)}`);
  const [first] = lines;
  const went =
    lines.length === 1 ? `This exact text went to ${first}.` : `This exact text went to ${lines.join('; ')}.`;
  return `${went} Tick “Send it again” to send it anyway.`;
}

function when(at: number, now: number): string {
  const minutes = Math.max(0, Math.floor((now - at) / 60_000));
  const ago = minutes === 0 ? 'less than a minute ago' : `${minutes} minute${minutes === 1 ? '' : 's'} ago`;
  return `at ${new Date(at).toISOString().slice(11, 16)} UTC (${ago})`;
}

function who(by: string, requester: string): string {
  return by === requester ? 'you' : `Slack user ${by}`;
}
