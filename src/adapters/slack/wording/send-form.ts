import type { MediaError } from '../../../core/media.js';
import type { RecipientProblem } from '../../../core/recipient.js';
import type { DeviceError, MessageError, RecipientError, SendFormErrors } from '../../../core/send-form.js';
import type { SendRequestOutcome } from '../../../core/send-requests.js';
import { fileSize } from './words.js';

/*
 * The words of the send form's inline errors, from the core's codes. Plain text: Slack shows an inline error
 * literally, so a device name quoted here needs no escaping (the caller bounds the length).
 */

/** Why one typed number was refused, with an example of what to type instead. */
export function recipientProblemWords(problem: RecipientProblem): string {
  switch (problem) {
    case 'empty':
      return 'Enter a phone number, e.g. +14155552671.';
    case 'needs-country-code':
      return 'Start the number with + and the country code, e.g. +14155552671.';
    case 'invalid-number':
      return 'This is not a valid phone number: check the digits and the country code (+…).';
  }
}

function recipientWords(error: RecipientError): string {
  switch (error.code) {
    case 'too-many-recipients':
      return `At most ${error.max} recipients per send; this has ${error.got}.`;
    case 'bad-lines':
      return error.lines.map(({ line, problem }) => `Line ${line}: ${recipientProblemWords(problem)}`).join(' ');
    default:
      return recipientProblemWords(error.code);
  }
}

function deviceWords(error: DeviceError): string {
  switch (error.code) {
    case 'no-device-chosen':
      return 'Choose the device that sends the message.';
    case 'device-gone':
      return 'This device is not available any more: choose another one.';
    case 'device-disconnected':
      return `${error.deviceName} is disconnected: re-link it by QR code in WAPing, or choose another device.`;
  }
}

function messageWords(error: MessageError): string {
  switch (error.code) {
    case 'empty-message':
      return 'Write the message to send.';
    case 'message-too-long':
      return `The message is ${error.length} characters long; WhatsApp takes at most ${error.max}. Shorten it by ${error.length - error.max}.`;
  }
}

/** Each field's error in words, for the fields that have one. */
export function sendFormErrorWords(errors: SendFormErrors): Partial<Record<keyof SendFormErrors, string>> {
  return {
    ...(errors.recipient ? { recipient: recipientWords(errors.recipient) } : {}),
    ...(errors.device ? { device: deviceWords(errors.device) } : {}),
    ...(errors.message ? { message: messageWords(errors.message) } : {}),
    ...(errors.media ? { media: mediaWords(errors.media) } : {}),
  };
}

function mediaWords(error: MediaError): string {
  switch (error.code) {
    case 'media-type-not-allowed':
      return `WhatsApp does not take files of type ${error.mimetype}. Send a JPEG or PNG image, an MP4 or 3GP video, AAC, MP3, M4A, AMR or OGG audio, or a PDF, Office, text or ZIP document.`;
    case 'media-too-large':
      return `This file is ${fileSize(error.size)}; WhatsApp takes at most ${fileSize(error.max)} for this type.`;
    case 'media-url-not-https':
      return 'Give a link that starts with https://, so WhatsApp can fetch the file safely.';
    case 'media-files-unavailable':
      return 'Attaching a file needs the bot to have a public address (PUBLIC_URL); give an https link to the file instead.';
  }
}

/** A refusal of the whole form (not of one field's value), in words; the field it is shown under is the caller's. */
export function submissionRefusalWords(
  outcome: Extract<SendRequestOutcome, { kind: 'needs-approver' | 'too-long-to-show' | 'different-resubmission' }>,
): string {
  switch (outcome.kind) {
    case 'needs-approver': {
      const { limit } = outcome;
      return `Sending to more than ${limit} recipient${limit === 1 ? '' : 's'} needs an approver, and none is configured: send to fewer, or ask whoever runs the bot to set approval.teamSends.`;
    }
    case 'too-long-to-show':
      return `This message and its ${outcome.recipients} recipients are too long for Slack to show in full (${outcome.problem}), and ${outcome.approvalNeeded ? 'an approver must see all of it' : 'every send must be shown in full'}: shorten the text or send to fewer recipients.`;
    case 'different-resubmission':
      return 'This form was already sent with other recipients, device or text. Close it and start again with /whatsapp send.';
  }
}

/** Said when a form's submission could not be read (an old form, a changed layout). */
export const FORM_OUT_OF_DATE = 'This form is out of date: close it and run the command again.';

/** Said when the submission failed before the bot could say it was saved. */
export const NOT_SAVED =
  'This may not have been sent: the bot could not save it. Press Send again in a minute (the same form never sends twice).';

/** Said privately when a form that was already submitted is submitted again. */
