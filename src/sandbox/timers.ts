/** The sandbox's timers and delays, all ended by `close()` so that nothing outlives the sandbox. */
export class SandboxTimers {
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #wakers = new Set<() => void>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  /** Run `run` after `ms`, unless closed first. */
  later(ms: number, run: () => unknown): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }

  /** A delay that close() ends early, so no request handler outlives the sandbox. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.#wakers.delete(wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakers.add(wake);
    });
  }

  /** Cancel every pending timer and end every delay. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }
}
