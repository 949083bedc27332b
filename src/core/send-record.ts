import type { SendMedia } from './media.js';
import type { MessageRef } from './message-ref.js';
import { groupKey } from './store-keys.js';

/** WAPing's delivery states, in the order a message moves through them (failed stands apart). */
export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

/**
 * Our outbox state for one send: `pending` until WAPing has answered for good, then `accepted`
 * (WAPing took it: it has a message id) or `failed` (WAPing refused it, or never answered in time).
 */
export type OutboxState = 'pending' | 'accepted' | 'failed';

/**
 * What started a send, as opaque references the chat adapter handed in: a submitted form (`originId`, the id the
 * platform keeps for the form's life), a Retry on a posted message, a group, or a workflow step. Records written by earlier versions
 * hold `view` or `action` (the same references under older names): still in the type, so such records read as they are.
 */
export type SendOrigin =
  | { kind: 'form'; originId: string }
  | { kind: 'retry'; conversationId: string; messageId: string; actionId: string; attempt: number }
  | { kind: 'group'; groupId: string }
  /** A workflow step: `executionId` is the platform's id for this run of the step. */
  | { kind: 'step'; executionId: string }
  | { kind: 'view'; viewId: string }
  | { kind: 'action'; channel: string; messageTs: string; actionId: string; attempt: number };

/**
 * Why a send failed, as a code with its data; the chat adapter words it. `code` is WAPing's for a refusal
 * (SESSION_DISCONNECTED, VALIDATION, …, with the HTTP `status`), UNREACHABLE when WAPing gave no definite answer
 * in time, or WhatsApp's for a delivery failure (its own words in `detail`: foreign, shown literally, never logged).
 */
export interface SendFailure {
  code: string;
  status?: number;
  /** WhatsApp's words for a delivery failure (at most 200 characters), when it gave any. */
  detail?: string;
  /** The failure already in words, as versions before these codes stored it: shown as it is. */
  reason?: string;
}

/** One logical WhatsApp message, keyed by its idempotency key. Stored as `send:<key>`. */
export interface SendRecord {
  key: string;
  teamId: string;
  requestedBy: string;
  /** The channel the command ran in; the parent message goes there when the bot may post. */
  channelId: string;
  /** Slack's response_url for the command, used for ephemeral replies when the channel refuses the bot. */
  responseUrl?: string;
  origin: SendOrigin;
  /** The group (several recipients, or an approved team send) whose Slack message shows this send. */
  groupId?: string;
  /** The Retry that took over this send's Slack message, if any: this send no longer renders it. */
  supersededBy?: string;
  /** The send a Retry button was pressed on, if any. */
  retryOf?: string;
  /** 0 for the first send from an interaction, n for its n-th Retry. */
  generation: number;
  deviceId: string;
  deviceName: string;
  to: string;
  /** The text, or a media send's caption (possibly empty). */
  text: string;
  /** An image, document, audio or video sent with `text` as its caption. */
  media?: SendMedia;
  /** The exact request body, persisted before the first attempt and reused byte for byte. */
  body: string;
  state: OutboxState;
  /** The latest delivery status WAPing reported. */
  status?: DeliveryStatus;
  messageId?: string;
  failure?: SendFailure;
  /** Code of the last retryable error, shown while the send is still being retried. */
  lastError?: string;
  /** When each delivery status was first seen. */
  timeline: Array<{ status: DeliveryStatus; at: number }>;
  /** Why WhatsApp reported the message failed (a `message.failed` webhook). */
  deliveryFailure?: SendFailure;
  /** Thread replies owed under the parent message, one per forward status step, in order. */
  replies: Array<{ status: DeliveryStatus; at: number; posted: boolean }>;
  /** Webhook ids already applied (the last few hundred), a second guard against redeliveries. */
  appliedEvents: string[];
  /** Bumped by every change; Slack shows `renderedVersion`, and catches up while it is behind. */
  version: number;
  renderedVersion: number;
  /** HTTP attempts made so far, across processes. */
  attempts: number;
  parent?: MessageRef;
  /** Until then, the owner alone may work on this send; after, any replica may take it over. */
  leaseUntil: number;
  owner: string;
  createdAt: number;
  updatedAt: number;
}

export { sendKey } from './store-keys.js';

/** Whether a send ended badly: WAPing refused it, or WhatsApp reported it failed and nothing proved delivery since. */
export function hasFailed(send: SendRecord): boolean {
  return send.state === 'failed' || send.status === 'failed';
}

/** The sync target of a send: what its chat message shows, a single send (its key) or a whole group (`group:<id>`). */
export function syncTargetOf(send: Pick<SendRecord, 'key' | 'groupId'>): string {
  return send.groupId ? groupKey(send.groupId) : send.key;
}
