import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type RecipientCheck = { ok: true; e164: string } | { ok: false; error: string };

/** Whether `code` is an ISO 3166 country libphonenumber knows (for DEFAULT_COUNTRY). */
export function isKnownCountry(code: string): code is CountryCode {
  return isSupportedCountry(code);
}

/**
 * Normalise what a person typed into E.164. National formats are accepted only when a default
 * country is configured; the error says what to type instead.
 */
export function normaliseRecipient(input: string, defaultCountry?: CountryCode): RecipientCheck {
  const typed = input.trim();
  if (typed === '') return { ok: false, error: 'Enter a phone number, e.g. +14155552671.' };
  const international = typed.startsWith('+') || typed.startsWith('00');
  if (!international && !defaultCountry) {
    return { ok: false, error: 'Start the number with + and the country code, e.g. +14155552671.' };
  }
  const parsed = parsePhoneNumberFromString(typed.replace(/^00/, '+'), defaultCountry);
  if (!parsed?.isValid()) {
    return { ok: false, error: 'This is not a valid phone number: check the digits and the country code (+…).' };
  }
  return { ok: true, e164: parsed.number };
}

/** A number as people read it (+1 555 123 4567), for Slack messages only, never for logs. */
export function displayNumber(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}
