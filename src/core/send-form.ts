import type { CountryCode } from 'libphonenumber-js';
import type { Device } from './ports.js';
import { normaliseRecipient } from './recipient.js';

/** WhatsApp's own limit for a text message body. */
export const MAX_TEXT_LENGTH = 4096;

/** What the send modal collected, as typed. */
export interface SendForm {
  /** One number per line (commas and semicolons also separate). */
  recipient: string;
  deviceId?: string;
  text: string;
}

/** Inline errors, keyed by the modal field they belong to. */
export type SendFormErrors = Partial<Record<'recipient' | 'device' | 'message', string>>;

export type CheckedSend =
  | { ok: true; to: string[]; device: Device; text: string }
  | { ok: false; errors: SendFormErrors };

/** Normalise every recipient line; duplicates (after normalising) are sent once. */
function checkRecipients(
  typed: string,
  maxRecipients: number,
  defaultCountry?: CountryCode,
): { ok: true; to: string[] } | { ok: false; error: string } {
  const lines = typed
    .split(/[\n,;]+/)
    .map((line) => line.trim())
    .filter(Boolean);
  if (lines.length <= 1) {
    const one = normaliseRecipient(lines[0] ?? '', defaultCountry);
    return one.ok ? { ok: true, to: [one.e164] } : one;
  }
  if (lines.length > maxRecipients) {
    return { ok: false, error: `At most ${maxRecipients} recipients per send; this has ${lines.length}.` };
  }
  const to: string[] = [];
  const problems: string[] = [];
  lines.forEach((line, index) => {
    const checked = normaliseRecipient(line, defaultCountry);
    if (!checked.ok) problems.push(`Line ${index + 1}: ${checked.error}`);
    else if (!to.includes(checked.e164)) to.push(checked.e164);
  });
  if (problems.length > 0) return { ok: false, error: problems.slice(0, 5).join(' ') };
  return { ok: true, to };
}

/** Validate a send form against the offered devices; every problem is reported at once, by field. */
export function checkSendForm(
  form: SendForm,
  devices: Device[],
  defaultCountry?: CountryCode,
  maxRecipients = 50,
): CheckedSend {
  const errors: SendFormErrors = {};
  const recipient = checkRecipients(form.recipient, maxRecipients, defaultCountry);
  if (!recipient.ok) errors.recipient = recipient.error;

  const device = devices.find((candidate) => candidate.id === form.deviceId);
  if (!form.deviceId) errors.device = 'Choose the device that sends the message.';
  else if (!device) errors.device = 'This device is not available any more: choose another one.';
  else if (!device.connected) {
    errors.device = `${device.name} is disconnected: re-link it by QR code in WAPing, or choose another device.`;
  }

  if (form.text.trim() === '') errors.message = 'Write the message to send.';
  else if (form.text.length > MAX_TEXT_LENGTH) {
    errors.message = `The message is ${form.text.length} characters long; WhatsApp takes at most ${MAX_TEXT_LENGTH}. Shorten it by ${form.text.length - MAX_TEXT_LENGTH}.`;
  }

  if (!recipient.ok || !device || Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, to: recipient.to, device, text: form.text };
}
