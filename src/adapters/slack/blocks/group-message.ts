import type { KnownBlock } from '@slack/types';
import { displayNumber } from '../../../core/recipient.js';
import { approvalsSoFar, type SendGroup } from '../../../core/send-group.js';
import type { SendRecord } from '../../../core/send-record.js';
import { quote, statusLine } from './send-message.js';

export const REVIEW_APPROVAL = 'review_approval';
export const CANCEL_APPROVAL = 'cancel_approval';

/** `<@U…>` for users, `<!subteam^S…>` for user groups. */
export function mention(id: string): string {
  return id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`;
}

function approvalLine(group: SendGroup): string | undefined {
  const approval = group.approval;
  if (!approval) return undefined;
  const last = approval.decisions.at(-1);
  const comment = last?.comment ? `: “${last.comment}”` : '';
  switch (approval.state) {
    case 'pending':
      return `:hourglass_flowing_sand: *Needs approval* from ${approval.rule.approvers.map(mention).join(', ')} (${approvalsSoFar(approval)} of ${approval.rule.minApprovals}).`;
    case 'approved': {
      const by = [...new Set(approval.decisions.filter((d) => d.decision === 'approve').map((d) => mention(d.userId)))];
      return `:white_check_mark: *Approved* by ${by.join(', ')}.`;
    }
    case 'rejected':
      return `:no_entry: *Rejected* by ${mention(last?.userId ?? '')}${comment}. Nothing was sent.`;
    case 'cancelled':
      return ':heavy_multiplication_x: *Cancelled* by the requester. Nothing was sent.';
    case 'expired':
      return ':alarm_clock: *Expired* before enough approvals. Nothing was sent.';
  }
}

/** One line per recipient with that recipient's own status. */
function recipientLines(group: SendGroup, sends: SendRecord[]): string[] {
  return group.recipients.map((to, index) => {
    const send = sends.find((s) => s.key === group.keys[index]);
    const state = send ? statusLine(send) : group.launched ? ':hourglass_flowing_sand: Sending…' : '—';
    return `${displayNumber(to)}: ${state}`;
  });
}

/** The message of a group: the request for approval (while pending), then each recipient's status. */
export function groupMessage(group: SendGroup, sends: SendRecord[]): { text: string; blocks: KnownBlock[] } {
  const who =
    group.recipients.length === 1
      ? displayNumber(group.recipients[0] as string)
      : `${group.recipients.length} recipients`;
  const headline = `WhatsApp to ${who} via ${group.deviceName}`;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${headline}*\nRequested by <@${group.requestedBy}>` } },
    { type: 'section', text: { type: 'mrkdwn', text: quote(group.text) } },
  ];
  const approval = approvalLine(group);
  if (approval) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: approval }] });
  const lines = recipientLines(group, sends);
  for (let i = 0; i < lines.length; i += 10) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines.slice(i, i + 10).join('\n') } });
  }
  if (group.approval?.state === 'pending') {
    blocks.push({
      type: 'actions',
      block_id: 'approval_actions',
      elements: [
        {
          type: 'button',
          action_id: REVIEW_APPROVAL,
          style: 'primary',
          text: { type: 'plain_text', text: 'Review' },
          value: group.id,
        },
        { type: 'button', action_id: CANCEL_APPROVAL, text: { type: 'plain_text', text: 'Cancel' }, value: group.id },
      ],
    });
  }
  const state = group.approval ? ` (${group.approval.state})` : '';
  return { text: `${headline}${state}`, blocks };
}
