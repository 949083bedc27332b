import type { SocketModeReceiver } from '@slack/bolt';
import type { Logger } from '../../core/ports.js';
import { slackErrorCode } from './auth.js';
import { KeepTrying } from './keep-trying.js';

/**
 * Starts Socket Mode without giving up: Bolt's start rejects when `apps.connections.open` cannot be reached
 * (after the client's own retries), which used to end the process with a raw stack. Here the first attempt
 * is the app's own start (it also opens the HTTP port for /healthz, /readyz and webhooks); later ones only
 * reconnect the socket, with backoff, one log line per failure, until Slack answers.
 */
export class SocketModeConnection {
  readonly #loop: KeepTrying;
  #connected = false;

  constructor(receiver: SocketModeReceiver, startApp: () => Promise<unknown>, logger: Logger) {
    receiver.client.on('connected', () => {
      if (!this.#connected) logger.info({}, 'Socket Mode connected');
      this.#connected = true;
    });
    for (const state of ['reconnecting', 'disconnected']) {
      receiver.client.on(state, () => {
        this.#connected = false;
      });
    }
    this.#loop = new KeepTrying(
      async (attempt) => {
        await (attempt === 1 ? startApp() : receiver.client.start());
      },
      { what: 'Socket Mode connection', logger, minDelayMs: 1_000, maxDelayMs: 30_000, describe: slackErrorCode },
    );
  }

  /** For the readiness probe: undefined while the socket is connected, else why not. */
  problem(): string | undefined {
    if (this.#connected) return undefined;
    const last = this.#loop.lastError;
    return `the Socket Mode connection is not open${last ? ` (last: ${last})` : ''}`;
  }

  /** Start connecting in the background; resolves once connected (or on `stop()`). */
  start(): Promise<void> {
    return this.#loop.start();
  }

  stop(): void {
    this.#loop.stop();
  }
}
