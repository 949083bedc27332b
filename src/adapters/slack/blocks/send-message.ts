import type { Button, KnownBlock, RichTextBlock, RichTextElement } from '@slack/types';
import { displayNumber } from '../../../core/recipient.js';
import { type DeliveryStatus, hasFailed, type SendRecord } from '../../../core/send-record.js';
import { deliveryFailureWords, sendFailureWords } from '../wording/send-failures.js';
import { pluralise } from '../wording/words.js';
import { replyButton } from './conversation.js';
import { fallbackText, inline, type LinePart, mrkdwn, wordsBlock } from './literal.js';
import { messageBlocks } from './media.js';

export const RETRY_SEND = 'retry_send';

/** Each delivery status in words: its emoji and its name. */
const STATUS: Record<DeliveryStatus, { emoji: string[]; name: string }> = {
  queued: { emoji: ['outbox_tray'], name: 'Queued' },
  sent: { emoji: ['white_check_mark'], name: 'Sent' },
  delivered: { emoji: ['white_check_mark', 'white_check_mark'], name: 'Delivered' },
  read: { emoji: ['eyes'], name: 'Read' },
  failed: { emoji: ['x'], name: 'Failed' },
};

const STATUS_LABEL = Object.fromEntries(
  Object.entries(STATUS).map(([status, { emoji, name }]) => [status, `${emoji.map((e) => `:${e}:`).join('')} ${name}`]),
) as Record<DeliveryStatus, string>;

/** How much of WAPing's words (a failure reason) a status line shows; a group's lines show less. */
export const REASON_MAX = 500;

/**
 * A one-line summary of where a send stands, in plain words (mrkdwn). WAPing's words, codes and ids
 * are foreign: escaped and bounded.
 */
export function statusLine(send: SendRecord, reasonMax = REASON_MAX): string {
  if (send.state === 'failed') return `:x: *Failed:* ${inline(failedWords(send), reasonMax)}`;
  if (send.state === 'pending') {
    return send.lastError
      ? `:hourglass_flowing_sand: Still trying: WAPing did not answer yet (${inline(send.lastError, 60)}, ${pluralise(send.attempts, 'attempt')}).`
      : ':hourglass_flowing_sand: Sending…';
  }
  if (send.status === 'failed')
    return `:x: *Failed:* ${inline(undeliveredWords(send, 'WhatsApp could not deliver it.'), reasonMax)}`;
  return `${STATUS_LABEL[send.status ?? 'queued']} · WAPing id \`${inline(send.messageId ?? '', 80)}\``;
}

/** Why WAPing refused a send (or never answered), in words. */
function failedWords(send: SendRecord): string {
  return send.failure ? sendFailureWords(send.failure, send.deviceName) : 'unknown reason';
}

/** Why WhatsApp could not deliver a send, in words; `otherwise` when it gave no reason. */
function undeliveredWords(send: SendRecord, otherwise: string): string {
  return send.deliveryFailure ? deliveryFailureWords(send.deliveryFailure) : otherwise;
}

const emoji = (name: string): RichTextElement => ({ type: 'emoji', name });
const bold = (text: string): RichTextElement => ({ type: 'text', text, style: { bold: true } });

/**
 * The status line as rich text, for blocks: the same words as `statusLine`, with WAPing's words, codes and ids
 * as literal text (where mrkdwn would still read `*_~` and backticks as formatting).
 */
export function statusWords(send: SendRecord, reasonMax = REASON_MAX): LinePart[] {
  const failed = (reason: string): LinePart[] => [emoji('x'), bold(' Failed: '), { foreign: reason, max: reasonMax }];
  if (send.state === 'failed') return failed(failedWords(send));
  if (send.state === 'pending') {
    if (!send.lastError) return [emoji('hourglass_flowing_sand'), ' Sending…'];
    const attempts = pluralise(send.attempts, 'attempt');
    return [
      emoji('hourglass_flowing_sand'),
      ' Still trying: WAPing did not answer yet (',
      { foreign: send.lastError, max: 60 },
      `, ${attempts}).`,
    ];
  }
  if (send.status === 'failed') return failed(undeliveredWords(send, 'WhatsApp could not deliver it.'));
  const { emoji: names, name } = STATUS[send.status ?? 'queued'];
  return [...names.map(emoji), ` ${name} · WAPing id `, { foreign: send.messageId ?? '', max: 80 }];
}

/** Slack renders the time in each reader's own time zone; the fallback is UTC. */
function slackTime(at: number): string {
  const seconds = Math.floor(at / 1000);
  return `<!date^${seconds}^{time_secs}|${new Date(at).toISOString().slice(11, 19)} UTC>`;
}

/** The compact timeline: each status with the time it was first seen. */
export function timelineLine(send: SendRecord): string | undefined {
  if (send.timeline.length === 0) return undefined;
  return send.timeline.map(({ status, at }) => `${status} ${slackTime(at)}`).join(' → ');
}

/** The text of the thread reply for one status change. */
export function statusReply(send: SendRecord, status: DeliveryStatus): string {
  const at = [...send.timeline].reverse().find((step) => step.status === status)?.at;
  const when = at === undefined ? '' : ` at ${slackTime(at)}`;
  const to = send.groupId ? `${displayNumber(send.to)}: ` : '';
  if (status === 'failed')
    return `${to}${STATUS_LABEL.failed}${when}: ${inline(undeliveredWords(send, ''), REASON_MAX)}`.trim();
  return `${to}${STATUS_LABEL[status]}${when}`;
}

/**
 * The thread reply for one status change as a message: the mrkdwn text above (escaped, for notifications), and for
 * a failure also a rich_text block, so that WAPing's reason reads literally (mrkdwn cannot show `*_~` as they are).
 */
export function statusReplyMessage(send: SendRecord, status: DeliveryStatus): { text: string; blocks?: KnownBlock[] } {
  const text = fallbackText(statusReply(send, status));
  if (status !== 'failed') return { text };
  const at = [...send.timeline].reverse().find((step) => step.status === 'failed')?.at;
  const block = wordsBlock([
    ...(send.groupId ? [`${displayNumber(send.to)}: `] : []),
    emoji('x'),
    bold(' Failed'),
    ...(at === undefined
      ? []
      : [
          ' at ',
          {
            type: 'date' as const,
            timestamp: Math.floor(at / 1000),
            format: '{time_secs}',
            fallback: `${new Date(at).toISOString().slice(11, 19)} UTC`,
          },
        ]),
    ': ',
    { foreign: undeliveredWords(send, ''), max: REASON_MAX },
  ]);
  return { text, blocks: [block] };
}

/** A status line without its emoji codes, for plain-text fallbacks and replies. */
export function withoutEmoji(line: string): string {
  return line.replace(/:[a-z_]+:\s?/g, '');
}

/** The headline of a send's or a group's message: to whom and via which device (its name shown literally), and who asked. */
export function headlineBlock(lead: string, deviceName: string, requestedBy: string): RichTextBlock {
  return wordsBlock([
    { type: 'text', text: `${lead} via `, style: { bold: true } },
    { foreign: deviceName, max: 100, bold: true },
    '\nRequested by ',
    { user: requestedBy },
  ]);
}

/** The headline for a message's top-level text: escaped and bounded. */
export function headlineText(lead: string, deviceName: string): string {
  return `${lead} via ${inline(deviceName, 100)}`;
}

/** The parent message of a send: to whom, via which device, who asked, the whole text (literally), and its status. */
export function sendMessage(send: SendRecord): { text: string; blocks: KnownBlock[] } {
  const lead = `${send.state === 'pending' ? 'Sending' : 'WhatsApp'} to ${displayNumber(send.to)}`;
  const blocks: KnownBlock[] = [
    headlineBlock(lead, send.deviceName, send.requestedBy),
    ...messageBlocks(send.text, send.media),
    wordsBlock(statusWords(send)),
  ];
  const timeline = timelineLine(send);
  if (timeline) blocks.push({ type: 'context', elements: [mrkdwn(timeline)] });
  const buttons: Button[] = [];
  if (hasFailed(send))
    buttons.push({
      type: 'button',
      action_id: RETRY_SEND,
      text: { type: 'plain_text', text: 'Retry' },
      value: send.key,
    });
  // Once WAPing took it, the customer may answer: Reply opens the form for them.
  if (send.state === 'accepted') buttons.push(replyButton({ to: send.to, deviceId: send.deviceId }));
  if (buttons.length > 0) blocks.push({ type: 'actions', block_id: 'send_actions', elements: buttons });
  return {
    text: fallbackText(`${headlineText(lead, send.deviceName)}: ${withoutEmoji(statusLine(send))}`),
    blocks,
  };
}
