import { describe, expect, it } from 'vitest';
import { outcomeWords, refusalText, threadNoteWords } from '../../../src/adapters/slack/wording/approvals.js';
import {
  ALREADY_SUBMITTED,
  deviceAlertWords,
  noticeWords,
  parentFallbackText,
} from '../../../src/adapters/slack/wording/notices.js';
import { pluralise, type Words } from '../../../src/adapters/slack/wording/words.js';
import type { DecisionRefusal } from '../../../src/core/notices.js';
import type { ApprovalState } from '../../../src/core/send-group.js';
import type { SendRecord } from '../../../src/core/send-record.js';

/*
 * The core speaks in codes and typed notices; the Slack adapter's wording turns them into what people read. These
 * pin the words (plurals included) of each refusal, note, notice and alert; test/core/approvals.test.ts pins the codes.
 */

const NOW = 1_700_000_000_000;
const REQUESTER = 'U0REQ';

/** Words as a person reads them: mentions as `<@U…>`, emoji as `:name:`, foreign parts as they are. */
function plain(words: string | Words): string {
  if (typeof words === 'string') return words;
  return words
    .map((part) =>
      typeof part === 'string'
        ? part
        : 'user' in part
          ? `<@${part.user}>`
          : 'emoji' in part
            ? `:${part.emoji}:`
            : part.foreign,
    )
    .join('');
}

describe('the wording of refusals', () => {
  const cases: Array<[DecisionRefusal, string]> = [
    [{ code: 'gone' }, 'This approval request does not exist any more.'],
    [{ code: 'already-decided', state: 'rejected' }, 'This request is already rejected.'],
    [{ code: 'already-decided', state: 'pending' }, 'This request is already waiting for approval.'],
    [{ code: 'own-request' }, 'You asked for this send, so someone else has to approve it.'],
    [{ code: 'not-an-approver' }, 'Only the approvers listed on this request can review it.'],
    [{ code: 'expired' }, 'This request has expired, so nothing was sent.'],
    [{ code: 'expired-before-cancel' }, 'This request had already expired, so nothing was sent.'],
    [{ code: 'approved-already' }, 'You have already approved this request; it needs another approver.'],
    [{ code: 'not-the-requester' }, 'Only the person who asked for this send can cancel it.'],
    [
      { code: 'unapprovable', problem: 'a section too long' },
      'This request cannot be approved: Slack could not show its whole text and every recipient (a section too long). Reject it and ask for a shorter send.',
    ],
  ];
  it.each(cases)('words %j', (refusal, text) => {
    expect(refusalText(refusal)).toBe(text);
  });

  it('names every outcome', () => {
    const states: ApprovalState[] = ['pending', 'approved', 'rejected', 'cancelled', 'expired'];
    expect(states.map(outcomeWords)).toEqual(['waiting for approval', 'approved', 'rejected', 'cancelled', 'expired']);
  });
});

describe('the wording of notices', () => {
  it('pluralises a count unless it is one', () => {
    expect(pluralise(0, 'recipient')).toBe('0 recipients');
    expect(pluralise(1, 'recipient')).toBe('1 recipient');
    expect(pluralise(2, 'attempt')).toBe('2 attempts');
    expect(pluralise(3, 'reply', 'replies')).toBe('3 replies');
  });

  it('tells the requester a group ended, with the count in the right number and the comment literal', () => {
    expect(plain(noticeWords({ kind: 'group-ended', state: 'rejected', recipients: 1 }))).toBe(
      'Your WhatsApp send to 1 recipient was rejected, so nothing was sent.',
    );
    const words = noticeWords({ kind: 'group-ended', state: 'expired', recipients: 3, comment: '*not* <!here>' });
    expect(plain(words)).toBe(
      'Your WhatsApp send to 3 recipients was expired, so nothing was sent. Reason: “*not* <!here>”.',
    );
    expect(words).toContainEqual({ foreign: '*not* <!here>', max: 500 });
  });

  it('tells a second submission of a form that nothing was sent again, with the first send when there is one', () => {
    expect(noticeWords({ kind: 'already-submitted' })).toBe(ALREADY_SUBMITTED);
    const send = { state: 'accepted', status: 'queued', messageId: 'msg_1', attempts: 1 } as unknown as SendRecord;
    const said = noticeWords({ kind: 'already-submitted', send });
    expect(said).toMatch(/^This form was already submitted, so nothing was sent again\. That send: /);
    expect(said).not.toMatch(/:[a-z_]+:/); // no emoji in a private note
  });

  it('notes each decision in the thread: who, what, and the comment literal', () => {
    const note = (decision: Parameters<typeof threadNoteWords>[0]['decision']) =>
      plain(threadNoteWords({ kind: 'approval-decision', decision }));
    expect(note({ userId: 'U0A', decision: 'approve', at: NOW })).toBe('<@U0A> approved');
    expect(note({ userId: 'U0A', decision: 'reject', at: NOW, comment: 'no _way_' })).toBe(
      '<@U0A> rejected: “no _way_”',
    );
    expect(note({ userId: REQUESTER, decision: 'cancel', at: NOW })).toBe(`<@${REQUESTER}> cancelled`);
    expect(note({ userId: 'system', decision: 'expire', at: NOW })).toBe('The request expired');
  });

  it('alerts ops about a device session, with the device name bold and literal and the reason literal', () => {
    const down = deviceAlertWords({
      kind: 'device-session',
      deviceName: '*Support*',
      connected: false,
      reason: 'logged out',
    });
    expect(plain(down)).toBe(
      ':red_circle: WhatsApp device *Support* is disconnected (logged out): re-link it by QR code in WAPing. Sends from it are refused until then.',
    );
    expect(down).toContainEqual({ foreign: '*Support*', max: 100, bold: true });
    expect(plain(deviceAlertWords({ kind: 'device-session', deviceName: 'Support', connected: false }))).toBe(
      ':red_circle: WhatsApp device Support is disconnected: re-link it by QR code in WAPing. Sends from it are refused until then.',
    );
    expect(plain(deviceAlertWords({ kind: 'device-session', deviceName: 'Support', connected: true }))).toBe(
      ':large_green_circle: WhatsApp device Support is connected again.',
    );
  });

  it('says why the message that follows a send went to a DM, for a send, a group and an approval request', () => {
    expect(parentFallbackText('not_in_channel', true, undefined)).toBe(
      "I can't post in this channel (invite me with `/invite @WhatsApp` to follow sends here). Your message is being sent anyway; I'll keep you posted in a direct message.",
    );
    expect(parentFallbackText(undefined, false, { approval: false })).toBe(
      "Slack would not take the message that follows this send (no answer). Your messages are being sent anyway; I'll keep you posted in a direct message.",
    );
    expect(parentFallbackText('ratelimited', false, { approval: true })).toMatch(
      /\(ratelimited\)\. I've put the approval request in a direct message to you instead/,
    );
  });
});
