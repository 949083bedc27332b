import type { WapingFailure } from './ports.js';

/** Plain words (no markup: Slack shows them literally) for WAPing's refusals, shown next to a Retry button. */
export function reasonFor(result: WapingFailure, deviceName: string): string {
  switch (result.code) {
    case 'SESSION_DISCONNECTED':
      return `Device “${deviceName}” is disconnected: re-link it by QR code in WAPing, then press Retry.`;
    case 'VALIDATION':
      return 'WAPing refused the message as invalid (check the number and the text), so nothing was sent.';
    case 'UNKNOWN_DEVICE':
      return `WAPing does not know device “${deviceName}”: choose another device and send again.`;
    case 'IDEMPOTENCY_CONFLICT':
      return 'WAPing already holds a different message under this send id, so nothing was sent. Send it again as a new message.';
    case 'UNAUTHORIZED':
      return 'WAPing refused our API key: ask whoever runs the bot to check WAPING_API_KEY, then press Retry.';
    default:
      return `WAPing refused the message (${result.code}${result.status ? `, HTTP ${result.status}` : ''}).`;
  }
}

/** Said when WAPing gave no definite answer for longer than the send policy allows. */
export const UNREACHABLE_REASON =
  'WAPing did not answer for too long, so the message may not have been sent. Press Retry to try again.';
