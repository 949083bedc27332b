import type { FetchFunction } from '@slack/web-api';
import { errorCode } from '../../core/errors.js';

/** A Web API method as it appears at the end of the request URL (`chat.postMessage`). */
const methodPattern = /\/([a-z][A-Za-z]*(?:\.[a-z][A-Za-z]*)+)$/;

/**
 * The `fetch` for Slack's WebClient (`clientOptions.fetch`) whose failures name the call: the WebClient logs
 * only "http request failed fetch failed", so the error it logs says which method failed against which host
 * (`auth.test at slack.com: fetch failed (ECONNREFUSED)`). The error keeps its name, so a timeout stays a
 * TimeoutError for whoever tells them apart.
 */
export function fetchNamingFailedCalls(
  fetchFn: FetchFunction = globalThis.fetch as unknown as FetchFunction,
): FetchFunction {
  return async (url, init) => {
    try {
      return await fetchFn(url, init);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      const target = new URL(String(url));
      const call = methodPattern.exec(target.pathname)?.[1] ?? target.pathname;
      const code = errorCode(error.cause);
      const named = new Error(`${call} at ${target.host}: ${error.message}${code === undefined ? '' : ` (${code})`}`, {
        cause: error,
      });
      named.name = error.name;
      throw named;
    }
  };
}
