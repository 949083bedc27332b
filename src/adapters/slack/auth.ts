import type { Authorize, AuthorizeResult } from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import { errorCode } from '../../core/errors.js';
import type { Logger } from '../../core/ports.js';
import { slackError } from './api-errors.js';
import { KeepTrying } from './keep-trying.js';

export interface SlackAuthOptions {
  token: string;
  /** The app's client options (API URL, logger); auth.test gets its own client, one request per attempt. */
  clientOptions: WebClientOptions;
  logger: Logger;
  /** Backoff between attempts (default 1 s doubling to 15 s). */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** A Slack Web API error as a short code: Slack's own (`invalid_auth`), else the client's (`slack_webapi_request_error`). */
export function slackErrorCode(error: unknown): string {
  return slackError(error) ?? errorCode(error) ?? 'no answer';
}

/**
 * The bot token's check against Slack (auth.test), kept trying until it succeeds.
 *
 * Bolt's own authorization for a single token runs auth.test once at construction and keeps the outcome
 * for the life of the process, failure included: a Slack blip at start left the bot deaf until restarted.
 * Here a failure is never kept: a background loop retries with backoff until auth.test answers, and an
 * incoming request wakes it to try at once.
 *
 * `authorize` never waits for Slack and never fails: Slack reached us, so the request is served with the
 * configured token (the bot's ids join once known; no listener of this bot needs them). A person thus
 * hears back even while Slack's API is away, and each Slack call a listener makes reports its own error.
 */
export class SlackAuth {
  readonly #token: string;
  readonly #logger: Logger;
  readonly #loop: KeepTrying;
  #ids: { botId?: string; botUserId?: string } | undefined;

  constructor(options: SlackAuthOptions) {
    this.#token = options.token;
    this.#logger = options.logger;
    // No client retries (they run for up to 45 s): the loop's own backoff decides when to ask again.
    const client = new WebClient(options.token, {
      ...options.clientOptions,
      timeout: 5_000,
      retryConfig: { retries: 0 },
    });
    this.#loop = new KeepTrying(
      async (attempt) => {
        const answer = await client.auth.test();
        this.#ids = { botId: answer.bot_id, botUserId: answer.user_id };
        this.#logger.info({ attempt, teamId: answer.team_id, botUserId: answer.user_id }, 'Slack auth verified');
      },
      {
        what: 'Slack auth.test',
        logger: options.logger,
        minDelayMs: options.minDelayMs,
        maxDelayMs: options.maxDelayMs,
        describe: slackErrorCode,
      },
    );
  }

  /** For the readiness probe: undefined once auth.test has succeeded, else the last failure. */
  problem(): string | undefined {
    if (this.#ids) return undefined;
    return `auth.test has not succeeded yet (last: ${this.#loop.lastError ?? 'no answer yet'})`;
  }

  /** Bolt's `authorize`: the configured bot token, with the bot's ids once auth.test has told them. */
  readonly authorize: Authorize<boolean> = async ({ isEnterpriseInstall }) => {
    if (!this.#ids) this.#loop.wake();
    const result: AuthorizeResult = { isEnterpriseInstall, botToken: this.#token, ...this.#ids };
    return result;
  };

  /** Start checking in the background; resolves once auth.test succeeded (or on `stop()`). */
  start(): Promise<void> {
    return this.#loop.start();
  }

  stop(): void {
    this.#loop.stop();
  }
}
