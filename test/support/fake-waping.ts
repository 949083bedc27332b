import { mediaRequestBody } from '../../src/adapters/waping/media-body.js';
import { failure, responseError } from '../../src/adapters/waping/responses.js';
import type { Clock, Device, OutgoingMedia, OutgoingText, WapingPort, WapingSendResult } from '../../src/core/ports.js';
import { errorBody, faultAnswer, type HttpAnswer, parseSendBody } from '../../src/sandbox/http.js';
import { deviceRefusal, keySeenBefore, type StoredResponse } from '../../src/sandbox/send-checks.js';
import { defaultDevices, type SandboxDevice, type SandboxDeviceStatus } from '../../src/sandbox/types.js';

/*
 * WAPing in memory, for the core's unit and property tests: no HTTP, and time is the test's clock. It plays by the
 * sandbox's rules (its body, key and device checks) and reads its answers as the real client reads WAPing's
 * (`responseError`), so it answers what `WapingClient` against the sandbox would;
 * test/adapters/waping/waping.contract.test.ts holds both to one contract.
 */

/** A scripted HTTP failure for the next send, as the sandbox takes them: a status, with Retry-After on 429. */
export interface FakeWapingFault {
  status: number;
  retryAfterSeconds?: number;
  body?: unknown;
}

export interface FakeWapingOptions {
  /** Default: the sandbox's devices (`dev_support`, `dev_sales` connected, `dev_old` disconnected). */
  devices?: SandboxDevice[];
  /** Stamps the attempts; default the system clock. */
  clock?: Pick<Clock, 'now'>;
}

/** One call to sendMessage, as made. */
export interface FakeWapingAttempt {
  key: string;
  body: string;
  at: number;
}

/** The results the real client gives in each situation, for tests that script a WAPing answer directly. */
export const WAPING_RESULTS = {
  unavailable: {
    ok: false,
    error: {
      retryable: true,
      code: 'HTTP_503',
      status: 503,
      message: 'WAPing failed on its side (HTTP 503) (WAPing code INTERNAL)',
    },
  },
  /** A 429 whose Retry-After asked for `retryAfterMs`. */
  rateLimited: (retryAfterMs: number): WapingSendResult => ({
    ok: false,
    error: {
      retryable: true,
      code: 'RATE_LIMITED',
      status: 429,
      retryAfterMs,
      message: 'WAPing is rate limiting requests',
    },
  }),
  sessionDisconnected: {
    ok: false,
    error: {
      retryable: false,
      code: 'SESSION_DISCONNECTED',
      status: 422,
      message: "The device's WhatsApp session is disconnected",
    },
  },
  validation: {
    ok: false,
    error: {
      retryable: false,
      code: 'VALIDATION',
      status: 400,
      message: 'WAPing rejected the message as invalid; check the number is in E.164 form (+ and country code)',
    },
  },
  unknownDevice: {
    ok: false,
    error: {
      retryable: false,
      code: 'UNKNOWN_DEVICE',
      status: 400,
      message: 'WAPing does not know this device',
    },
  },
  idempotencyConflict: {
    ok: false,
    error: {
      retryable: false,
      code: 'IDEMPOTENCY_CONFLICT',
      status: 409,
      message: 'WAPing already used this idempotency key for a different request body',
    },
  },
  unauthorized: {
    ok: false,
    error: {
      retryable: false,
      code: 'UNAUTHORIZED',
      status: 401,
      message: 'WAPing refused the API key',
    },
  },
} as const satisfies Record<string, WapingSendResult | ((...args: never[]) => WapingSendResult)>;

export class FakeWaping implements WapingPort {
  /** Every call to sendMessage, in order, whatever it came to. */
  readonly attempts: FakeWapingAttempt[] = [];
  readonly #devices: Map<string, SandboxDevice>;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #stored = new Map<string, StoredResponse>();
  readonly #faults: FakeWapingFault[] = [];
  readonly #scripted: WapingSendResult[] = [];
  #sent = 0;

  constructor(options: FakeWapingOptions = {}) {
    this.#devices = new Map((options.devices ?? defaultDevices).map((device) => [device.id, { ...device }]));
    this.#clock = options.clock ?? { now: () => Date.now() };
  }

  /** The next sends get these results as they are, before anything else is looked at. */
  answer(...results: WapingSendResult[]): void {
    this.#scripted.push(...results);
  }

  /** The next sends (after any scripted results) fail with these HTTP answers: nothing sent, the key not kept. */
  fault(...faults: FakeWapingFault[]): void {
    this.#faults.push(...faults);
  }

  setDeviceStatus(id: string, status: SandboxDeviceStatus): void {
    const device = this.#devices.get(id);
    if (device === undefined) throw new Error(`The fake WAPing has no device ${id}`);
    device.status = status;
  }

  /** How many calls were made under each key. */
  callsPerKey(): Map<string, number> {
    const calls = new Map<string, number>();
    for (const { key } of this.attempts) calls.set(key, (calls.get(key) ?? 0) + 1);
    return calls;
  }

  /** Messages really sent: the first acceptance of each key. */
  totalSends(): number {
    return this.#sent;
  }

  /** The same bytes as WapingClient.textBody (the contract checks it). */
  textBody({ deviceId, to, text }: OutgoingText): string {
    return JSON.stringify({ deviceId, to, type: 'text', text: { body: text } });
  }

  mediaBody(message: OutgoingMedia): string {
    return mediaRequestBody(message);
  }

  async sendMessage(idempotencyKey: string, body: string): Promise<WapingSendResult> {
    this.attempts.push({ key: idempotencyKey, body, at: this.#clock.now() });
    const scripted = this.#scripted.shift();
    if (scripted) return scripted;
    const fault = this.#faults.shift();
    if (fault) return resultOf(faultAnswer(fault));

    const bytes = Buffer.from(body);
    const seen = keySeenBefore(false, this.#stored.get(idempotencyKey), bytes);
    if (seen) return resultOf(seen.answer);
    const parsed = parseSendBody(bytes);
    if (!parsed.ok) return resultOf({ status: 400, body: errorBody('VALIDATION', parsed.reason) });
    const refusal = deviceRefusal(this.#devices.get(parsed.deviceId));
    if (refusal) return resultOf(refusal.answer);

    const response = { id: `msg_${++this.#sent}`, status: 'queued', deviceId: parsed.deviceId };
    this.#stored.set(idempotencyKey, { body: bytes, status: 200, response: JSON.stringify(response) });
    return resultOf({ status: 200, body: response });
  }

  async listDevices(): Promise<Device[]> {
    return [...this.#devices.values()].map(({ id, name, phone, status }) => ({
      id,
      name,
      ...(phone ? { phone } : {}),
      connected: status === 'connected',
    }));
  }
}

/** An answer as the client reads it: a 2xx's message id and status, anything else the client's typed failure. */
function resultOf({ status, body, headers }: HttpAnswer): WapingSendResult {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  if (status >= 200 && status < 300) {
    const { id, status: state } = JSON.parse(text) as { id: string; status: string };
    return { ok: true, messageId: id, status: state };
  }
  return failure(responseError({ status, headers: headers ?? {}, text }));
}
