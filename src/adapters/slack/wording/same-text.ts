import type { RecentSend } from '../../../core/recent-sends.js';
import { displayNumber } from '../../../core/recipient.js';
import type { LinePart } from '../blocks/literal.js';

/*
 * The send form's warning when the same text went to the same number a few minutes ago (often: a Slack error made
 * someone think the first form failed, and they filled in a new one). Slack shows the time in each reader's own
 * time zone and the sender as a mention.
 */

/** The warning above "Send it again": each number, when the text went there, and who sent it. */
export function recentlySentWords(sends: RecentSend[]): LinePart[] {
  const parts: LinePart[] = [{ emoji: 'warning' }, ' This exact text went to '];
  sends.forEach(({ to, at, by }, i) => {
    if (i > 0) parts.push(i === sends.length - 1 ? ' and to ' : ', to ');
    parts.push(`${displayNumber(to)} at `, sentAt(at), ', sent by ', { user: by });
  });
  parts.push('. Tick “Send it again” to send it anyway, or close the form.');
  return parts;
}

/** The time of day and how long ago, in the reader's time zone; UTC where Slack cannot render it. */
function sentAt(at: number): LinePart {
  return {
    type: 'date',
    timestamp: Math.floor(at / 1000),
    format: '{time} ({ago})',
    fallback: `${new Date(at).toISOString().slice(11, 16)} UTC`,
  };
}
