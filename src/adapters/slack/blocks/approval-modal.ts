import type { KnownBlock, ModalView } from '@slack/types';
import { displayNumber } from '../../../core/recipient.js';
import type { SendGroup } from '../../../core/send-group.js';
import { pluralise } from '../wording/words.js';
import { groupMessage } from './group-message.js';
import { MAX_MESSAGE_BLOCKS, MAX_MODAL_BLOCKS, MAX_TEXT_OBJECT, mrkdwn, overLimit, wordsBlock } from './literal.js';
import { messageBlocks } from './media.js';

export const APPROVAL_MODAL = 'approval_modal';
export const DECISION_BLOCK = 'decision';
export const DECISION_CHOICE = 'decision_choice';
export const COMMENT_BLOCK = 'comment';
export const COMMENT_INPUT = 'comment_input';

/** What the approval modal carries to its submission. */
export interface ApprovalModalMetadata {
  groupId: string;
}

/** The recipients, every one of them, in sections within Slack's 3,000 characters each. */
export function recipientSections(recipients: string[]): KnownBlock[] {
  const title = `*To ${pluralise(recipients.length, 'recipient')}:*`;
  const sections: string[] = [title];
  for (const to of recipients.map(displayNumber)) {
    const last = sections.length - 1;
    const current = sections[last] as string;
    if (current.length + 1 + to.length > MAX_TEXT_OBJECT) sections.push(to);
    else sections[last] = `${current}\n${to}`;
  }
  return sections.map((text) => ({ type: 'section', text: mrkdwn(text) }));
}

/**
 * The approval modal: the whole message (literally, never cut), every recipient, a decision and an
 * optional comment.
 */
export function approvalModal(group: SendGroup): ModalView {
  const metadata: ApprovalModalMetadata = { groupId: group.id };
  return {
    type: 'modal',
    callback_id: APPROVAL_MODAL,
    title: { type: 'plain_text', text: 'Review a WhatsApp send' },
    submit: { type: 'plain_text', text: 'Submit' },
    close: { type: 'plain_text', text: 'Close' },
    private_metadata: JSON.stringify(metadata),
    blocks: approvalModalBlocks(group),
  };
}

function approvalModalBlocks(group: SendGroup): KnownBlock[] {
  return [
    wordsBlock([
      { user: group.requestedBy },
      ' asks to send this from ',
      { foreign: group.deviceName, max: 100, bold: true },
      ':',
    ]),
    ...messageBlocks(group.text, group.media),
    ...recipientSections(group.recipients),
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
}

/**
 * Why a group's message or its approval modal could not show the whole text and every recipient
 * within Slack's limits (blocks per message and modal, characters per text), or undefined when both
 * can. Such a group is refused at the send form's submit and can never be approved.
 */
export function cannotShowInFull(group: SendGroup): string | undefined {
  return (
    overLimit(groupMessage(group, []).blocks, MAX_MESSAGE_BLOCKS) ??
    overLimit(approvalModalBlocks(group), MAX_MODAL_BLOCKS)
  );
}
