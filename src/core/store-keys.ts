/*
 * Every key the core writes to the store, and how long records live: one place to see what is stored under which
 * name. Keys built from outside ids (Slack, WAPing) only ever append them after a fixed prefix.
 */

/**
 * Send records, groups, message-id mappings, form claims and reply guards outlive any retry window by far: a month
 * keeps them for status webhooks and support questions.
 */
export const RECORD_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** One send, by its idempotency key. */
export const sendKey = (key: string): string => `send:${key}`;
/** One send group, by its id. */
export const groupKey = (id: string): string => `group:${id}`;
/** The send key that WAPing's message id belongs to. */
export const messageIdKey = (messageId: string): string => `message:${messageId}`;
/** One recorded webhook event, by its webhook id. */
export const webhookKey = (webhookId: string): string => `webhook:${webhookId}`;
/** One workflow step, by the platform's execution id. */
export const stepKey = (executionId: string): string => `step:${executionId}`;
/** The workflow step a sync target (a send key, `group:<id>`) answers to. */
export const stepOfKey = (target: string): string => `step-of:${target}`;
/** Held while one replica tells the platform a step's end, so it is told once. */
export const stepLockKey = (executionId: string): string => `step-lock:${executionId}`;
/** The last send of one text to one number (a hash of both: neither is stored), for the same-text warning. */
export const recentKey = (hash: string): string => `recent:${hash}`;
/** A file the bot serves to WAPing under its unguessable token (`GET /media/<token>`), until it expires. */
export const mediaKey = (token: string): string => `media:${token}`;
/** A device's last reported session. */
export const deviceKey = (deviceId: string): string => `device:${deviceId}`;
/** A person's latest sends and groups (a pending-style list scored by claim time), for their App Home. */
export const homeSendsKey = (userId: string): string => `home:sends:${userId}`;
/** Present, with a TTL, while a person has recently opened their App Home. */
export const homeOpenedKey = (userId: string): string => `home:opened:${userId}`;

/** Pending lists (see PendingIndex): what the sweep resumes. */
export const PENDING_LISTS = {
  /** Keys of sends that WAPing has not answered for good yet. */
  outbox: 'outbox:pending',
  /** Groups still to announce, approve, expire or launch. */
  groups: 'groups:pending',
  /** Ids of webhooks recorded but not yet applied. */
  webhookInbox: 'webhooks:inbox',
  /** Sync targets (send keys, `group:<id>`) whose chat message may be behind their records. */
  syncBehind: 'sync:behind',
  /** Workflow steps the chat platform has not been told the end of yet (see StepCompletions). */
  steps: 'steps:pending',
} as const;

// The parking ring of webhook events for unknown messages (see DeliveryService).
/** The last ticket handed out; ticket `t` takes place `t % cap` of the ring. */
export const PARKING_TICKET_KEY = 'parking:ticket';
/** One place of the ring. */
export const parkingSlotKey = (place: number): string => `parking:slot:${place}`;
/** The webhook ids parked for one WAPing message id, in the order they were parked. */
export const parkedKey = (messageId: string): string => `parking:message:${messageId}`;

// Conversations (see Conversations): customers' replies and where they land.
/** The latest send to one number through one device, by a hash of both (the number is not written in the key). */
export const conversationKey = (hash: string): string => `conversation:${hash}`;
/** Guard: WAPing's received message `<id>` on device `<deviceId>` is being posted, by the webhook id that holds it. */
export const inboundKey = (deviceId: string, messageId: string): string => `inbound:${deviceId}:${messageId}`;
/** Received messages waiting to be posted in one thread (or inbox), scored by when the customer sent them. */
export const inboundLaneKey = (lane: string): string => `inbound-lane:${lane}`;
/** Which replica posts into one thread now. */
export const inboundLockKey = (lane: string): string => `inbound-lock:${lane}`;
/** Webhook ids of received messages recorded but not yet posted. */
export const INBOUND_PENDING = 'inbound:pending';
