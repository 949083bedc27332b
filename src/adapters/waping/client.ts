import { type Dispatcher, Pool, request } from 'undici';
import { errorCode } from '../../core/errors.js';
import type { Device, OutgoingMedia, OutgoingText, WapingPort, WapingSendResult } from '../../core/ports.js';
import type { Telemetry, WapingRequestOutcome } from '../../core/telemetry.js';
import { WapingError, WapingErrorCode } from './errors.js';
import { mediaRequestBody } from './media-body.js';
import { type Exchange, failure, outcomeOf, parseJson, responseError } from './responses.js';
import { devicesResponseSchema, sendResponseSchema } from './schemas.js';

export { parseRetryAfter } from './responses.js';

export interface WapingClientOptions {
  /** WAPing's API origin, optionally with a path prefix, e.g. `https://api.waping.app`. */
  baseUrl: string;
  apiKey: string;
  /** Bound on one whole request: connect, headers and body. */
  timeoutMs?: number;
  /** Connections to use instead of the client's own keep-alive pool; the caller closes it. */
  dispatcher?: Dispatcher;
  /** Told how long each HTTP exchange took and how it ended. */
  telemetry?: Pick<Telemetry, 'wapingRequest'>;
}

/** WAPing over HTTP: one attempt per call, every outcome mapped to a typed result or error. */
export class WapingClient implements WapingPort {
  readonly #apiKey: string;
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #telemetry: Pick<Telemetry, 'wapingRequest'> | undefined;

  constructor({ baseUrl, apiKey, timeoutMs = 10_000, dispatcher, telemetry }: WapingClientOptions) {
    this.#telemetry = telemetry;
    // A trailing slash makes `new URL('v1/...', base)` keep any path prefix of the base URL.
    this.#base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
    this.#apiKey = apiKey;
    this.#timeoutMs = timeoutMs;
    this.#ownsDispatcher = dispatcher === undefined;
    this.#dispatcher = dispatcher ?? new Pool(this.#base.origin, { connections: 16, keepAliveTimeout: 30_000 });
  }

  /** The exact request body for a text send, keys in WAPing's documented order. */
  textBody({ deviceId, to, text }: OutgoingText): string {
    return JSON.stringify({ deviceId, to, type: 'text', text: { body: text } });
  }

  /** The exact request body for a media send (the assumed shape, see media-body.ts). */
  mediaBody(message: OutgoingMedia): string {
    return mediaRequestBody(message);
  }

  /** One attempt at `POST /v1/messages` with the exact persisted body; never throws. */
  async sendMessage(idempotencyKey: string, body: string): Promise<WapingSendResult> {
    let exchange: Exchange;
    try {
      exchange = await this.#exchange('POST', 'v1/messages', {
        headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body,
      });
    } catch (error) {
      return failure(this.#thrownToError(error, 'POST v1/messages'));
    }
    if (exchange.status < 200 || exchange.status >= 300) return failure(responseError(exchange));

    const parsed = sendResponseSchema.safeParse(parseJson(exchange.text));
    if (!parsed.success) {
      // WAPing said yes but we cannot read its answer. Retrying with the same key and body is safe (it
      // replays the stored response) and may get a readable one.
      return failure(
        new WapingError(WapingErrorCode.badResponse, 'WAPing accepted the request but its answer was unreadable', {
          status: exchange.status,
          retryable: true,
        }),
      );
    }
    return { ok: true, messageId: parsed.data.id, status: parsed.data.status };
  }

  /** The devices WAPing knows, with their session state. Throws a WapingError when that fails. */
  async listDevices(): Promise<Device[]> {
    let exchange: Exchange;
    try {
      exchange = await this.#exchange('GET', 'v1/devices', { headers: {} });
    } catch (error) {
      throw this.#thrownToError(error, 'GET v1/devices');
    }
    if (exchange.status < 200 || exchange.status >= 300) throw responseError(exchange);

    const parsed = devicesResponseSchema.safeParse(parseJson(exchange.text));
    if (!parsed.success) {
      throw new WapingError(WapingErrorCode.badResponse, 'WAPing answered the device list in an unexpected shape', {
        status: exchange.status,
        retryable: true,
        cause: parsed.error,
      });
    }
    return parsed.data.data.map(({ id, name, phone, status }) => ({
      id,
      name,
      ...(phone ? { phone } : {}),
      connected: status === 'connected',
    }));
  }

  /** Release the client's own connections (a dispatcher passed in stays open). */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  /** One HTTP exchange, timed and reported by how it ended. */
  async #exchange(
    method: 'GET' | 'POST',
    path: string,
    options: { headers: Record<string, string>; body?: string },
  ): Promise<Exchange> {
    const operation = method === 'POST' ? 'send' : 'list_devices';
    const started = performance.now();
    let outcome: WapingRequestOutcome = 'network';
    try {
      const exchange = await this.#attempt(method, path, options);
      outcome = outcomeOf(exchange.status);
      return exchange;
    } catch (error) {
      if (error instanceof TimedOut || isTimeoutCode(errorCode(error))) outcome = 'timeout';
      throw error;
    } finally {
      this.#telemetry?.wapingRequest(operation, outcome, (performance.now() - started) / 1000);
    }
  }

  async #attempt(
    method: 'GET' | 'POST',
    path: string,
    { headers, body }: { headers: Record<string, string>; body?: string },
  ): Promise<Exchange> {
    // Our own controller, so a timeout is told apart from every other abort whatever undici throws.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#timeoutMs);
    try {
      const response = await request(new URL(path, this.#base), {
        dispatcher: this.#dispatcher,
        method,
        headers: { authorization: `Bearer ${this.#apiKey}`, accept: 'application/json', ...headers },
        ...(body === undefined ? {} : { body }),
        signal: timeout.signal,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      // Always read the body to its end: an unread body keeps the connection from being reused.
      const text = await response.body.text();
      return { status: response.statusCode, headers: response.headers, text };
    } catch (error) {
      throw timeout.signal.aborted ? new TimedOut(error) : error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** `call` is the method and path (`POST v1/messages`): with the host, the message says which call failed where. */
  #thrownToError(error: unknown, call: string): WapingError {
    const where = `${call} at ${this.#base.host}`;
    if (error instanceof TimedOut || isTimeoutCode(errorCode(error))) {
      return new WapingError(WapingErrorCode.timeout, `WAPing did not answer within ${this.#timeoutMs} ms (${where})`, {
        cause: error instanceof TimedOut ? error.cause : error,
        retryable: true,
      });
    }
    return new WapingError(WapingErrorCode.network, `WAPing could not be reached (${where})`, {
      cause: error,
      retryable: true,
    });
  }
}

/** Marks an abort caused by our own timer. */
class TimedOut extends Error {
  constructor(cause: unknown) {
    super('timed out', { cause });
  }
}

function isTimeoutCode(code: string | undefined): boolean {
  return (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'ETIMEDOUT'
  );
}
