import type { StepFailure } from '../../../core/step-completions.js';
import { sendFailureWords } from './send-failures.js';
import { sendFormErrorWords, submissionRefusalWords } from './send-form.js';

/*
 * Why the "Send a WhatsApp message" workflow step failed, in plain words: Slack shows them to whoever runs or
 * built the workflow, as the step's error. Plain text; a comment or WAPing's words are quoted as they are.
 */

/** The step's error message for a failure code. */
export function stepFailureWords(failure: StepFailure): string {
  switch (failure.code) {
    case 'unreadable-inputs':
      return 'Nothing was sent: the step needs a recipient, a message, the person it is sent for and a channel.';
    case 'one-recipient':
      return 'This step sends to one phone number; the recipient holds several lines. Use one step per number.';
    case 'refused-request':
      return refusedRequestWords(failure.outcome);
    case 'approval-ended':
      return approvalEndedWords(failure);
    case 'send-failed':
      return `The WhatsApp message was not sent: ${sendFailureWords(failure.failure, failure.deviceName)}`;
  }
}

function refusedRequestWords(outcome: Extract<StepFailure, { code: 'refused-request' }>['outcome']): string {
  switch (outcome.kind) {
    case 'invalid': {
      const { recipient, device, message } = sendFormErrorWords(outcome.errors);
      const fields = [
        recipient && `Recipient: ${recipient}`,
        device && `Device: ${device}`,
        message && `Message: ${message}`,
      ];
      return `Nothing was sent. ${fields.filter(Boolean).join(' ')}`;
    }
    case 'refused':
      return 'Nothing was sent: the person this workflow runs for may not send WhatsApp messages from this channel. Ask whoever runs the bot to add them (or the channel).';
    default:
      return `Nothing was sent. ${submissionRefusalWords(outcome)}`;
  }
}

function approvalEndedWords(failure: Extract<StepFailure, { code: 'approval-ended' }>): string {
  const comment = failure.comment ? ` Their comment: “${failure.comment}”` : '';
  switch (failure.state) {
    case 'rejected':
      return `Nothing was sent: an approver rejected the message.${comment}`;
    case 'expired':
      return 'Nothing was sent: nobody approved the message before the request expired.';
    case 'cancelled':
      return 'Nothing was sent: the request was cancelled before it was approved.';
  }
}
