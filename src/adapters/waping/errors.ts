/**
 * Typed errors of the WAPing adapter. Each carries a stable string `code` the core can switch on, and a
 * `message` in plain words that never contains the recipient or the message text.
 */

/** Stable codes this adapter reports; `HTTP_<status>` covers statuses it has no better name for. */
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
} as const;

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
export class WapingError extends Error {
  override readonly name: string = 'WapingError';
  readonly code: string;
  readonly status?: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly wapingCode?: string;

  /** `message` is fixed words of ours; WAPing's own code is appended when it says more than `code`. */
  constructor(code: string, message: string, options: WapingErrorOptions = {}) {
    const { wapingCode } = options;
    super(
      wapingCode === undefined || wapingCode === code ? message : `${message} (WAPing code ${wapingCode})`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.retryable = options.retryable ?? false;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.wapingCode !== undefined) this.wapingCode = options.wapingCode;
  }
}

type SubclassOptions = Omit<WapingErrorOptions, 'retryable'>;

/** The device's QR-linked WhatsApp session cannot send; someone has to re-link it. Not retryable. */
export class SessionDisconnectedError extends WapingError {
  override readonly name = 'SessionDisconnectedError';
  constructor(options: SubclassOptions = {}) {
    super(WapingErrorCode.sessionDisconnected, "The device's WhatsApp session is disconnected", options);
  }
}

/**
 * WAPing refused the idempotency key: used before with a different body (not retryable), or still being
 * processed for an earlier request (`inFlight`, retryable: the replay will tell how it ended).
 */
export class IdempotencyConflictError extends WapingError {
  override readonly name = 'IdempotencyConflictError';
  readonly inFlight: boolean;
  constructor(inFlight: boolean, options: SubclassOptions = {}) {
    super(
      inFlight ? WapingErrorCode.idempotencyInFlight : WapingErrorCode.idempotencyConflict,
      inFlight
        ? 'WAPing is still processing an earlier request with this idempotency key'
        : 'WAPing already used this idempotency key for a different request body',
      { ...options, retryable: inFlight },
    );
    this.inFlight = inFlight;
  }
}

/** WAPing asked us to slow down. Retryable, after `retryAfterMs` when it said. */
export class RateLimitedError extends WapingError {
  override readonly name = 'RateLimitedError';
  constructor(options: SubclassOptions = {}) {
    super(WapingErrorCode.rateLimited, 'WAPing is rate limiting requests', { ...options, retryable: true });
  }
}

/** WAPing rejected the request itself (bad number, missing field, unknown device). Not retryable. */
export class WapingValidationError extends WapingError {
  override readonly name = 'WapingValidationError';
  constructor(code: string, message: string, options: SubclassOptions = {}) {
    super(code, message, options);
  }
}

/** WAPing could not be reached or failed on its side (network, timeout, 5xx). Retryable. */
export class WapingUnavailableError extends WapingError {
  override readonly name = 'WapingUnavailableError';
  constructor(code: string, message: string, options: SubclassOptions = {}) {
    super(code, message, { ...options, retryable: true });
  }
}
