import { nextStatus, type ReplyMode, wantsReply } from './delivery-status.js';
import type { DeliveryStatus, SendRecord } from './send-record.js';

/** A verified WAPing webhook, in the core's terms (no phone numbers: the core does not need them). */
export type DeliveryEvent =
  | {
      kind: 'message';
      messageId: string;
      status: DeliveryStatus;
      /** When WAPing saw it (ms). */
      at: number;
      error?: { code: string; message: string };
    }
  | { kind: 'session'; deviceId: string; connected: boolean; at: number; reason?: string };

/** A delivery status event for one WAPing message. */
export type MessageEvent = Extract<DeliveryEvent, { kind: 'message' }>;

/** How many applied webhook ids a send remembers, to apply each redelivery once. */
const APPLIED_EVENTS_KEPT = 200;

/** A recorded webhook event, stored under its webhook id until applied (and remembered after). */
/** One place in the parking ring: the event that took ticket `ticket`. */
export interface ParkingSlot {
  ticket: number;
  webhookId: string;
  messageId: string;
}

export interface InboxEntry {
  id: string;
  event: DeliveryEvent;
  /** 'waiting': an event kept in the inbox for an unknown message by earlier versions; the sweep parks it. */
  state: 'received' | 'waiting' | 'parked' | 'dropped' | 'applied';
  receivedAt: number;
  /** While parked: since when (the injected clock), and its ticket, which names its place in the parking ring. */
  parked?: { at: number; ticket: number };
}

/** Plain words for WhatsApp delivery failures. */
function failureReason(error?: { code: string; message: string }): string {
  if (!error) return 'WhatsApp could not deliver the message.';
  const words = (error.message || error.code).slice(0, 200); // shown in Slack only, never logged
  return `WhatsApp could not deliver the message: ${words} (${error.code}).`;
}

/**
 * A send after one status event (webhook `webhookId`): the status moves only forward under the status policy, the
 * timeline and the thread replies (as `replyMode` asks) follow, and the version its Slack message catches up with
 * is bumped. Undefined when the event was applied before.
 */
export function withDeliveryEvent(
  send: SendRecord,
  webhookId: string,
  event: MessageEvent,
  replyMode: ReplyMode,
): SendRecord | undefined {
  if (send.appliedEvents.includes(webhookId)) return undefined;
  const appliedEvents = [...send.appliedEvents, webhookId].slice(-APPLIED_EVENTS_KEPT);
  const status = nextStatus(send.status, event.status);
  if (!status) return { ...send, appliedEvents };
  return {
    ...send,
    appliedEvents,
    status,
    timeline: [...send.timeline, { status, at: event.at }],
    deliveryFailure:
      status === 'failed' ? { code: event.error?.code ?? 'FAILED', reason: failureReason(event.error) } : undefined,
    replies: wantsReply(replyMode, status) ? [...send.replies, { status, at: event.at, posted: false }] : send.replies,
    version: send.version + 1,
  };
}
