import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SandboxCustomer } from './customer.js';
import {
  answer,
  errorBody,
  faultAnswer,
  type HttpAnswer,
  headerValue,
  newId,
  parseSendBody,
  readBody,
  unauthorized,
} from './http.js';
import { SandboxMedia } from './media-fetch.js';
import { deviceRefusal, keySeenBefore, type StoredResponse } from './send-checks.js';
import { SandboxTimers } from './timers.js';
import {
  defaultDevices,
  type EmitOptions,
  type SandboxDelivery,
  type SandboxDevice,
  type SandboxDeviceStatus,
  type SandboxFault,
  type SandboxMessage,
  type SandboxOutcome,
  type SandboxRequest,
  type WapingSandboxOptions,
} from './types.js';
import { SandboxWebhookSender } from './webhook-sender.js';

export type * from './types.js';

/*
 * A local WAPing that follows docs/waping-contract.md: the stated parts exactly, the assumed parts as the
 * adapter assumes them. Used by `WAPING_SANDBOX=true npm start` and by tests, which can script faults and
 * read what it received. It never logs phone numbers or message text.
 */

/** Start a sandbox with `listen()`; stop it, with every timer it set, with `close()`. */
export function createWapingSandbox(options: WapingSandboxOptions): WapingSandbox {
  return new WapingSandbox(options);
}

export class WapingSandbox {
  /** Every `POST /v1/messages` received, faults included, in arrival order. */
  readonly requests: SandboxRequest[] = [];
  /** Every webhook delivery attempt that was made, automatic or emitted. */
  readonly deliveries: SandboxDelivery[];
  /** The customer: answers questions, and sends any message on request (`receive`, `POST /sandbox/inbound`). */
  readonly customer: SandboxCustomer;
  /** Media sends' files, fetched like WAPing would before accepting the send. */
  readonly media = new SandboxMedia();

  readonly #options: WapingSandboxOptions;
  readonly #devices: Map<string, SandboxDevice>;
  readonly #faults: SandboxFault[] = [];
  readonly #stored = new Map<string, StoredResponse>();
  readonly #inFlight = new Set<string>();
  readonly #messages: SandboxMessage[] = [];
  readonly #timers = new SandboxTimers();
  readonly #webhooks: SandboxWebhookSender;
  readonly #server: Server;
  #url: string | undefined;

  constructor(options: WapingSandboxOptions) {
    if (options.webhookUrl !== undefined && options.webhookSecret === undefined) {
      throw new Error('The WAPing sandbox needs webhookSecret to sign the webhooks it sends to webhookUrl');
    }
    this.#options = options;
    this.#webhooks = new SandboxWebhookSender(options, this.#timers);
    this.deliveries = this.#webhooks.deliveries;
    this.customer = new SandboxCustomer(options, this.#webhooks, this.#timers, () => this.devices());
    this.#devices = new Map((options.devices ?? defaultDevices).map((device) => [device.id, { ...device }]));
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        this.#options.logger?.error({ err: error }, 'waping sandbox failed on a request');
        if (!res.headersSent) answer(res, { status: 500, body: errorBody('INTERNAL', 'Sandbox failure') });
      });
    });
  }

  /** The base URL, once listening. */
  get url(): string {
    if (this.#url === undefined) throw new Error('The WAPing sandbox is not listening yet');
    return this.#url;
  }

  /** Listen on loopback (port 0 picks a free port); resolves to the base URL. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.#url = `http://${hostPart}:${address.port}`;
    return this.#url;
  }

  /** Stop listening, drop open connections, cancel pending webhooks and delays. */
  async close(): Promise<void> {
    if (this.#timers.closed) return;
    this.#timers.close();
    this.#webhooks.abort();
    if (this.#server.listening) {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeAllConnections();
      await closed;
    }
    await this.#webhooks.close();
  }

  /** Queue faults for the next `POST /v1/messages` requests, one each. */
  script(...faults: SandboxFault[]): void {
    this.#faults.push(...faults);
  }

  /** Link or unlink a device; sends `session.connected` / `session.disconnected` when it changes. */
  setDeviceStatus(id: string, status: SandboxDeviceStatus): void {
    const device = this.#devices.get(id);
    if (device === undefined) throw new Error(`The WAPing sandbox has no device ${id}`);
    if (device.status === status) return;
    device.status = status;
    if (this.#webhooks.automatic()) {
      const data = status === 'connected' ? { deviceId: id } : { deviceId: id, reason: 'unlinked in the sandbox' };
      this.#webhooks.deliverWithRetries(`session.${status}`, data);
    }
  }

  /** Where automatic and emitted webhooks go (e.g. once the receiver knows its port). */
  setWebhookUrl(url: string | undefined): void {
    this.#webhooks.url = url;
  }

  /** The devices as configured now. */
  devices(): SandboxDevice[] {
    return [...this.#devices.values()].map((device) => ({ ...device }));
  }

  /** Real sends for a key: accepted the first time, replays excluded (0 or 1). */
  sendsFor(key: string): number {
    return this.#messages.filter((message) => message.key === key).length;
  }

  totalSends(): number {
    return this.#messages.length;
  }

  /** The accepted messages, in order. */
  messages(): SandboxMessage[] {
    return this.#messages.map((message) => ({ ...message }));
  }

  /**
   * Send one signed webhook event, once, and resolve to the receiver's HTTP status. Rejects when no
   * webhook URL is set or the receiver cannot be reached.
   */
  async emit(type: string, data: unknown, options: EmitOptions = {}): Promise<number> {
    if (this.#webhooks.url === undefined) throw new Error('The WAPing sandbox has no webhook URL');
    const status = await this.#webhooks.deliver(options.id ?? newId('evt'), type, data, 1, options.timestampSeconds);
    if (status === undefined) throw new Error('The webhook receiver could not be reached');
    return status;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://sandbox').pathname;
    const body = await readBody(req);
    if (body === undefined) return answer(res, { status: 413, body: errorBody('VALIDATION', 'Body too large') });

    if (req.method === 'POST' && path === '/v1/messages') return this.#sendMessage(req, res, body);
    if (req.method === 'POST' && path === '/sandbox/inbound') return this.customer.handle(req, res, body);

    if (!this.#authorized(req)) return answer(res, unauthorized());
    if (req.method === 'GET' && path === '/v1/devices') {
      const data = [...this.#devices.values()].map(({ id, name, phone, status }) => ({
        id,
        name,
        ...(phone === undefined ? {} : { phone }),
        status,
      }));
      return answer(res, { status: 200, body: { data } });
    }
    return answer(res, { status: 404, body: errorBody('NOT_FOUND', 'No such endpoint') });
  }

  async #sendMessage(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const key = headerValue(req.headers['idempotency-key']);
    const entry: SandboxRequest = { at: Date.now(), key, body: body.toString('utf8'), outcome: 'pending' };
    this.requests.push(entry);
    const settle = (outcome: SandboxOutcome, http?: HttpAnswer) => {
      entry.outcome = outcome;
      this.#options.logger?.debug({ key, outcome, status: http?.status }, 'waping sandbox send');
      if (http !== undefined) answer(res, http);
    };

    const fault = this.#faults.shift();
    if (fault !== undefined && 'drop' in fault) {
      settle('fault_drop');
      req.socket.destroy();
      return;
    }
    if (fault !== undefined && 'status' in fault) return settle('fault_status', faultAnswer(fault));

    if (!this.#authorized(req)) return settle('unauthorized', unauthorized());
    if (key === undefined || key.length === 0) {
      return settle('missing_idempotency_key', {
        status: 400,
        body: errorBody('VALIDATION', 'The Idempotency-Key header is required'),
      });
    }
    const seen = keySeenBefore(this.#inFlight.has(key), this.#stored.get(key), body);
    if (seen) return settle(seen.outcome, seen.answer);

    const delayMs = fault?.delayMs ?? this.#options.responseDelayMs ?? 0;
    if (delayMs > 0) {
      this.#inFlight.add(key);
      try {
        await this.#timers.sleep(delayMs);
      } finally {
        this.#inFlight.delete(key);
      }
      if (this.#timers.closed) return settle('aborted');
    }

    const parsed = parseSendBody(body);
    if (!parsed.ok) return settle('invalid', { status: 400, body: errorBody('VALIDATION', parsed.reason) });
    const device = this.#devices.get(parsed.deviceId);
    const refusal = deviceRefusal(device);
    if (refusal || device === undefined) return settle(refusal?.outcome ?? 'unknown_device', refusal?.answer);

    const unfetched = parsed.url === undefined ? undefined : await this.media.fetch(parsed.url);
    if (unfetched) return settle('media_fetch_failed', unfetched);
    const id = newId('msg');
    const response = { id, status: 'queued', deviceId: device.id };
    this.#stored.set(key, { body, status: 200, response: JSON.stringify(response) });
    const { to, type, text } = parsed;
    this.#messages.push({ id, key, deviceId: device.id, to, type, text, at: Date.now() });
    this.#webhooks.scheduleDeliveryEvents({ messageId: id, deviceId: device.id, to });
    this.customer.onSent({ id, deviceId: device.id, to, type, text });
    settle('accepted', { status: 200, body: response });
  }

  #authorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${this.#options.apiKey}`;
  }
}
