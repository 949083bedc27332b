import type { KnownBlock, ModalView } from '@slack/types';
import { displayNumber } from '../../../core/recipient.js';
import type { SendGroup } from '../../../core/send-group.js';
import { quote } from './send-message.js';

export const APPROVAL_MODAL = 'approval_modal';
export const DECISION_BLOCK = 'decision';
export const DECISION_CHOICE = 'decision_choice';
export const COMMENT_BLOCK = 'comment';
export const COMMENT_INPUT = 'comment_input';

/** What the approval modal carries to its submission. */
export interface ApprovalModalMetadata {
  groupId: string;
}

/** The approval modal: the full message and recipients, a decision and an optional comment. */
export function approvalModal(group: SendGroup): ModalView {
  const recipients = group.recipients.map(displayNumber).join('\n');
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `<@${group.requestedBy}> asks to send this from *${group.deviceName}*:` },
    },
    { type: 'section', text: { type: 'mrkdwn', text: quote(group.text) } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*To ${group.recipients.length} recipient${group.recipients.length === 1 ? '' : 's'}:*\n${recipients}`.slice(
          0,
          3000,
        ),
      },
    },
    {
      type: 'input',
      block_id: DECISION_BLOCK,
      label: { type: 'plain_text', text: 'Decision' },
      element: {
        type: 'radio_buttons',
        action_id: DECISION_CHOICE,
        options: [
          { text: { type: 'plain_text', text: 'Approve and send' }, value: 'approve' },
          { text: { type: 'plain_text', text: 'Reject' }, value: 'reject' },
        ],
      },
    },
    {
      type: 'input',
      block_id: COMMENT_BLOCK,
      optional: true,
      label: { type: 'plain_text', text: 'Comment' },
      element: { type: 'plain_text_input', action_id: COMMENT_INPUT, multiline: true, max_length: 500 },
    },
  ];
  const metadata: ApprovalModalMetadata = { groupId: group.id };
  return {
    type: 'modal',
    callback_id: APPROVAL_MODAL,
    title: { type: 'plain_text', text: 'Review a WhatsApp send' },
    submit: { type: 'plain_text', text: 'Submit' },
    close: { type: 'plain_text', text: 'Close' },
    private_metadata: JSON.stringify(metadata),
    blocks,
  };
}
