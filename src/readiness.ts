import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorCode } from './core/errors.js';
import type { Clock, Store } from './core/ports.js';
import { withDeadline } from './deadline.js';

/** One thing the bot needs in order to serve: resolves undefined when fine, else a short reason (no secrets). */
export type ReadinessCheck = () => Promise<string | undefined> | string | undefined;

/** The body of `/readyz`: every check by name, and the names of those failing. */
export interface ReadinessReport {
  ok: boolean;
  /** The bot's version (package.json, plus the commit when known), to tell replicas apart during a rollout. */
  version: string;
  failing: string[];
  checks: Record<string, { ok: boolean; error?: string }>;
}

/**
 * The readiness probe: is the bot able to do its job right now? Each check is bounded, so a store that
 * hangs makes the probe fail within `timeoutMs` instead of hanging the probe.
 */
export class Readiness {
  constructor(
    private readonly checks: Record<string, ReadinessCheck>,
    private readonly version: string,
    private readonly timeoutMs = 1_000,
  ) {}

  /** One check by name, bounded: undefined when fine, else why not. */
  async check(name: string): Promise<string | undefined> {
    const check = this.checks[name];
    if (!check) return `no check named ${name}`;
    try {
      const late = () => new Error(`no answer within ${this.timeoutMs} ms`);
      return await withDeadline(Promise.resolve().then(check), this.timeoutMs, late);
    } catch (error) {
      return describeError(error);
    }
  }

  /** Every check, run together. */
  async report(): Promise<ReadinessReport> {
    const names = Object.keys(this.checks);
    const results = await Promise.all(names.map((name) => this.check(name)));
    const checks: ReadinessReport['checks'] = {};
    const failing: string[] = [];
    names.forEach((name, i) => {
      const error = results[i];
      checks[name] = error === undefined ? { ok: true } : { ok: false, error };
      if (error !== undefined) failing.push(name);
    });
    return { ok: failing.length === 0, version: this.version, failing, checks };
  }

  /** `GET /readyz`: 200 when every check passes, else 503; the body is the report either way. */
  handler() {
    return async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const report = await this.report();
      res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(report));
    };
  }
}

/**
 * `check`, taken as passing while it passed in the last `withinMs`: listeners that ask before each request whether
 * the store is up then cost one round trip a second, not one per request. A failure is never remembered: the next
 * call checks again. A store lost within that second is still caught by the write that follows, which fails, and
 * the person is told it may not have been saved.
 */
export function passingFor(
  check: () => Promise<string | undefined>,
  clock: Pick<Clock, 'now'>,
  withinMs: number,
): () => Promise<string | undefined> {
  let passedAt = Number.NEGATIVE_INFINITY;
  return async () => {
    if (clock.now() - passedAt < withinMs) return undefined;
    const problem = await check();
    if (problem === undefined) passedAt = clock.now();
    return problem;
  };
}

/** The store answers a ping. */
export function storeCheck(store: Pick<Store, 'ping'>): ReadinessCheck {
  return async () => {
    await store.ping();
    return undefined;
  };
}

/**
 * A loop that should keep coming round (the sweep): fine while its last round finished, well or not,
 * within `staleAfterMs`.
 */
export class Heartbeat {
  #last: number | undefined;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    private readonly staleAfterMs: number,
    private readonly what: string,
  ) {}

  /** A round finished. */
  beat(): void {
    this.#last = this.clock.now();
  }

  readonly check: ReadinessCheck = () => {
    if (this.#last === undefined) return `no ${this.what} has finished yet`;
    const age = this.clock.now() - this.#last;
    return age <= this.staleAfterMs ? undefined : `no ${this.what} has finished for ${Math.round(age / 1000)} s`;
  };
}

/** `CODE: message` for coded errors (StoreError, Slack's), the message otherwise. */
function describeError(error: unknown): string {
  const code = errorCode(error);
  const message = (error as Error)?.message ?? String(error);
  return code === undefined ? message : `${code}: ${message}`;
}
