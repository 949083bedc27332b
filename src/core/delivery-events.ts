import { nextStatus, type ReplyMode, wantsReply } from './delivery-status.js';
import type { DeliveryStatus, SendFailure, SendRecord } from './send-record.js';

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

/** Why WhatsApp could not deliver a message: its code, and its words when it gave an error (shown in Slack only). */
function deliveryFailure(error?: { code: string; message: string }): SendFailure {
  if (!error) return { code: 'FAILED' };
  return { code: error.code, detail: (error.message || error.code).slice(0, 200) };
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
    deliveryFailure: status === 'failed' ? deliveryFailure(event.error) : undefined,
    replies: wantsReply(replyMode, status) ? [...send.replies, { status, at: event.at, posted: false }] : send.replies,
    version: send.version + 1,
  };
}
