import type { Logger } from './ports.js';

/**
 * Work started after a Slack or WAPing request was answered: tracked so that shutdown and tests can
 * wait for it, and logged (never thrown) when it fails, since a sweep resumes whatever failed.
 */
export class BackgroundWork {
  private readonly running = new Set<Promise<unknown>>();
  private readonly named = new Set<string>();

  constructor(private readonly logger: Logger) {}

  /** Start `work` now; a failure is logged with `fields` and `message`. */
  run(work: () => Promise<unknown>, fields: object, message: string): void {
    const task = work()
      .catch((error: unknown) => this.logger.error({ err: error, ...fields }, message))
      .finally(() => this.running.delete(task));
    this.running.add(task);
  }

  /**
   * As `run`, unless work under the same `name` is still running here: a sweep that finds an id still in its list
   * while this process works on it must not start it again, or a backlog would be worked on twice per sweep.
   * Returns whether it was started.
   */
  runOnce(name: string, work: () => Promise<unknown>, fields: object, message: string): boolean {
    if (this.named.has(name)) return false;
    this.named.add(name);
    this.run(() => work().finally(() => this.named.delete(name)), fields, message);
    return true;
  }

  /** Resolves once nothing is running, including work started meanwhile. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
