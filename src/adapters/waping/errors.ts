import { CodedError } from '../../core/errors.js';
import type { WapingFailure, WapingFailureCode } from '../../core/ports.js';

/*
 * The one error class of the WAPing adapter (the convention is in docs/architecture.md, "Errors"). It carries a
 * stable `code` from the core's `WapingFailureCode` union and the data to act on, and a `message` in our words
 * that never contains the recipient or the message text. `sendMessage` returns it as a result (`failure`),
 * `listDevices` throws it.
 */

/** Stable codes this adapter reports, by name; `HTTP_<status>` covers statuses it has no better name for. */
export const WapingErrorCode = {
  network: 'NETWORK',
  timeout: 'TIMEOUT',
  rateLimited: 'RATE_LIMITED',
  validation: 'VALIDATION',
  unknownDevice: 'UNKNOWN_DEVICE',
  sessionDisconnected: 'SESSION_DISCONNECTED',
  idempotencyConflict: 'IDEMPOTENCY_CONFLICT',
  idempotencyInFlight: 'IDEMPOTENCY_IN_FLIGHT',
  unauthorized: 'UNAUTHORIZED',
  quotaExceeded: 'QUOTA_EXCEEDED',
  badResponse: 'BAD_RESPONSE',
  mediaFetchFailed: 'MEDIA_FETCH_FAILED',
} as const satisfies Record<string, WapingFailureCode>;

export interface WapingErrorOptions {
  /** HTTP status, when WAPing answered. */
  status?: number;
  /** Whether the same key and body may be sent again. */
  retryable?: boolean;
  /** How long WAPing asked us to wait (Retry-After), if it said. */
  retryAfterMs?: number;
  /** The `error.code` WAPing put in its body, when it had one that is safe to repeat. */
  wapingCode?: string;
  cause?: unknown;
}

/** Anything that went wrong talking to WAPing. */
export class WapingError extends CodedError<WapingFailureCode> {
  override readonly name = 'WapingError';
  readonly status?: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly wapingCode?: string;

  /** `message` is fixed words of ours; WAPing's own code is appended when it says more than `code`. */
  constructor(code: WapingFailureCode, message: string, options: WapingErrorOptions = {}) {
    const { wapingCode } = options;
    super(code, wapingCode === undefined || wapingCode === code ? message : `${message} (WAPing code ${wapingCode})`, {
      cause: options.cause,
    });
    this.retryable = options.retryable ?? false;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.wapingCode !== undefined) this.wapingCode = options.wapingCode;
  }

  /** The failure as the core reads it in a result. */
  toFailure(): WapingFailure {
    return {
      code: this.code,
      retryable: this.retryable,
      message: this.message,
      ...(this.status === undefined ? {} : { status: this.status }),
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
    };
  }
}
