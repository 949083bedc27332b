import { STATUS_CODES } from 'node:http';
import type { FetchFunction } from '@slack/web-api';
import { type Dispatcher, getGlobalDispatcher, request } from 'undici';

type FetchResponse = Awaited<ReturnType<FetchFunction>>;
type FetchInit = Parameters<FetchFunction>[1];

/** How a Slack call is made: its time bound, and where it goes. */
export interface BufferedFetchOptions {
  /**
   * Bound on the wait for the answer's headers, and then on each pause in its body; past it the call rejects with a
   * `TimeoutError`, as the WebClient's own `timeout` option makes fetch do. Given here instead, the bound costs no
   * timer per call (undici's are coarse and shared), where the WebClient's makes an `AbortSignal.timeout` per call,
   * alive for the whole bound. None by default.
   */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
  /** Where a `FormData` body (a file upload, which the bot does not make) goes: the global fetch by default. */
  fallback?: FetchFunction;
}

/**
 * The `fetch` the Slack clients are given (WebClient's `fetch` option, which Bolt's `respond()` shares): one undici
 * request per call, its answer read whole into memory, as Slack's answers are small JSON. It answers the WebClient's
 * `FetchResponse` contract, plus `clone()`. Against the global `fetch` it skips the WHATWG stream machinery (a
 * readable stream per body, a tee per clone): under load about a fifth of the bot's CPU went there.
 *
 * As `fetch` does: a network failure rejects with `TypeError('fetch failed')` whose `cause` is undici's error (its
 * `code`, e.g. ECONNREFUSED); an aborted signal rejects with the signal's reason; `redirect: 'error'` rejects on a
 * 3xx. Unlike `fetch`, a redirect is never followed (no Slack API answers with one).
 */
export function bufferedFetch(options: BufferedFetchOptions = {}): FetchFunction {
  const { timeoutMs, dispatcher = getGlobalDispatcher() } = options;
  const fallback = options.fallback ?? (globalThis.fetch as unknown as FetchFunction);
  const failed = (error: unknown, init: FetchInit): unknown => {
    if (init?.signal?.aborted) return init.signal.reason;
    const code = (error as { code?: unknown })?.code;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return new DOMException(`Slack did not answer within ${timeoutMs} ms`, 'TimeoutError');
    }
    return new TypeError('fetch failed', { cause: error });
  };
  return async (url, init) => {
    if (init?.body !== undefined && typeof init.body !== 'string') return fallback(url, init);
    const href = String(url);
    let answer: Dispatcher.ResponseData;
    let body: Buffer;
    try {
      answer = await request(href, {
        dispatcher,
        method: (init?.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: init?.headers,
        body: init?.body,
        signal: init?.signal,
        ...(timeoutMs === undefined ? {} : { headersTimeout: timeoutMs, bodyTimeout: timeoutMs }),
      });
      body = Buffer.from(await answer.body.arrayBuffer());
    } catch (error) {
      throw failed(error, init);
    }
    if (answer.statusCode >= 300 && answer.statusCode < 400 && init?.redirect === 'error') {
      throw new TypeError('fetch failed', { cause: new Error(`unexpected redirect (${answer.statusCode})`) });
    }
    return new BufferedResponse(href, answer.statusCode, answer.headers, body);
  };
}

/** A whole answer in memory, read as many times as asked. */
class BufferedResponse implements FetchResponse {
  readonly ok: boolean;
  readonly statusText: string;
  readonly headers: BufferedHeaders;

  constructor(
    readonly url: string,
    readonly status: number,
    headers: Record<string, string | string[] | undefined>,
    private readonly body: Buffer,
  ) {
    this.ok = status >= 200 && status < 300;
    this.statusText = STATUS_CODES[status] ?? '';
    this.headers = new BufferedHeaders(headers);
  }

  async text(): Promise<string> {
    return this.body.toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.body.toString('utf8'));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const { buffer, byteOffset, byteLength } = this.body;
    return buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer;
  }

  /** The same answer again (the body is in memory: nothing is consumed). */
  clone(): BufferedResponse {
    return this;
  }
}

/** Header names are matched without regard to case; repeated headers read as one, joined with ", " as fetch does. */
class BufferedHeaders {
  private readonly values = new Map<string, string>();

  constructor(headers: Record<string, string | string[] | undefined>) {
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) this.values.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
    }
  }

  get(name: string): string | null {
    return this.values.get(name.toLowerCase()) ?? null;
  }

  entries(): IterableIterator<[string, string]> {
    return this.values.entries();
  }
}
