import type { WapingSendResult } from '../../core/ports.js';
import type { WapingRequestOutcome } from '../../core/telemetry.js';
import { WapingError, WapingErrorCode } from './errors.js';
import { errorBodySchema } from './schemas.js';

/* How WAPing's HTTP answers read in our terms: statuses, error bodies and Retry-After, mapped to typed errors. */

export /** What one HTTP exchange came to, body already read so the connection goes back to the pool. */
interface Exchange {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A WAPing `error.code` we may repeat in our own words: a plain token, never an echo of the input. */
const safeCodePattern = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** How an exchange ended, for the request metrics. */
export function outcomeOf(status: number): WapingRequestOutcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 429) return 'rate_limited';
  return status >= 500 ? 'http_5xx' : 'http_4xx';
}

/** A send's typed error as the result the core reads (sendMessage never throws). */
export function failure(error: WapingError): WapingSendResult {
  return { ok: false, error: error.toFailure() };
}

/**
 * Map a non-2xx answer to a typed error. WAPing's `error.message` may echo the input (the number, the
 * text), so it is never copied: we keep its `code` and say what happened in fixed words.
 */
export function responseError({ status, headers, text }: Exchange): WapingError {
  const body = errorBodySchema.safeParse(parseJson(text));
  const rawCode = body.success ? body.data.error.code : undefined;
  const wapingCode = rawCode !== undefined && safeCodePattern.test(rawCode) ? rawCode : undefined;
  const upperCode = wapingCode?.toUpperCase() ?? '';
  const retryAfterMs = parseRetryAfter(headers['retry-after']);
  const common = {
    status,
    ...(wapingCode === undefined ? {} : { wapingCode }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
  if (status >= 500) {
    return new WapingError(`HTTP_${status}`, `WAPing failed on its side (HTTP ${status})`, {
      ...common,
      retryable: true,
    });
  }
  // The session check comes first: WAPing's page names the code, not the status ("4xx session"). Someone has to
  // re-link the device, so it is not retried.
  if (upperCode.includes('SESSION')) {
    return new WapingError(
      WapingErrorCode.sessionDisconnected,
      "The device's WhatsApp session is disconnected",
      common,
    );
  }
  if (status === 429) {
    return new WapingError(WapingErrorCode.rateLimited, 'WAPing is rate limiting requests', {
      ...common,
      retryable: true,
    });
  }
  if (upperCode.includes('QUOTA')) {
    return new WapingError(WapingErrorCode.quotaExceeded, "The WAPing workspace's message quota is used up", {
      ...common,
      retryable: false,
    });
  }
  if (status === 409) {
    // Still being processed for an earlier request: retryable, the replay will tell how it ended. Used before
    // with a different body: not retryable.
    const inFlight = upperCode.includes('IN_FLIGHT') || upperCode.includes('IN_PROGRESS');
    return inFlight
      ? new WapingError(
          WapingErrorCode.idempotencyInFlight,
          'WAPing is still processing an earlier request with this idempotency key',
          { ...common, retryable: true },
        )
      : new WapingError(
          WapingErrorCode.idempotencyConflict,
          'WAPing already used this idempotency key for a different request body',
          common,
        );
  }
  if (status === 401 || status === 403) {
    return new WapingError(WapingErrorCode.unauthorized, 'WAPing refused the API key', {
      ...common,
      retryable: false,
    });
  }
  if (status === 400 || status === 422) {
    if (upperCode === 'UNKNOWN_DEVICE' || upperCode === 'DEVICE_NOT_FOUND') {
      return new WapingError(WapingErrorCode.unknownDevice, 'WAPing does not know this device', common);
    }
    if (upperCode.includes('MEDIA')) {
      return new WapingError(WapingErrorCode.mediaFetchFailed, "WAPing could not fetch the media send's file", common);
    }
    return new WapingError(
      WapingErrorCode.validation,
      'WAPing rejected the message as invalid; check the number is in E.164 form (+ and country code)',
      common,
    );
  }
  return new WapingError(`HTTP_${status}`, `WAPing answered HTTP ${status}`, { ...common, retryable: false });
}

/** `Retry-After` as milliseconds from now: delta seconds, or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
