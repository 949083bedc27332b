import { Agent, request } from 'undici';
import { signWebhook } from '../adapters/waping/webhook-signature.js';
import { newId } from './http.js';
import type { SandboxTimers } from './timers.js';
import type { SandboxDelivery, WapingSandboxOptions } from './types.js';

const deliveryEventTypes = ['message.queued', 'message.sent', 'message.delivered', 'message.read'] as const;

/** The sandbox's webhooks: signed POSTs to the receiver, automatic (after sends, session changes) or emitted. */
export class SandboxWebhookSender {
  /** Every webhook delivery attempt that was made, automatic or emitted. */
  readonly deliveries: SandboxDelivery[] = [];
  readonly #options: WapingSandboxOptions;
  readonly #timers: SandboxTimers;
  readonly #aborts = new Set<AbortController>();
  readonly #agent = new Agent({ keepAliveTimeout: 1_000 });
  #url: string | undefined;

  constructor(options: WapingSandboxOptions, timers: SandboxTimers) {
    this.#options = options;
    this.#timers = timers;
    this.#url = options.webhookUrl;
  }

  get url(): string | undefined {
    return this.#url;
  }

  set url(url: string | undefined) {
    if (url !== undefined && this.#options.webhookSecret === undefined) {
      throw new Error('The WAPing sandbox needs webhookSecret to sign webhooks');
    }
    this.#url = url;
  }

  /** Whether events are sent without being asked (a URL is set, they are not switched off, not closed). */
  automatic(): boolean {
    return this.#url !== undefined && this.#options.emitWebhooks !== false && !this.#timers.closed;
  }

  /** After an accepted send: `message.queued`, `.sent`, `.delivered` and `.read`, at the configured delays. */
  scheduleDeliveryEvents(data: { messageId: string; deviceId: string; to: string }): void {
    if (!this.automatic()) return;
    const delays = this.#options.webhookDelaysMs ?? [50, 300, 800, 1500];
    deliveryEventTypes.forEach((type, index) => {
      const delay = delays[index];
      if (delay !== undefined) this.#timers.later(delay, () => this.deliverWithRetries(type, data));
    });
  }

  /** Deliver one event, redelivering with the same webhook-id while the receiver answers non-2xx; its webhook-id. */
  deliverWithRetries(type: string, data: unknown): string {
    const id = newId('evt');
    const attempts = this.#options.webhookAttempts ?? 4;
    const attempt = async (n: number): Promise<void> => {
      const status = await this.deliver(id, type, data, n);
      const delivered = status !== undefined && status >= 200 && status < 300;
      if (!delivered && n < attempts) {
        this.#timers.later(this.#options.webhookRetryDelayMs ?? 200, () => attempt(n + 1));
      }
    };
    void attempt(1);
    return id;
  }

  /** One signed POST to the webhook URL; the receiver's status, or undefined when there was none to reach. */
  async deliver(
    id: string,
    type: string,
    data: unknown,
    attempt: number,
    timestampSeconds = Math.floor(Date.now() / 1000),
  ): Promise<number | undefined> {
    const url = this.#url;
    const secret = this.#options.webhookSecret;
    if (url === undefined || secret === undefined || this.#timers.closed) return undefined;
    const payload = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
    const controller = new AbortController();
    this.#aborts.add(controller);
    let status: number | undefined;
    try {
      const response = await request(url, {
        dispatcher: this.#agent,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(timestampSeconds),
          'webhook-signature': signWebhook(secret, id, timestampSeconds, payload),
        },
        body: payload,
        signal: controller.signal,
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
      });
      await response.body.dump();
      status = response.statusCode;
    } catch {
      status = undefined;
    } finally {
      this.#aborts.delete(controller);
    }
    this.deliveries.push({ webhookId: id, type, attempt, status });
    this.#options.logger?.debug({ webhookId: id, type, attempt, status }, 'waping sandbox webhook');
    return status;
  }

  /** Abort the requests under way. */
  abort(): void {
    for (const controller of this.#aborts) controller.abort();
    this.#aborts.clear();
  }

  /** Release the connections. */
  async close(): Promise<void> {
    await this.#agent.destroy();
  }
}
