import type { Logger } from '../core/ports.js';

/* What the WAPing sandbox is configured with, and what it records for tests to read. */

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
  /** A media send whose URL could not be fetched. */
  | 'media_fetch_failed'
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
  /**
   * The sandbox plays the customer: this long after an accepted text that ends with `?`, it answers with a
   * `message.received` quoting it (when webhooks are automatic). Default 3000 ms.
   */
  customerReplyDelayMs?: number;
}

export interface EmitOptions {
  /** The `webhook-id`; reuse one to simulate a redelivery. Default: a new id. */
  id?: string;
  /** The `webhook-timestamp` to sign with. Default: now. */
  timestampSeconds?: number;
}

/** Defaults: `dev_support` "Support line" and `dev_sales` "Sales" connected, `dev_old` "Old phone" disconnected. */
export const defaultDevices: SandboxDevice[] = [
  { id: 'dev_support', name: 'Support line', phone: '+14155550198', status: 'connected' },
  { id: 'dev_sales', name: 'Sales', phone: '+14155550199', status: 'connected' },
  { id: 'dev_old', name: 'Old phone', status: 'disconnected' },
];
