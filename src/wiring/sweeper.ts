import type { Logger } from '../core/ports.js';
import type { Heartbeat } from '../readiness.js';
import type { Services } from './services.js';

/**
 * The sweep: sends whose owner died, webhooks recorded but not applied, Slack messages left behind, approval
 * groups past their deadline, workflow steps whose end Slack was not told. Runs at start and then every interval; never two sweeps at once in one process
 * (a slow sweep makes the next tick skip). Each finished sweep beats the readiness heartbeat.
 */
export class Sweeper {
  #sweeping: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly services: Pick<
      Services,
      'sends' | 'deliveries' | 'sync' | 'approvals' | 'sendGroups' | 'conversations' | 'stepCompletions'
    >,
    private readonly deps: {
      logger: Logger;
      heartbeat: Heartbeat;
      /** Told how long each sweep took (seconds) and whether it completed. */
      finished: (seconds: number, ok: boolean) => void;
    },
  ) {}

  /** Sweep once now, then every `intervalMs` until `stop()`. Resolves when the first sweep is done. */
  async start(intervalMs: number): Promise<void> {
    await this.tick();
    this.#timer = setInterval(() => this.tick(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Resolves when the sweep under way, if any, has finished. */
  async idle(): Promise<void> {
    await this.#sweeping;
  }

  private tick(): Promise<void> {
    this.#sweeping ??= this.sweep().finally(() => {
      this.#sweeping = undefined;
      this.deps.heartbeat.beat();
    });
    return this.#sweeping;
  }

  private async sweep(): Promise<void> {
    const { sends, deliveries, sync, approvals, sendGroups, conversations, stepCompletions } = this.services;
    const { logger } = this.deps;
    const started = performance.now();
    let ok = true;
    try {
      const resumed = await sends.resumeStale();
      const reapplied = (await deliveries.resumeInbox()) + (await conversations.resume());
      const behind = await sync.resumeBehind();
      const groupsMoved = (await approvals.sweep()) + (await sendGroups.sweep());
      const stepsEnded = await stepCompletions.sweep();
      if (resumed + reapplied + behind + groupsMoved + stepsEnded > 0) {
        logger.info({ resumed, reapplied, behind, groupsMoved, stepsEnded }, 'sweep resumed work');
      }
    } catch (error) {
      ok = false;
      logger.error({ err: error }, 'sweep failed; trying again at the next interval');
    } finally {
      this.deps.finished((performance.now() - started) / 1000, ok);
    }
  }
}
