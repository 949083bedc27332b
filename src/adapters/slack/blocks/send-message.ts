import type { KnownBlock } from '@slack/types';
import { displayNumber } from '../../../core/recipient.js';
import { type DeliveryStatus, hasFailed, type SendRecord } from '../../../core/send-record.js';

export const RETRY_SEND = 'retry_send';

const STATUS_LABEL: Record<DeliveryStatus, string> = {
  queued: ':outbox_tray: Queued',
  sent: ':white_check_mark: Sent',
  delivered: ':white_check_mark::white_check_mark: Delivered',
  read: ':eyes: Read',
  failed: ':x: Failed',
};

/** A one-line summary of where a send stands, in plain words. */
export function statusLine(send: SendRecord): string {
  if (send.state === 'failed') return `:x: *Failed:* ${escapeMrkdwn(send.failure?.reason ?? 'unknown reason')}`;
  if (send.state === 'pending') {
    return send.lastError
      ? `:hourglass_flowing_sand: Still trying: WAPing did not answer yet (${send.lastError}, ${send.attempts} attempt${send.attempts === 1 ? '' : 's'}).`
      : ':hourglass_flowing_sand: Sending…';
  }
  if (send.status === 'failed')
    return `:x: *Failed:* ${escapeMrkdwn(send.deliveryFailure?.reason ?? 'WhatsApp could not deliver it.')}`;
  return `${STATUS_LABEL[send.status ?? 'queued']} · WAPing id \`${send.messageId}\``;
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
    return `${to}${STATUS_LABEL.failed}${when}: ${escapeMrkdwn(send.deliveryFailure?.reason ?? '')}`.trim();
  return `${to}${STATUS_LABEL[status]}${when}`;
}

/** A status line without its emoji codes, for plain-text fallbacks and replies. */
export function withoutEmoji(line: string): string {
  return line.replace(/:[a-z_]+:\s?/g, '');
}

/** Slack's three control characters, escaped so a text cannot ping `<!channel>` or disguise a link. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Quote a message for mrkdwn, within one section's 3000 characters whatever its lines. */
export function quote(text: string): string {
  const quoted = escapeMrkdwn(text)
    .split('\n')
    .map((line) => `>${line}`)
    .join('\n');
  return quoted.length > 2900 ? `${quoted.slice(0, 2900)}…` : quoted;
}

/** The parent message of a send: to whom, via which device, who asked, the text, and its status. */
export function sendMessage(send: SendRecord): { text: string; blocks: KnownBlock[] } {
  const to = displayNumber(send.to);
  const headline = `${send.state === 'pending' ? 'Sending' : 'WhatsApp'} to ${to} via ${send.deviceName}`;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${headline}*\nRequested by <@${send.requestedBy}>` } },
    { type: 'section', text: { type: 'mrkdwn', text: quote(send.text) } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: statusLine(send) }] },
  ];
  const timeline = timelineLine(send);
  if (timeline) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: timeline }] });
  if (hasFailed(send)) {
    blocks.push({
      type: 'actions',
      block_id: 'send_actions',
      elements: [
        { type: 'button', action_id: RETRY_SEND, text: { type: 'plain_text', text: 'Retry' }, value: send.key },
      ],
    });
  }
  return { text: `${headline}: ${withoutEmoji(statusLine(send))}`, blocks };
}
