import type { FetchFunction } from '@slack/web-api';
import { CodedError } from '../../core/errors.js';

/**
 * Where the bot may send HTTP requests on Slack's behalf. A `response_url` arrives inside a request (a slash command,
 * a button click) and the bot posts replies to it: it is followed only to Slack's own host for them, never wherever
 * it points.
 */

/**
 * Slack's hosts for `response_url` (https://api.slack.com/interactivity/handling#message_responses): the commercial
 * one, and GovSlack's, whose workspaces get their response URLs there.
 */
const RESPONSE_URL_ORIGINS = ['https://hooks.slack.com', 'https://hooks.slack-gov.com'];
/** Slack's Web API when SLACK_API_URL is not set. */
const DEFAULT_API_ORIGIN = 'https://slack.com';

/** A URL outside Slack was about to be followed; the request was not made. */
export class ForeignUrlError extends CodedError<'foreign_url'> {
  override readonly name = 'ForeignUrlError';
  constructor(readonly origin: string) {
    super(
      'foreign_url',
      `refused to follow a URL outside Slack (origin ${origin}); response_url must be on ${RESPONSE_URL_ORIGINS.join(' or ')}`,
    );
  }
}

/**
 * Whether a URL is Slack's: `https://hooks.slack.com` or `https://hooks.slack-gov.com` (response_url) or the Web
 * API's origin, which is `apiUrl`'s (SLACK_API_URL, so tests can point both at a local fake) or https://slack.com.
 */
export function slackUrlPolicy(apiUrl?: string): (url: string) => boolean {
  return originPolicy([...RESPONSE_URL_ORIGINS, apiUrl ? new URL(apiUrl).origin : DEFAULT_API_ORIGIN]);
}

/** Slack's hosts for private files (a file's `url_private_download`), commercial and GovSlack. */
const FILE_ORIGINS = ['https://files.slack.com', 'https://files.slack-gov.com'];

/**
 * Whether a file URL is Slack's, so the bot token may go with it: Slack's file hosts, or SLACK_API_URL's origin when
 * it is set (tests serve files from the same fake).
 */
export function slackFileUrlPolicy(apiUrl?: string): (url: string) => boolean {
  return originPolicy(apiUrl ? [...FILE_ORIGINS, new URL(apiUrl).origin] : FILE_ORIGINS);
}

function originPolicy(origins: string[]): (url: string) => boolean {
  const allowed = new Set(origins);
  return (url) => {
    try {
      const parsed = new URL(url);
      return allowed.has(parsed.origin) && parsed.username === '' && parsed.password === '';
    } catch {
      return false;
    }
  };
}

/** The origin of a URL for logs (never the whole URL: a response_url is a bearer credential). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'unparsable URL';
  }
}

/**
 * `fetch` for the Slack clients (Bolt's `respond()` and the Web API client share it): it refuses, without a request,
 * any URL `isSlack` does not accept.
 */
export function slackOnlyFetch(
  isSlack: (url: string) => boolean,
  fetchFn: FetchFunction = globalThis.fetch as unknown as FetchFunction,
): FetchFunction {
  return (input, init) => {
    const url = String(input);
    if (!isSlack(url)) return Promise.reject(new ForeignUrlError(originOf(url)));
    return fetchFn(input, init);
  };
}
