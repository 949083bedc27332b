import type { FetchFunction } from '@slack/web-api';
import type { Telemetry } from '../../core/telemetry.js';

/** Slack's error code (`not_in_channel`, …) from a failed Web API call, if it said one. */
export function slackError(error: unknown): string | undefined {
  return (error as { data?: { error?: string } } | undefined)?.data?.error;
}

type FetchResponse = Awaited<ReturnType<FetchFunction>>;

/** A Web API method as it appears at the end of the request URL (`chat.postMessage`). */
const methodPattern = /\/api\/([a-z][A-Za-z]*(?:\.[a-z][A-Za-z]*)+)$/;
/** Slack's error codes are short snake_case words; anything else is counted as `other`. */
const codePattern = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * The `fetch` for Slack's WebClient (`clientOptions.fetch`) that reports every failed Web API call
 * by method and error: `{ok: false, error}` answers, non-200 statuses (`http_429`, `http_503`),
 * `timeout` (the client's own) and `network`. Each HTTP attempt counts, retries included. Every WebClient
 * Bolt builds (the app's and each listener's) shares `clientOptions`, so all calls pass through here;
 * other URLs Bolt fetches with it (`response_url`) are passed through unobserved.
 */
export function fetchReportingSlackErrors(
  telemetry: Pick<Telemetry, 'chatApiError'>,
  fetchFn: FetchFunction = globalThis.fetch as unknown as FetchFunction,
): FetchFunction {
  return async (url, init) => {
    const method = methodPattern.exec(new URL(String(url)).pathname)?.[1];
    if (!method) return fetchFn(url, init);
    let response: FetchResponse;
    try {
      response = await fetchFn(url, init);
    } catch (error) {
      // The WebClient's own `timeout` aborts with a TimeoutError; anything else is the network.
      telemetry.chatApiError(method, (error as { name?: string })?.name === 'TimeoutError' ? 'timeout' : 'network');
      throw error;
    }
    if (response.status !== 200) {
      telemetry.chatApiError(method, `http_${response.status}`);
      return response;
    }
    const code = await platformError(response);
    if (code !== undefined) telemetry.chatApiError(method, codePattern.test(code) ? code : 'other');
    return response;
  };
}

/** Slack's `error` from a `{ok: false}` answer, read from a copy so the WebClient still reads the original. */
async function platformError(response: FetchResponse): Promise<string | undefined> {
  const copy = (response as Partial<Response>).clone?.();
  if (!copy) return undefined;
  try {
    const body = (await copy.json()) as { ok?: unknown; error?: unknown };
    if (body.ok !== false) return undefined;
    return typeof body.error === 'string' ? body.error : 'other';
  } catch {
    return undefined; // not JSON: the WebClient reports that itself
  }
}
