import { describe, expect, it } from 'vitest';
import { statusLine, statusReply } from '../../../../src/adapters/slack/blocks/send-message.js';
import { deliveryFailureWords, sendFailureWords } from '../../../../src/adapters/slack/wording/send-failures.js';
import {
  recipientProblemWords,
  sendFormErrorWords,
  submissionRefusalWords,
} from '../../../../src/adapters/slack/wording/send-form.js';
import type { SendRecord } from '../../../../src/core/send-record.js';

/*
 * The core answers in codes; the Slack adapter words them. These pin the words each code becomes, and that a record
 * stored by an earlier version (its failure already in words) is still shown as it was.
 */

describe('the send form errors, in words', () => {
  it('words each recipient problem with what to type instead', () => {
    expect(recipientProblemWords('empty')).toBe('Enter a phone number, e.g. +14155552671.');
    expect(recipientProblemWords('needs-country-code')).toBe(
      'Start the number with + and the country code, e.g. +14155552671.',
    );
    expect(recipientProblemWords('invalid-number')).toMatch(/^This is not a valid phone number/);
  });

  it('numbers refused lines, and says the limit and the count of too many recipients', () => {
    expect(
      sendFormErrorWords({
        recipient: {
          code: 'bad-lines',
          lines: [
            { line: 2, problem: 'invalid-number' },
            { line: 4, problem: 'needs-country-code' },
          ],
        },
      }),
    ).toEqual({
      recipient:
        'Line 2: This is not a valid phone number: check the digits and the country code (+…). Line 4: Start the number with + and the country code, e.g. +14155552671.',
    });
    expect(sendFormErrorWords({ recipient: { code: 'too-many-recipients', max: 50, got: 51 } })).toEqual({
      recipient: 'At most 50 recipients per send; this has 51.',
    });
  });

  it('words the device and message errors, naming a disconnected device and by how much to shorten', () => {
    expect(
      sendFormErrorWords({
        device: { code: 'device-disconnected', deviceName: 'Old phone' },
        message: { code: 'message-too-long', length: 4100, max: 4096 },
      }),
    ).toEqual({
      device: 'Old phone is disconnected: re-link it by QR code in WAPing, or choose another device.',
      message: 'The message is 4100 characters long; WhatsApp takes at most 4096. Shorten it by 4.',
    });
    expect(sendFormErrorWords({ device: { code: 'no-device-chosen' }, message: { code: 'empty-message' } })).toEqual({
      device: 'Choose the device that sends the message.',
      message: 'Write the message to send.',
    });
    expect(sendFormErrorWords({ device: { code: 'device-gone' } })).toEqual({
      device: 'This device is not available any more: choose another one.',
    });
  });

  it('words refusals of the whole form: no approver (singular and plural), too long to show, a different resubmission', () => {
    expect(submissionRefusalWords({ kind: 'needs-approver', limit: 1 })).toMatch(
      /^Sending to more than 1 recipient needs an approver, and none is configured/,
    );
    expect(submissionRefusalWords({ kind: 'needs-approver', limit: 5 })).toMatch(/more than 5 recipients needs/);
    const tooLong = { kind: 'too-long-to-show', problem: '51 blocks, at most 50', recipients: 60 } as const;
    expect(submissionRefusalWords({ ...tooLong, approvalNeeded: true })).toBe(
      'This message and its 60 recipients are too long for Slack to show in full (51 blocks, at most 50), and an approver must see all of it: shorten the text or send to fewer recipients.',
    );
    expect(submissionRefusalWords({ ...tooLong, approvalNeeded: false })).toMatch(/every send must be shown in full/);
    expect(submissionRefusalWords({ kind: 'different-resubmission' })).toMatch(/already sent with other recipients/);
  });
});

describe('a failed send, in words', () => {
  it.each([
    ['SESSION_DISCONNECTED', 422, /^Device “Support line” is disconnected: re-link it by QR code in WAPing/],
    ['VALIDATION', 400, /refused the message as invalid/],
    ['UNKNOWN_DEVICE', 404, /does not know device “Support line”/],
    ['IDEMPOTENCY_CONFLICT', 409, /already holds a different message/],
    ['UNAUTHORIZED', 401, /WAPING_API_KEY/],
    ['HTTP_418', 418, /^WAPing refused the message \(HTTP_418, HTTP 418\)\.$/],
  ])('words WAPing refusing with %s', (code, status, words) => {
    expect(sendFailureWords({ code, status }, 'Support line')).toMatch(words);
  });

  it('says a send WAPing never answered may not have been sent, and leaves out a status it does not have', () => {
    expect(sendFailureWords({ code: 'UNREACHABLE' }, 'Support line')).toBe(
      'WAPing did not answer for too long, so the message may not have been sent. Press Retry to try again.',
    );
    expect(sendFailureWords({ code: 'GONE' }, 'Support line')).toBe('WAPing refused the message (GONE).');
  });

  it("words WhatsApp's delivery failure with its own words when it gave any", () => {
    expect(deliveryFailureWords({ code: 'FAILED' })).toBe('WhatsApp could not deliver the message.');
    expect(deliveryFailureWords({ code: '131026', detail: 'Receiver is incapable' })).toBe(
      'WhatsApp could not deliver the message: Receiver is incapable (131026).',
    );
  });

  it('shows the words a record from an earlier version stored, as they are', () => {
    const old = 'Device “Support line” is disconnected: re-link it by QR code in WAPing, then press Retry.';
    expect(sendFailureWords({ code: 'SESSION_DISCONNECTED', reason: old }, 'Renamed device')).toBe(old);
    const send = {
      state: 'failed',
      deviceName: 'Renamed device',
      failure: { code: 'SESSION_DISCONNECTED', reason: old },
    } as SendRecord;
    expect(statusLine(send)).toContain('re-link it by QR code in WAPing, then press Retry.');
    const undelivered = {
      state: 'accepted',
      status: 'failed',
      to: '+14155550101',
      timeline: [],
      deliveryFailure: { code: '131026', reason: 'WhatsApp could not deliver the message: gone (131026).' },
    } as unknown as SendRecord;
    expect(statusReply(undelivered, 'failed')).toContain('WhatsApp could not deliver the message: gone (131026).');
  });
});
