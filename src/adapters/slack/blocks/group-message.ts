import type { Button, KnownBlock } from '@slack/types';
import { displayNumber } from '../../../core/recipient.js';
import { approvalsSoFar, type SendGroup } from '../../../core/send-group.js';
import type { SendRecord } from '../../../core/send-record.js';
import { fallbackText, type LinePart, mrkdwn, wordsBlock } from './literal.js';
import { messageBlocks } from './media.js';
import { headlineBlock, headlineText, statusWords } from './send-message.js';

export const REVIEW_APPROVAL = 'review_approval';
export const CANCEL_APPROVAL = 'cancel_approval';

/**
 * Recipient lines per rich_text block. Each line is bounded (a number, and a status whose WAPing words are
 * cut at GROUP_REASON_MAX), so the 500 recipients `maxRecipients` allows take 34 blocks: the message stays
 * within 50 blocks.
 */
const LINES_PER_SECTION = 15;
const GROUP_REASON_MAX = 120;

/** `<@U…>` for users, `<!subteam^S…>` for user groups. */
export function mention(id: string): string {
  return id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`;
}

function approvalLine(group: SendGroup): string | undefined {
  const approval = group.approval;
  if (!approval) return undefined;
  const last = approval.decisions.at(-1);
  switch (approval.state) {
    case 'pending':
      return `:hourglass_flowing_sand: *Needs approval* from ${approval.rule.approvers.map(mention).join(', ')} (${approvalsSoFar(approval)} of ${approval.rule.minApprovals}).`;
    case 'approved': {
      const by = [...new Set(approval.decisions.filter((d) => d.decision === 'approve').map((d) => mention(d.userId)))];
      return `:white_check_mark: *Approved* by ${by.join(', ')}.`;
    }
    case 'rejected':
      return `:no_entry: *Rejected* by ${mention(last?.userId ?? '')}${last?.comment ? ' (comment below)' : ''}. Nothing was sent.`;
    case 'cancelled':
      return ':heavy_multiplication_x: *Cancelled* by the requester. Nothing was sent.';
    case 'expired':
      return ':alarm_clock: *Expired* before enough approvals. Nothing was sent.';
  }
}

/** One line per recipient with that recipient's own status (WAPing's words in it shown literally). */
function recipientLines(group: SendGroup, sends: SendRecord[]): LinePart[][] {
  return group.recipients.map((to, index) => {
    const send = sends.find((s) => s.key === group.keys[index]);
    const state: LinePart[] = send
      ? statusWords(send, GROUP_REASON_MAX)
      : group.launched
        ? [{ type: 'emoji', name: 'hourglass_flowing_sand' }, ' Sending…']
        : ['—'];
    return [`${displayNumber(to)}: `, ...state];
  });
}

/** **Review** on a pending request: opens the approval modal (on the request message and in an approver's Home). */
export function reviewButton(groupId: string): Button {
  return {
    type: 'button',
    action_id: REVIEW_APPROVAL,
    style: 'primary',
    text: { type: 'plain_text', text: 'Review' },
    value: groupId,
  };
}

/**
 * The message of a group: the request for approval (while pending), then each recipient's status.
 * The text is always shown in full and literally, and every recipient is listed.
 */
export function groupMessage(group: SendGroup, sends: SendRecord[]): { text: string; blocks: KnownBlock[] } {
  const who =
    group.recipients.length === 1
      ? displayNumber(group.recipients[0] as string)
      : `${group.recipients.length} recipients`;
  const lead = `WhatsApp to ${who}`;
  const blocks: KnownBlock[] = [
    headlineBlock(lead, group.deviceName, group.requestedBy),
    ...messageBlocks(group.text, group.media),
  ];
  const approval = approvalLine(group);
  if (approval) blocks.push({ type: 'context', elements: [mrkdwn(approval)] });
  const comment = group.approval?.state === 'rejected' ? group.approval.decisions.at(-1)?.comment : undefined;
  if (comment) blocks.push(wordsBlock(['Comment: “', { foreign: comment, max: 500 }, '”']));
  const lines = recipientLines(group, sends);
  for (let i = 0; i < lines.length; i += LINES_PER_SECTION) {
    blocks.push(
      wordsBlock(lines.slice(i, i + LINES_PER_SECTION).flatMap((line, n) => (n > 0 ? ['\n', ...line] : line))),
    );
  }
  if (group.approval?.state === 'pending') {
    blocks.push({
      type: 'actions',
      block_id: 'approval_actions',
      elements: [
        reviewButton(group.id),
        { type: 'button', action_id: CANCEL_APPROVAL, text: { type: 'plain_text', text: 'Cancel' }, value: group.id },
      ],
    });
  }
  const state = group.approval ? ` (${group.approval.state})` : '';
  return { text: fallbackText(`${headlineText(lead, group.deviceName)}${state}`), blocks };
}
