import type { DecisionRefusal, Notice, ThreadNote } from '../../../core/notices.js';
import type { ApprovalState } from '../../../core/send-group.js';
import { foreign, pluralise, type Words } from './words.js';

/* What people read about approval requests: refusals, thread lines, and the requester's notice of the outcome. */

/** How long a quoted approver comment may be. */
const COMMENT_MAX = 500;

/** Plain words for an approval's outcome. */
export function outcomeWords(state: ApprovalState): string {
  return {
    pending: 'waiting for approval',
    approved: 'approved',
    rejected: 'rejected',
    cancelled: 'cancelled',
    expired: 'expired',
  }[state];
}

/** Why a review, a decision or a cancel was refused, as the person who tried reads it. */
export function refusalText(refusal: DecisionRefusal): string {
  switch (refusal.code) {
    case 'gone':
      return 'This approval request does not exist any more.';
    case 'already-decided':
      return `This request is already ${outcomeWords(refusal.state)}.`;
    case 'own-request':
      return 'You asked for this send, so someone else has to approve it.';
    case 'not-an-approver':
      return 'Only the approvers listed on this request can review it.';
    case 'expired':
      return 'This request has expired, so nothing was sent.';
    case 'expired-before-cancel':
      return 'This request had already expired, so nothing was sent.';
    case 'approved-already':
      return 'You have already approved this request; it needs another approver.';
    case 'not-the-requester':
      return 'Only the person who asked for this send can cancel it.';
    case 'unapprovable':
      return `This request cannot be approved: Slack could not show its whole text and every recipient (${refusal.problem}). Reject it and ask for a shorter send.`;
  }
}

/** Said when the approval modal is submitted without a choice. */
export const CHOOSE_A_DECISION = 'Choose Approve or Reject.';

/** Said to an approver who presses Review on a request Slack cannot show whole (`problem` says what is too big). */
export function cannotReviewText(problem: string): string {
  return `This request cannot be reviewed: Slack could not show its whole text and every recipient (${problem}). Ask the requester to cancel it and send a shorter one.`;
}

/** A decision's line in the request's thread: who, what, and their comment quoted literally. */
export function threadNoteWords(note: ThreadNote): Words {
  const { decision } = note;
  const who: Words = decision.userId === 'system' ? ['The request'] : [{ user: decision.userId }];
  const verb = { approve: 'approved', reject: 'rejected', cancel: 'cancelled', expire: 'expired' }[decision.decision];
  const said: Words = decision.comment ? [': “', foreign(decision.comment, { max: COMMENT_MAX }), '”'] : [];
  return [...who, ` ${verb}`, ...said];
}

/** The requester's notice that a group request ended without sending anything. */
export function groupEndedWords(notice: Extract<Notice, { kind: 'group-ended' }>): Words {
  const reason: Words = notice.comment ? [' Reason: “', foreign(notice.comment, { max: COMMENT_MAX }), '”.'] : [];
  return [
    `Your WhatsApp send to ${pluralise(notice.recipients, 'recipient')} was ${notice.state}, so nothing was sent.`,
    ...reason,
  ];
}
