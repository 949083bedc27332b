import { CodedError } from '../../core/errors.js';

/** Base error for every store failure; `code` is stable, `cause` keeps the backend's own error. */
export class StoreError extends CodedError {
  override readonly name: string = 'StoreError';
}

/**
 * The backend cannot be reached (Redis down, restarting or too slow to answer). The operation may or may
 * not have been applied; callers answer "try again later" (HTTP 503) rather than guessing.
 */
export class StoreUnavailableError extends StoreError {
  override readonly name = 'StoreUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_UNAVAILABLE', message, options);
  }
}

/** An atomic update kept losing to other writers and gave up. */
export class StoreConflictError extends StoreError {
  override readonly name = 'StoreConflictError';
  readonly key: string;
  readonly attempts: number;

  constructor(key: string, attempts: number) {
    super('STORE_CONFLICT', `Gave up updating "${key}" after ${attempts} conflicting attempts`);
    this.key = key;
    this.attempts = attempts;
  }
}

/** The store was used after `close()`. */
export class StoreClosedError extends StoreError {
  override readonly name = 'StoreClosedError';

  constructor() {
    super('STORE_CLOSED', 'The store is closed');
  }
}

/** A value or ttl that no store can keep: not JSON-serialisable, or a ttl that is not a positive number. */
export class StoreInvalidInputError extends StoreError {
  override readonly name = 'StoreInvalidInputError';

  constructor(message: string) {
    super('STORE_INVALID_INPUT', message);
  }
}

/** Whole milliseconds for a ttl, or undefined for "no expiry"; rejects zero, negative and non-finite ttls. */
export function checkedTtl(ttlMs: number | undefined): number | undefined {
  if (ttlMs === undefined) return undefined;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new StoreInvalidInputError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
  }
  return Math.ceil(ttlMs);
}

/** Refuses what JSON cannot carry at the top level, so every store rejects the same values. */
export function assertStorable(key: string, value: unknown): void {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
    throw new StoreInvalidInputError(`The value for "${key}" is not JSON-serialisable (got ${typeof value})`);
  }
}

/** Checks a pending-list call's arguments, so every store refuses the same ones; returns the score to use. */
export function checkedPending(list: string, id: string, score?: number): number {
  checkedList(list);
  if (typeof id !== 'string' || id === '')
    throw new StoreInvalidInputError(`An id in "${list}" must be a non-empty string`);
  const chosen = score ?? Date.now();
  if (!Number.isFinite(chosen))
    throw new StoreInvalidInputError(`A score in "${list}" must be a finite number, got ${score}`);
  return chosen;
}

/** Checks a pending-list limit: a positive integer, or none for every id. */
export function checkedLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit <= 0) {
    throw new StoreInvalidInputError(`A pending-list limit must be a positive integer, got ${limit}`);
  }
  return limit;
}

/** Checks a pending list's name: a non-empty string. */
export function checkedList(list: string): void {
  if (typeof list !== 'string' || list === '')
    throw new StoreInvalidInputError('A pending list needs a non-empty name');
}

/** A `claimAll` call's arguments, checked and with every default filled in. */
export interface CheckedClaims {
  claims: { key: string; value: unknown; ttl: number | undefined }[];
  pending: { list: string; id: string; score: number }[];
}

/** Checks a `claimAll` call as `claim` and `pendingAdd` check theirs; at least one key, and no key twice. */
export function checkedClaims(
  claims: readonly { key: string; value: unknown; ttlMs?: number | undefined }[],
  pending: readonly { list: string; id: string; score?: number | undefined }[],
): CheckedClaims {
  if (claims.length === 0) throw new StoreInvalidInputError('claimAll needs at least one key to claim');
  const keys = new Set(claims.map((claim) => claim.key));
  if (keys.size !== claims.length) throw new StoreInvalidInputError('claimAll was given the same key twice');
  return {
    claims: claims.map(({ key, value, ttlMs }) => {
      assertStorable(key, value);
      return { key, value, ttl: checkedTtl(ttlMs) };
    }),
    pending: pending.map(({ list, id, score }) => ({ list, id, score: checkedPending(list, id, score) })),
  };
}
