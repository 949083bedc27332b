import type Database from 'better-sqlite3';

interface Queued {
  work: () => unknown;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for the embedded SQLite file: the writes asked for within one turn of the event loop run together
 * in one transaction, at the end of that turn, so they share one fsync (`synchronous = FULL`) instead of paying one
 * each. Each write's promise resolves only once that transaction is committed, so a write is on disk when its
 * caller hears back, as before; while the bot is busy, many of them share the disk's slowest step.
 *
 * The writes run in the order they were asked for, each seeing those before it. Reads do not wait: until the
 * commit they see the file without the writes of the batch, which nobody has been told about yet. One write that
 * throws fails alone (the others commit); a failed commit fails them all. The transaction takes the file's write
 * lock only for its one synchronous run, so a second handle on the same file waits at most that long.
 */
export class GroupCommit {
  readonly #db: Database.Database;
  #queue: Queued[] = [];
  #commits = 0;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Transactions committed so far (each one fsync); for diagnostics and tests. */
  get commits(): number {
    return this.#commits;
  }

  /** Run `work` (synchronous statements) in the next batch; resolves with its result once the batch is on disk. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#queue.length === 0) setImmediate(() => this.flush());
      this.#queue.push({ work, resolve: resolve as (result: unknown) => void, reject });
    });
  }

  /** Commit what is queued now (at the end of the turn, and before the file is closed). */
  flush(): void {
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    const outcomes: Array<{ ok: true; result: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.#db
        .transaction(() => {
          for (const { work } of batch) {
            // A savepoint per write: one that throws is undone alone, and the batch goes on.
            try {
              outcomes.push({ ok: true, result: this.#db.transaction(work)() });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (error) {
      for (const { reject } of batch) reject(error);
      return;
    }
    batch.forEach(({ resolve, reject }, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) resolve(outcome.result);
      else reject(outcome?.error);
    });
  }
}
