import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { signWebhook } from '../adapters/waping/webhook-signature.js';
import type { Logger } from '../core/ports.js';

/*
 * A local WAPing that follows docs/waping-contract.md: the stated parts exactly, the assumed parts as the
 * adapter assumes them. Used by `WAPING_SANDBOX=true npm start` and by tests, which can script faults and
 * read what it received. It never logs phone numbers or message text.
 */

export type SandboxDeviceStatus = 'connected' | 'disconnected';

export interface SandboxDevice {
  id: string;
  name: string;
  phone?: string;
  status: SandboxDeviceStatus;
}

/**
 * A fault for one `POST /v1/messages`, consumed in order before normal processing.
 * - `{status}`: answer that status (429 with `Retry-After` when `retryAfterSeconds` is set) without
 *   processing: no send, the key is not stored.
 * - `{drop: true}`: destroy the socket without answering: no send, the key is not stored.
 * - `{delayMs}`: process normally but only answer after the delay; meanwhile the key is in flight.
 */
export type SandboxFault =
  | { status: number; retryAfterSeconds?: number; body?: unknown }
  | { drop: true }
  | { delayMs: number };

/** How one `POST /v1/messages` ended. */
export type SandboxOutcome =
  | 'pending'
  | 'accepted'
  | 'replayed'
  | 'idempotency_conflict'
  | 'idempotency_in_flight'
  | 'missing_idempotency_key'
  | 'invalid'
  | 'unknown_device'
  | 'session_disconnected'
  | 'unauthorized'
  | 'fault_status'
  | 'fault_drop'
  | 'aborted';

export interface SandboxRequest {
  at: number;
  key: string | undefined;
  /** The raw body, as received. */
  body: string;
  outcome: SandboxOutcome;
}

export interface SandboxMessage {
  id: string;
  key: string;
  deviceId: string;
  to: string;
  type: string;
  /** The text of a text message, the caption of a media one. */
  text: string | undefined;
  at: number;
}

/** One attempt at delivering a webhook. */
export interface SandboxDelivery {
  webhookId: string;
  type: string;
  attempt: number;
  /** The receiver's HTTP status, or undefined when it could not be reached. */
  status: number | undefined;
}

export interface WapingSandboxOptions {
  /** The only API key accepted (`Authorization: Bearer <apiKey>`). */
  apiKey: string;
  /** Defaults: `dev_support` "Support line" and `dev_sales` "Sales" connected, `dev_old` "Old phone" disconnected. */
  devices?: SandboxDevice[];
  /** Delay before every send is processed and answered; its key is in flight meanwhile. */
  responseDelayMs?: number;
  /** Where to POST webhook events. */
  webhookUrl?: string;
  /** `whsec_<base64>` secret the events are signed with; required with `webhookUrl`. */
  webhookSecret?: string;
  /** Set to false to send no automatic events (emit() still works). Default true. */
  emitWebhooks?: boolean;
  /**
   * After an accepted send, when to send `message.queued`, `.sent`, `.delivered` and `.read`, in ms
   * after acceptance. A shorter list sends fewer events. Default [50, 300, 800, 1500].
   */
  webhookDelaysMs?: number[];
  /** Attempts per automatic event while the receiver answers non-2xx. Default 4. */
  webhookAttempts?: number;
  /** Pause between attempts. Default 200 ms. */
  webhookRetryDelayMs?: number;
  /** Ids and outcomes only, never numbers or text. */
  logger?: Logger;
}

export interface EmitOptions {
  /** The `webhook-id`; reuse one to simulate a redelivery. Default: a new id. */
  id?: string;
  /** The `webhook-timestamp` to sign with. Default: now. */
  timestampSeconds?: number;
}

const defaultDevices: SandboxDevice[] = [
  { id: 'dev_support', name: 'Support line', phone: '+15550001111', status: 'connected' },
  { id: 'dev_sales', name: 'Sales', phone: '+15550002222', status: 'connected' },
  { id: 'dev_old', name: 'Old phone', status: 'disconnected' },
];

const e164Pattern = /^\+[1-9]\d{6,14}$/;
const mediaTypes = new Set(['image', 'document', 'audio', 'video']);
const maxBodyBytes = 1024 * 1024;
const deliveryEventTypes = ['message.queued', 'message.sent', 'message.delivered', 'message.read'] as const;

interface StoredResponse {
  body: Buffer;
  status: number;
  response: string;
}

interface HttpAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Start a sandbox with `listen()`; stop it, with every timer it set, with `close()`. */
export function createWapingSandbox(options: WapingSandboxOptions): WapingSandbox {
  return new WapingSandbox(options);
}

export class WapingSandbox {
  /** Every `POST /v1/messages` received, faults included, in arrival order. */
  readonly requests: SandboxRequest[] = [];
  /** Every webhook delivery attempt that was made, automatic or emitted. */
  readonly deliveries: SandboxDelivery[] = [];

  readonly #options: WapingSandboxOptions;
  readonly #devices: Map<string, SandboxDevice>;
  readonly #faults: SandboxFault[] = [];
  readonly #stored = new Map<string, StoredResponse>();
  readonly #inFlight = new Set<string>();
  readonly #messages: SandboxMessage[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #wakers = new Set<() => void>();
  readonly #aborts = new Set<AbortController>();
  readonly #server: Server;
  readonly #agent = new Agent({ keepAliveTimeout: 1_000 });
  #webhookUrl: string | undefined;
  #url: string | undefined;
  #closed = false;

  constructor(options: WapingSandboxOptions) {
    if (options.webhookUrl !== undefined && options.webhookSecret === undefined) {
      throw new Error('The WAPing sandbox needs webhookSecret to sign the webhooks it sends to webhookUrl');
    }
    this.#options = options;
    this.#webhookUrl = options.webhookUrl;
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
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
    for (const controller of this.#aborts) controller.abort();
    this.#aborts.clear();
    if (this.#server.listening) {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeAllConnections();
      await closed;
    }
    await this.#agent.destroy();
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
    if (this.#autoWebhooks()) {
      const data = status === 'connected' ? { deviceId: id } : { deviceId: id, reason: 'unlinked in the sandbox' };
      this.#deliverWithRetries(`session.${status}`, data);
    }
  }

  /** Where automatic and emitted webhooks go (e.g. once the receiver knows its port). */
  setWebhookUrl(url: string | undefined): void {
    if (url !== undefined && this.#options.webhookSecret === undefined) {
      throw new Error('The WAPing sandbox needs webhookSecret to sign webhooks');
    }
    this.#webhookUrl = url;
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
    if (this.#webhookUrl === undefined) throw new Error('The WAPing sandbox has no webhook URL');
    const status = await this.#deliver(options.id ?? newId('evt'), type, data, 1, options.timestampSeconds);
    if (status === undefined) throw new Error('The webhook receiver could not be reached');
    return status;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://sandbox').pathname;
    const body = await readBody(req);
    if (body === undefined) return answer(res, { status: 413, body: errorBody('VALIDATION', 'Body too large') });

    if (req.method === 'POST' && path === '/v1/messages') return this.#sendMessage(req, res, body);

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
    if (this.#inFlight.has(key)) {
      return settle('idempotency_in_flight', {
        status: 409,
        body: errorBody('IDEMPOTENCY_IN_FLIGHT', 'A request with this idempotency key is still being processed'),
      });
    }
    const stored = this.#stored.get(key);
    if (stored !== undefined) {
      if (stored.body.equals(body)) {
        return settle('replayed', { status: stored.status, body: stored.response });
      }
      return settle('idempotency_conflict', {
        status: 409,
        body: errorBody('IDEMPOTENCY_CONFLICT', 'This idempotency key was used with a different request body'),
      });
    }

    const delayMs = fault?.delayMs ?? this.#options.responseDelayMs ?? 0;
    if (delayMs > 0) {
      this.#inFlight.add(key);
      try {
        await this.#sleep(delayMs);
      } finally {
        this.#inFlight.delete(key);
      }
      if (this.#closed) return settle('aborted');
    }

    const parsed = parseSendBody(body);
    if (!parsed.ok) return settle('invalid', { status: 400, body: errorBody('VALIDATION', parsed.reason) });
    const device = this.#devices.get(parsed.deviceId);
    if (device === undefined) {
      return settle('unknown_device', { status: 400, body: errorBody('UNKNOWN_DEVICE', 'No device with this id') });
    }
    if (device.status !== 'connected') {
      return settle('session_disconnected', {
        status: 422,
        body: errorBody(
          'SESSION_DISCONNECTED',
          'The WhatsApp session of this device is disconnected; re-link it by QR',
        ),
      });
    }

    const id = newId('msg');
    const response = { id, status: 'queued', deviceId: device.id };
    this.#stored.set(key, { body, status: 200, response: JSON.stringify(response) });
    this.#messages.push({
      id,
      key,
      deviceId: device.id,
      to: parsed.to,
      type: parsed.type,
      text: parsed.text,
      at: Date.now(),
    });
    this.#scheduleDeliveryEvents({ messageId: id, deviceId: device.id, to: parsed.to });
    settle('accepted', { status: 200, body: response });
  }

  #authorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${this.#options.apiKey}`;
  }

  #autoWebhooks(): boolean {
    return this.#webhookUrl !== undefined && this.#options.emitWebhooks !== false && !this.#closed;
  }

  #scheduleDeliveryEvents(data: { messageId: string; deviceId: string; to: string }): void {
    if (!this.#autoWebhooks()) return;
    const delays = this.#options.webhookDelaysMs ?? [50, 300, 800, 1500];
    deliveryEventTypes.forEach((type, index) => {
      const delay = delays[index];
      if (delay !== undefined) this.#later(delay, () => this.#deliverWithRetries(type, data));
    });
  }

  /** Deliver one event, redelivering with the same webhook-id while the receiver answers non-2xx. */
  #deliverWithRetries(type: string, data: unknown): void {
    const id = newId('evt');
    const attempts = this.#options.webhookAttempts ?? 4;
    const attempt = async (n: number): Promise<void> => {
      const status = await this.#deliver(id, type, data, n);
      const delivered = status !== undefined && status >= 200 && status < 300;
      if (!delivered && n < attempts) this.#later(this.#options.webhookRetryDelayMs ?? 200, () => attempt(n + 1));
    };
    void attempt(1);
  }

  /** One signed POST to the webhook URL; the receiver's status, or undefined when there was none to reach. */
  async #deliver(
    id: string,
    type: string,
    data: unknown,
    attempt: number,
    timestampSeconds = Math.floor(Date.now() / 1000),
  ): Promise<number | undefined> {
    const url = this.#webhookUrl;
    const secret = this.#options.webhookSecret;
    if (url === undefined || secret === undefined || this.#closed) return undefined;
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

  #later(ms: number, run: () => unknown): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }

  /** A delay that close() ends early, so no request handler outlives the sandbox. */
  #sleep(ms: number): Promise<void> {
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
}

type ParsedSend =
  | { ok: true; deviceId: string; to: string; type: string; text: string | undefined }
  | { ok: false; reason: string };

/** Validate a send body. Reasons never repeat the values received. */
function parseSendBody(raw: Buffer): ParsedSend {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, reason: 'The body is not valid JSON' };
  }
  if (!isRecord(json)) return { ok: false, reason: 'The body must be a JSON object' };
  const { deviceId, to, type } = json;
  if (typeof deviceId !== 'string' || deviceId.length === 0) return { ok: false, reason: 'deviceId is required' };
  if (typeof to !== 'string' || !e164Pattern.test(to)) {
    return { ok: false, reason: 'to must be a phone number in E.164 form: + then country code and number' };
  }
  if (type === 'text') {
    const text = json.text;
    if (!isRecord(text) || typeof text.body !== 'string' || text.body.length === 0) {
      return { ok: false, reason: 'text.body is required for a text message' };
    }
    return { ok: true, deviceId, to, type, text: text.body };
  }
  if (typeof type === 'string' && mediaTypes.has(type)) {
    const media = json[type];
    if (!isRecord(media) || typeof media.url !== 'string' || !/^https?:\/\//.test(media.url)) {
      return { ok: false, reason: `${type}.url must be an http(s) URL` };
    }
    if (media.caption !== undefined && typeof media.caption !== 'string') {
      return { ok: false, reason: `${type}.caption must be a string` };
    }
    return { ok: true, deviceId, to, type, text: media.caption };
  }
  return { ok: false, reason: 'type must be one of text, image, document, audio, video' };
}

function faultAnswer(fault: { status: number; retryAfterSeconds?: number; body?: unknown }): HttpAnswer {
  const code = fault.status === 429 ? 'RATE_LIMITED' : fault.status >= 500 ? 'INTERNAL' : 'SCRIPTED';
  return {
    status: fault.status,
    body: fault.body ?? errorBody(code, `Scripted HTTP ${fault.status}`),
    ...(fault.retryAfterSeconds === undefined ? {} : { headers: { 'retry-after': String(fault.retryAfterSeconds) } }),
  };
}

function unauthorized(): HttpAnswer {
  return { status: 401, body: errorBody('UNAUTHORIZED', 'Missing or invalid API key') };
}

function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

function answer(res: ServerResponse, { status, body, headers }: HttpAnswer): void {
  if (res.headersSent || res.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBodyBytes) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
