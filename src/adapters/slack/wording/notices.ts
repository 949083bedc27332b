import type { DeviceAlert, Notice } from '../../../core/notices.js';
import { statusLine, withoutEmoji } from '../blocks/send-message.js';
import { groupEndedWords } from './approvals.js';
import { foreign, type Words } from './words.js';

/* What a person (or the ops channel) reads for each of the core's notices and alerts. */

/** Said when the same form is submitted again: its first submission was claimed, nothing is sent twice. */
export const ALREADY_SUBMITTED = 'This form was already submitted, so nothing was sent again.';

/** A private notice, as the person reads it: the bot's own mrkdwn (a string), or words with foreign parts. */
export function noticeWords(notice: Notice): string | Words {
  switch (notice.kind) {
    case 'group-ended':
      return groupEndedWords(notice);
    case 'already-submitted':
      return notice.send
        ? `${ALREADY_SUBMITTED} That send: ${withoutEmoji(statusLine(notice.send))}`
        : ALREADY_SUBMITTED;
  }
}

/** A device's session alert for the ops channel: the device name bold and literal, WAPing's reason literal. */
export function deviceAlertWords(alert: DeviceAlert): Words {
  const device = foreign(alert.deviceName, { max: 100, bold: true });
  if (alert.connected) return [{ emoji: 'large_green_circle' }, ' WhatsApp device ', device, ' is connected again.'];
  return [
    { emoji: 'red_circle' },
    ' WhatsApp device ',
    device,
    ' is disconnected',
    ...(alert.reason ? [' (', foreign(alert.reason, { max: 300 }), ')'] : []),
    ': re-link it by QR code in WAPing. Sends from it are refused until then.',
  ];
}

/** Why the message that follows a send could not go where the person asked, and where it goes instead. */
export function parentFallbackText(
  code: string | undefined,
  refused: boolean,
  group: { approval: boolean } | undefined,
): string {
  const next = !group
    ? "Your message is being sent anyway; I'll keep you posted in a direct message."
    : group.approval
      ? "I've put the approval request in a direct message to you instead: share it with the approvers, or invite me and send again."
      : "Your messages are being sent anyway; I'll keep you posted in a direct message.";
  return refused
    ? `I can't post in this channel (invite me with \`/invite @WhatsApp\` to follow sends here). ${next}`
    : `Slack would not take the message that follows this send (${code ?? 'no answer'}). ${next}`;
}
