/*
 * The one error convention (docs/architecture.md, "Errors"): a failure the caller is expected to handle is a
 * result, `{ ok: false, error: { code, … } }`, with a union of codes; a failure it can only pass on, log or fall
 * back from is thrown as the one error class of the part that failed, carrying the same kind of `code` and data.
 * Either way, code reads `code`, never a message.
 */

/** A thrown failure with a stable `code` and the data to act on; each adapter has one subclass. */
export class CodedError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** The `code` any error carries as a string (ours, Node's `ECONNRESET`, undici's `UND_ERR_…`), if it does. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

/** Whether `error` is one of ours (a CodedError), and, given `code`, one with that code. */
export function isCodedError<Code extends string>(error: unknown, code?: Code): error is CodedError<Code> {
  return error instanceof CodedError && (code === undefined || error.code === code);
}
