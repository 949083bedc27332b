import { StoreError, StoreUnavailableError } from './adapters/store/errors.js';
import { errorCode } from './core/errors.js';

/** Exit codes of a failed start (sysexits.h where one fits), so a supervisor can tell them apart. */
export const EXIT = {
  /** Anything not recognised below. */
  unknown: 1,
  /** Redis (STORE_URL) cannot be reached. EX_UNAVAILABLE. */
  storeUnreachable: 69,
  /** The install is incomplete (a native module was not built). EX_SOFTWARE. */
  install: 70,
  /** DATA_DIR cannot be created or written. EX_CANTCREAT. */
  dataDir: 73,
  /** PORT is taken by another process. EX_TEMPFAIL: it may be free on the next try. */
  portInUse: 75,
  /** A configuration value is wrong (see also ConfigError in main.ts). EX_CONFIG. */
  config: 78,
  /** The start did not finish within its deadline. */
  startTimeout: 124,
} as const;

export interface StartFailure {
  /** One sentence that names the problem, for the operator; no stack. */
  problem: string;
  exitCode: number;
  /** A stable name for the kind of failure, for alerting. */
  code: string;
}

/** What went wrong at start, in one line an operator can act on. */
export function classifyStartFailure(error: unknown, port: number): StartFailure {
  const code = errorCode(error);
  if (code === 'EADDRINUSE') {
    return {
      code: 'PORT_IN_USE',
      problem: `PORT ${port} is already in use by another process (is another instance of the bot running?)`,
      exitCode: EXIT.portInUse,
    };
  }
  if (code === 'EACCES' && (error as NodeJS.ErrnoException).syscall === 'listen') {
    return { code: 'PORT_DENIED', problem: `PORT ${port} may not be opened by this user`, exitCode: EXIT.portInUse };
  }
  if (error instanceof StoreUnavailableError) {
    return { code: error.code, problem: error.message, exitCode: EXIT.storeUnreachable };
  }
  if (error instanceof StoreError) {
    const exitCode =
      error.code === 'DATA_DIR_UNUSABLE'
        ? EXIT.dataDir
        : error.code === 'STORE_URL_SCHEME'
          ? EXIT.config
          : error.code === 'NATIVE_MODULE_MISSING'
            ? EXIT.install
            : EXIT.unknown;
    return { code: error.code, problem: error.message, exitCode };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'START_FAILED', problem: `the bot could not start: ${message}`, exitCode: EXIT.unknown };
}
