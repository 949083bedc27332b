/** The monitoring port: what the bot counts and times. The metrics adapter implements it. */
import type { InboundOutcome } from './inbound.js';

/** How one HTTP exchange with WAPing ended, as monitoring counts it. */
export type WapingRequestOutcome = 'ok' | 'rate_limited' | 'http_4xx' | 'http_5xx' | 'timeout' | 'network';

/** How the webhook route answered one delivery. */
export type WebhookResult =
  | 'recorded'
  | 'duplicate'
  | 'refused'
  | 'malformed'
  | 'too_large'
  | 'ignored'
  | 'unavailable';

/**
 * What the bot reports about its work, for monitoring (counters and durations only; state such as
 * the pending sends is read from the store when scraped). Never pass phone numbers, text or
 * unbounded ids: every argument becomes a label. Implemented by the metrics adapter.
 */
export interface Telemetry {
  /** A send was settled for good: WAPing accepted it, or it failed (refused, or unanswered too long). */
  sendSettled(outcome: 'accepted' | 'failed'): void;
  /** One HTTP exchange with WAPing ended after `seconds`. */
  wapingRequest(operation: 'send' | 'list_devices', outcome: WapingRequestOutcome, seconds: number): void;
  /** A webhook was answered; `type` is a known event type, `other`, or `unknown` when it was not read. */
  webhookReceived(type: string, result: WebhookResult): void;
  /** A send was held for approval. */
  approvalRequested(): void;
  /** An approval request reached its outcome. */
  approvalDecided(outcome: 'approved' | 'rejected' | 'cancelled' | 'expired'): void;
  /** A device's session changed (reported once per change, not per redelivery). */
  deviceSessionChanged(connected: boolean): void;
  /** A call to the chat platform's API failed: `code` is its error (`not_in_channel`), `http_<status>`, `timeout` or `network`. */
  chatApiError(method: string, code: string): void;
  /** One recovery sweep ended after `seconds`; `ok` false when it threw. */
  sweepFinished(seconds: number, ok: boolean): void;
  /** A parked webhook event (for a message this bot does not know) was dropped because more than the cap were parked. */
  parkedEventDropped(): void;
  /** A customer's message was handled: posted in a thread or the inbox, a redelivery, or posted nowhere. */
  inboundMessage(outcome: InboundOutcome): void;
}

/** Telemetry that records nothing: the default where no metrics are wired. */
export const noTelemetry: Telemetry = {
  sendSettled: () => {},
  wapingRequest: () => {},
  webhookReceived: () => {},
  approvalRequested: () => {},
  approvalDecided: () => {},
  deviceSessionChanged: () => {},
  chatApiError: () => {},
  sweepFinished: () => {},
  parkedEventDropped: () => {},
  inboundMessage: () => {},
};
