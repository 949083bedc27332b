import type { SendFailure } from '../../../core/send-record.js';

/*
 * Why a send failed, in plain words (no markup: the status line shows them literally, WAPing's and WhatsApp's
 * words included). A record written before failures were stored as codes holds its words in `reason`: shown as is.
 */

/** WAPing's refusal, or its silence for too long, in words a person can act on (next to the Retry button). */
export function sendFailureWords(failure: SendFailure, deviceName: string): string {
  if (failure.reason !== undefined) return failure.reason;
  switch (failure.code) {
    case 'UNREACHABLE':
      return 'WAPing did not answer for too long, so the message may not have been sent. Press Retry to try again.';
    case 'SESSION_DISCONNECTED':
      return `Device “${deviceName}” is disconnected: re-link it by QR code in WAPing, then press Retry.`;
    case 'VALIDATION':
      return 'WAPing refused the message as invalid (check the number and the text), so nothing was sent.';
    case 'UNKNOWN_DEVICE':
      return `WAPing does not know device “${deviceName}”: choose another device and send again.`;
    case 'IDEMPOTENCY_CONFLICT':
      return 'WAPing already holds a different message under this send id, so nothing was sent. Send it again as a new message.';
    case 'MEDIA_FETCH_FAILED':
      return 'WAPing could not fetch the file to send (its link failed or expired), so nothing was sent. Send it again.';
    case 'UNAUTHORIZED':
      return 'WAPing refused our API key: ask whoever runs the bot to check WAPING_API_KEY, then press Retry.';
    default:
      return `WAPing refused the message (${failure.code}${failure.status ? `, HTTP ${failure.status}` : ''}).`;
  }
}

/** Why WhatsApp could not deliver a message WAPing took, with WhatsApp's own words when it gave any. */
export function deliveryFailureWords(failure: SendFailure): string {
  if (failure.reason !== undefined) return failure.reason;
  if (failure.detail === undefined) return 'WhatsApp could not deliver the message.';
  return `WhatsApp could not deliver the message: ${failure.detail} (${failure.code}).`;
}
