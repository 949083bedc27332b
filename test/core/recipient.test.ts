import { describe, expect, it } from 'vitest';
import { recipientProblemWords } from '../../src/adapters/slack/wording/send-form.js';
import { normaliseRecipient } from '../../src/core/recipient.js';

const NUMBER = '+14155552671';

describe('normaliseRecipient', () => {
  it('passes an E.164 number through unchanged', () => {
    expect(normaliseRecipient(NUMBER)).toEqual({ ok: true, e164: NUMBER });
    expect(normaliseRecipient('+442071838750')).toEqual({ ok: true, e164: '+442071838750' });
  });

  it('reads a 00 international prefix as +', () => {
    expect(normaliseRecipient('0014155552671')).toEqual({ ok: true, e164: NUMBER });
    expect(normaliseRecipient('00 44 20 7183 8750')).toEqual({ ok: true, e164: '+442071838750' });
  });

  it('ignores spaces, dashes, dots, brackets and surrounding blanks', () => {
    for (const typed of ['+1 415-555-2671', '+1 (415) 555.2671', '  +14155552671\n']) {
      expect(normaliseRecipient(typed)).toEqual({ ok: true, e164: NUMBER });
    }
  });

  it('accepts a national number when a default country is configured', () => {
    expect(normaliseRecipient('(415) 555-2671', 'US')).toEqual({ ok: true, e164: NUMBER });
    expect(normaliseRecipient('020 7183 8750', 'GB')).toEqual({ ok: true, e164: '+442071838750' });
  });

  it('still takes an international number as it is when a default country is configured', () => {
    expect(normaliseRecipient('+442071838750', 'US')).toEqual({ ok: true, e164: '+442071838750' });
  });

  it('refuses a national number without a default country, asking for + and the country code', () => {
    const check = normaliseRecipient('(415) 555-2671');
    expect(check.ok).toBe(false);
    expect(!check.ok && recipientProblemWords(check.problem)).toMatch(/\+ and the country code/);
  });

  it.each([
    ['too short', '+1415555'],
    ['an unassigned range', '+15551234567'],
    ['letters', '+1 415 CALL NOW'],
    ['an unknown country code', '+999123456789'],
  ])('refuses a number with %s', (_what, typed) => {
    const check = normaliseRecipient(typed, 'US');
    expect(check).toMatchObject({ ok: false });
    expect(!check.ok && recipientProblemWords(check.problem)).toMatch(/not a valid phone number/);
  });

  it('refuses an empty recipient with an example of what to type', () => {
    const check = normaliseRecipient('   ');
    expect(check).toMatchObject({ ok: false });
    expect(!check.ok && recipientProblemWords(check.problem)).toMatch(/Enter a phone number/);
  });
});
