import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** Why a typed number was refused; the Slack adapter words it. */
export type RecipientProblem = 'empty' | 'needs-country-code' | 'invalid-number';

export type RecipientCheck = { ok: true; e164: string } | { ok: false; problem: RecipientProblem };

/** Whether `code` is an ISO 3166 country libphonenumber knows (for DEFAULT_COUNTRY). */
export function isKnownCountry(code: string): code is CountryCode {
  return isSupportedCountry(code);
}

/**
 * Normalise what a person typed into E.164. National formats are accepted only when a default
 * country is configured; the problem tells the person what to type instead.
 */
export function normaliseRecipient(input: string, defaultCountry?: CountryCode): RecipientCheck {
  const typed = input.trim();
  if (typed === '') return { ok: false, problem: 'empty' };
  const international = typed.startsWith('+') || typed.startsWith('00');
  if (!international && !defaultCountry) {
    return { ok: false, problem: 'needs-country-code' };
  }
  const parsed = parsePhoneNumberFromString(typed.replace(/^00/, '+'), defaultCountry);
  if (!parsed?.isValid()) {
    return { ok: false, problem: 'invalid-number' };
  }
  return { ok: true, e164: parsed.number };
}

/** Numbers formatted lately: a send's number is shown on every render of its message (and its Home entry). */
const displayed = new Map<string, string>();
const DISPLAYED_MAX = 1_000;

/** A number as people read it (+1 555 123 4567), for Slack messages only, never for logs. */
export function displayNumber(e164: string): string {
  let shown = displayed.get(e164);
  if (shown === undefined) {
    shown = parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
    if (displayed.size >= DISPLAYED_MAX) displayed.clear(); // a bound, not a policy: a cleared cache only costs parses
    displayed.set(e164, shown);
  }
  return shown;
}
