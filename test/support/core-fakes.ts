import type {
  Clock,
  Device,
  Logger,
  MessageRef,
  SendNotifier,
  WapingPort,
  WapingSendResult,
} from '../../src/core/ports.js';
import type { SendPolicy } from '../../src/core/send-policy.js';
import type { SendRecord } from '../../src/core/send-record.js';

/*
 * Stand-ins for the core's ports in unit tests of the core (the e2e suites use the real adapters): a clock only the
 * test moves, a WAPing that answers from a script, a recording Slack side and a silent logger.
 */

/** Time that moves only when a test (or a backoff sleep) moves it, so nothing really waits. */
export class ManualClock implements Clock {
  constructor(public at = Date.now()) {}
  now(): number {
    return this.at;
  }
  async sleep(ms: number): Promise<void> {
    this.at += ms;
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

export const ACCEPTED: WapingSendResult = { ok: true, messageId: 'msg_1', status: 'queued' };
export const UNAVAILABLE: Extract<WapingSendResult, { ok: false }> = {
  ok: false,
  retryable: true,
  code: 'HTTP_503',
  status: 503,
  message: 'WAPing failed on its side (HTTP 503)',
};

/** A WAPing that answers from a script, then with `fallback`, and remembers every attempt. */
export class ScriptedWaping implements WapingPort {
  readonly attempts: Array<{ key: string; body: string; at: number }> = [];

  constructor(
    private readonly clock: Clock,
    private readonly script: WapingSendResult[] = [],
    private readonly fallback: WapingSendResult = ACCEPTED,
  ) {}

  answer(...results: WapingSendResult[]): void {
    this.script.push(...results);
  }

  textBody({ deviceId, to, text }: { deviceId: string; to: string; text: string }): string {
    return JSON.stringify({ deviceId, to, type: 'text', text: { body: text } });
  }

  async sendMessage(key: string, body: string): Promise<WapingSendResult> {
    this.attempts.push({ key, body, at: this.clock.now() });
    return this.script.shift() ?? this.fallback;
  }

  async listDevices(): Promise<Device[]> {
    return [];
  }
}

/** One call the core made to the Slack side. */
export interface NotifierCall {
  method: string;
  /** The send's key and state, when the first argument was a send record. */
  key?: string;
  state?: string;
}

/**
 * The Slack side, recorded: every method of SendNotifier resolves, `announce…` methods with a fresh message ts.
 * A Proxy rather than a class so that the port can grow (groups, approvals) without this fake falling behind.
 */
export function recordingNotifier(): { notifier: SendNotifier; calls: NotifierCall[] } {
  const calls: NotifierCall[] = [];
  let posted = 0;
  const notifier = new Proxy({} as SendNotifier, {
    get: (_target, method) => {
      if (typeof method !== 'string' || method === 'then') return undefined; // not a thenable
      return async (...args: unknown[]) => {
        const first = args[0] as Partial<SendRecord> | undefined;
        calls.push({ method, key: first?.key, state: first?.state });
        if (method.startsWith('announce')) {
          return { channel: 'C0SUPPORT', ts: `1700000000.${String(++posted).padStart(6, '0')}` } satisfies MessageRef;
        }
        return undefined;
      };
    },
  });
  return { notifier, calls };
}

export const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A send policy with short waits, so that a test's backoff and leases play out in a few steps of the clock. */
export const testSendPolicy: SendPolicy = {
  leaseMs: 10_000,
  attemptsPerRun: 3,
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  giveUpAfterMs: 60 * 60 * 1000,
};
