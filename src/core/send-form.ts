import type { CountryCode } from 'libphonenumber-js';
import { checkMedia, type MediaError, type MediaInput, type SendMedia } from './media.js';
import type { Device } from './ports.js';
import { normaliseRecipient, type RecipientProblem } from './recipient.js';

/** WhatsApp's own limit for a text message body. */
export const MAX_TEXT_LENGTH = 4096;

/** How many refused lines a form error lists, so that a pasted list of bad numbers still reads as one error. */
const LINES_REPORTED = 5;

/** What the send form collected, as typed. */
export interface SendForm {
  /** One number per line (commas and semicolons also separate). */
  recipient: string;
  deviceId?: string;
  /** The text, or the caption of `media`. */
  text: string;
  /** An attached file or an https URL, sent as an image, document, audio or video. */
  media?: MediaInput;
}

/** What is wrong with the recipients field, as a code with its data (the chat adapter words it). */
export type RecipientError =
  | { code: RecipientProblem }
  | { code: 'too-many-recipients'; max: number; got: number }
  /** Several lines, some refused: the first few, numbered from 1. */
  | { code: 'bad-lines'; lines: Array<{ line: number; problem: RecipientProblem }> };

export type DeviceError =
  | { code: 'no-device-chosen' }
  | { code: 'device-gone' }
  | { code: 'device-disconnected'; deviceName: string };

export type MessageError = { code: 'empty-message' } | { code: 'message-too-long'; length: number; max: number };

/** The form's errors, by field. */
export interface SendFormErrors {
  recipient?: RecipientError;
  device?: DeviceError;
  message?: MessageError;
  media?: MediaError;
}

export type CheckedSend =
  | { ok: true; to: string[]; device: Device; text: string; media?: SendMedia }
  | { ok: false; errors: SendFormErrors };

export type CheckedRecipients = { ok: true; to: string[] } | { ok: false; error: RecipientError };

/** Normalise every recipient line; duplicates (after normalising) are sent once. */
export function checkRecipients(typed: string, maxRecipients: number, defaultCountry?: CountryCode): CheckedRecipients {
  const lines = typed
    .split(/[\n,;]+/)
    .map((line) => line.trim())
    .filter(Boolean);
  if (lines.length <= 1) {
    const one = normaliseRecipient(lines[0] ?? '', defaultCountry);
    return one.ok ? { ok: true, to: [one.e164] } : { ok: false, error: { code: one.problem } };
  }
  if (lines.length > maxRecipients) {
    return { ok: false, error: { code: 'too-many-recipients', max: maxRecipients, got: lines.length } };
  }
  const to: string[] = [];
  const refused: Array<{ line: number; problem: RecipientProblem }> = [];
  lines.forEach((line, index) => {
    const checked = normaliseRecipient(line, defaultCountry);
    if (!checked.ok) refused.push({ line: index + 1, problem: checked.problem });
    else if (!to.includes(checked.e164)) to.push(checked.e164);
  });
  if (refused.length > 0) return { ok: false, error: { code: 'bad-lines', lines: refused.slice(0, LINES_REPORTED) } };
  return { ok: true, to };
}

function checkDevice(devices: Device[], deviceId: string | undefined): DeviceError | undefined {
  if (!deviceId) return { code: 'no-device-chosen' };
  const device = devices.find((candidate) => candidate.id === deviceId);
  if (!device) return { code: 'device-gone' };
  return device.connected ? undefined : { code: 'device-disconnected', deviceName: device.name };
}

function checkText(text: string, captionOnly: boolean): MessageError | undefined {
  if (text.trim() === '' && !captionOnly) return { code: 'empty-message' };
  return text.length > MAX_TEXT_LENGTH
    ? { code: 'message-too-long', length: text.length, max: MAX_TEXT_LENGTH }
    : undefined;
}

/** Validate a send form against the offered devices; every problem is reported at once, by field. */
export function checkSendForm(
  form: SendForm,
  devices: Device[],
  defaultCountry?: CountryCode,
  maxRecipients = 50,
  /** Whether the bot can serve attached files to WAPing (it has a public address). */
  filesServed = false,
  /** `checkRecipients` of the form, when the caller has it already (numbers are not parsed twice). */
  recipient = checkRecipients(form.recipient, maxRecipients, defaultCountry),
): CheckedSend {
  const device = checkDevice(devices, form.deviceId);
  const message = checkText(form.text, form.media !== undefined);
  const checked = form.media && checkMedia(form.media, filesServed);
  const media = checked && 'code' in checked ? checked : undefined; // the media's error, if any
  const chosen = devices.find((candidate) => candidate.id === form.deviceId);
  if (recipient.ok && !device && !message && !media && chosen) {
    const sent = checked && !('code' in checked) ? { media: checked } : {};
    return { ok: true, to: recipient.to, device: chosen, text: form.text, ...sent };
  }
  return {
    ok: false,
    errors: {
      ...(recipient.ok ? {} : { recipient: recipient.error }),
      ...(device ? { device } : {}),
      ...(message ? { message } : {}),
      ...(media ? { media } : {}),
    },
  };
}
