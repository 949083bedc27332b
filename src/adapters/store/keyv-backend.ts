import type { CheckedClaims } from './errors.js';

/*
 * What KeyvStore can ask of a backend beyond Keyv's key-value interface, when the backend offers it (the embedded
 * SQLite file does): steps that must be atomic even against a second handle on the same file.
 */

/** A row as `claimAll` hands it to a backend: Keyv's serialised text, and when it expires (ms since epoch). */
export interface ClaimRow {
  key: string;
  text: string;
  expires: number | null;
}

/**
 * A backend that claims rows and adds pending ids in one transaction of its own (the SQLite file). Returns
 * undefined when it wrote them all, else the stored text of each key (undefined where absent) and wrote nothing.
 */
export interface TransactionalClaims {
  claimAll(rows: ClaimRow[], pending: CheckedClaims['pending']): Promise<(string | undefined)[] | undefined>;
}

/** A backend that removes a live row only while it holds exactly `text` (Keyv's serialised form), in one statement. */
export interface ConditionalDeletes {
  /** The live row's text, or undefined (Keyv's own `get` of the backend). */
  get(key: string): Promise<unknown>;
  deleteIfText(key: string, text: string): Promise<boolean>;
}
