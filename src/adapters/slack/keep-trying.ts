import type { Logger } from '../../core/ports.js';

export interface KeepTryingOptions {
  /** What is being tried, for the log: `Slack auth.test`, `Socket Mode connection`. */
  what: string;
  logger: Logger;
  /** The first wait after a failure; doubles with each failure up to `maxDelayMs`. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** A short, secret-free name for a failure (a Slack error code). */
  describe: (error: unknown) => string;
}

/**
 * Runs `attempt` until it succeeds (or `stop()`), waiting with doubling backoff between failures and
 * logging one structured line per failed attempt. `wake()` cuts the current wait short, at most once
 * per `minDelayMs`, so a burst of callers cannot turn the backoff into a busy loop.
 */
export class KeepTrying {
  readonly #attempt: (attempt: number) => Promise<void>;
  readonly #options: Required<KeepTryingOptions>;
  #lastError: string | undefined;
  #lastAttemptAt = 0;
  #wake: (() => void) | undefined;
  #stopped = false;
  #done = false;
  #loop: Promise<void> | undefined;

  constructor(attempt: (attempt: number) => Promise<void>, options: KeepTryingOptions) {
    this.#attempt = attempt;
    // Defaults by `??`, not by spreading: an option passed as undefined (SlackAuth's when unset) must not
    // become a NaN delay, which setTimeout runs at once: a busy loop of requests against an unreachable Slack.
    this.#options = { ...options, minDelayMs: options.minDelayMs ?? 1_000, maxDelayMs: options.maxDelayMs ?? 15_000 };
  }

  /** True once an attempt has succeeded. */
  get done(): boolean {
    return this.#done;
  }

  /** The last failure, until an attempt succeeds. */
  get lastError(): string | undefined {
    return this.#done ? undefined : this.#lastError;
  }

  /** Start trying (once); resolves when an attempt succeeded or `stop()` was called. */
  start(): Promise<void> {
    this.#loop ??= this.#run();
    return this.#loop;
  }

  /** Try again now rather than at the end of the current wait. */
  wake(): void {
    this.#wake?.();
  }

  /** No further attempt; one in flight is not waited for (Socket Mode's own retries could hold it for long). */
  stop(): void {
    this.#stopped = true;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    const { what, logger, describe, minDelayMs, maxDelayMs } = this.#options;
    let delay = minDelayMs;
    for (let attempt = 1; !this.#stopped; attempt++) {
      this.#lastAttemptAt = Date.now();
      try {
        await this.#attempt(attempt);
        this.#done = true;
        return;
      } catch (error) {
        if (this.#stopped) return;
        this.#lastError = describe(error);
        logger.warn({ attempt, error: this.#lastError, retryInMs: delay }, `${what} failed; retrying with backoff`);
      }
      await this.#sleep(delay);
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = () => {
        if (this.#stopped || Date.now() - this.#lastAttemptAt >= this.#options.minDelayMs) done();
      };
    });
  }
}
