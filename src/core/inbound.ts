import type { MessageRef } from './message-ref.js';

/*
 * A customer's message received on one of our devices, in the core's terms, and the ports that conversations
 * need beside the store. Kept apart from ports.ts: only conversations use them.
 */

/** What kind of WhatsApp message the customer sent. */
export type InboundKind = 'text' | 'image' | 'document' | 'audio' | 'video';

/** One received WhatsApp message. Its number and text are never logged. */
export interface InboundMessage {
  /** WAPing's id of the received message (the same under every webhook id that carries it). */
  messageId: string;
  deviceId: string;
  /** The customer's number, E.164. */
  from: string;
  /** When the customer sent it (ms), as WAPing says. */
  at: number;
  kind: InboundKind;
  /** The text of a text message. */
  text?: string;
  /** The caption and type of a media message; the file itself is never fetched. */
  caption?: string;
  mimeType?: string;
  /** WAPing's id of our message the customer quoted, if they did. */
  quotes?: string;
}

/** Where a received message is posted: the thread of a send's message, or the top of the inbox channel. */
export type InboundTarget =
  | { kind: 'thread'; thread: MessageRef; deviceName: string }
  | { kind: 'inbox'; channel: string; deviceName: string };

/** A received message recorded under its webhook id, until posted (then only its outcome is kept, not its content). */
export interface InboundEntry {
  id: string;
  kind: 'inbound';
  /** Dropped once the message is posted or given up on: numbers and texts are not kept longer than needed. */
  message?: InboundMessage;
  state: 'received' | 'posted' | 'duplicate' | 'unrouted';
  /** Where it goes, decided once (a later send must not move a message already on its way). */
  target?: InboundTarget | null;
  receivedAt: number;
}

/** How one received message ended: posted in a thread or in the inbox, a redelivery, or posted nowhere. */
export type InboundOutcome = 'thread' | 'inbox' | 'duplicate' | 'unrouted';

/** The chat side of conversations. Implemented by the Slack adapter. */
export interface ConversationNotifier {
  /**
   * Post one received message where `target` says, with a way to answer it. Errors propagate (the message is
   * posted again later); MessageGoneError when the thread can never take it.
   */
  postInbound(target: InboundTarget, message: InboundMessage): Promise<void>;
}
