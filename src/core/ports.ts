import { CodedError } from './errors.js';
import type { MediaKind } from './media.js';
import type { MessageRef } from './message-ref.js';
import type { DeviceAlert, Notice, ThreadNote } from './notices.js';
import type { SendGroup } from './send-group.js';
import type { DeliveryStatus, SendRecord } from './send-record.js';

/**
 * The core's view of the world. Adapters (store, WAPing, Slack) implement these; the core never
 * imports Bolt, undici or keyv.
 */

/** Outcome of an atomic create-unless-present. */
export type Claim<T> = { claimed: true; value: T } | { claimed: false; value: T };

/** One id of a pending list, with the score (its enqueue time in ms, unless the caller chose another) it was added with. */
export interface PendingEntry {
  id: string;
  score: number;
}

/** One key for `Store.claimAll` to create, with its value and life (omit `ttlMs` to keep it until deleted). */
export interface ClaimRequest {
  key: string;
  value: unknown;
  ttlMs?: number;
}

/** One id for `Store.claimAll` to add to a pending list, with its score (default: now). */
export interface PendingAdd {
  list: string;
  id: string;
  score?: number;
}

/** Outcome of `Store.claimAll`: every key created, or nothing written and what each key held (undefined if absent). */
export type Claims = { claimed: true } | { claimed: false; values: unknown[] };

/**
 * Durable key-value state shared by every replica of the bot. Values are JSON-serialisable.
 *
 * Pending lists (the outbox, the webhook inbox, …) are sets of ids ordered by score, kept apart from the keys
 * and natively per backend, so adding or removing one id costs the same however many are pending.
 */
export interface Store {
  /** Read a value; undefined when absent or expired. */
  get<T>(key: string): Promise<T | undefined>;
  /** Write a value unconditionally; `ttlMs` bounds its life (omit to keep it until deleted). */
  set<T>(key: string, value: T, ttlMs?: number): Promise<void>;
  /** Remove a value; true when something was removed. */
  delete(key: string): Promise<boolean>;
  /**
   * Remove the value only while it equals `value`, compared as JSON text (so objects must list their properties in
   * the same order), in one atomic step and one round trip; true when it was removed, false when the key held
   * something else or nothing. Releases a lock only its holder's token may free.
   */
  deleteIf<T>(key: string, value: T): Promise<boolean>;
  /** Atomically create unless present; return what is there (the new value when claimed). */
  claim<T>(key: string, value: T, ttlMs?: number): Promise<Claim<T>>;
  /**
   * Atomic read-modify-write. `change` gets the current value (undefined when absent) and returns the
   * new value, or undefined to leave the key as it is. It may run more than once under contention (and on Redis,
   * once more on a stale value this process remembered: see RedisStore), so it must be pure. Returns the value
   * stored afterwards.
   */
  update<T>(key: string, change: (current: T | undefined) => T | undefined, ttlMs?: number): Promise<T | undefined>;
  /**
   * Create several keys and add ids to pending lists as one atomic step, in one round trip to the backend (one
   * Lua script on Redis, one transaction on SQLite): all or nothing. When every key is absent, all are written
   * and the ids added (each keeping its first score, as `pendingAdd`); when any key is present, nothing is
   * written and `values` holds what each key holds, in order. Keys must differ from each other.
   */
  claimAll(claims: readonly ClaimRequest[], pending?: readonly PendingAdd[]): Promise<Claims>;
  /** Atomically add 1 to the integer under `key` (absent counts as 0) and return the result; the key does not expire. */
  increment(key: string): Promise<number>;
  /** Add `id` to the pending list `list` unless it is there already (keeping its first score, default now); true when added. */
  pendingAdd(list: string, id: string, score?: number): Promise<boolean>;
  /** Remove `id` from the pending list `list`; true when it was there. */
  pendingRemove(list: string, id: string): Promise<boolean>;
  /** The ids of the pending list `list`, lowest score (oldest) first, ties by id; at most `limit` when given. */
  pendingList(list: string, limit?: number): Promise<string[]>;
  /** How many ids the pending list `list` holds. */
  pendingSize(list: string): Promise<number>;
  /** The entry of the pending list `list` with the lowest score (the oldest), or undefined when it is empty. */
  pendingOldest(list: string): Promise<PendingEntry | undefined>;
  /** Resolve when the backend answers a cheap read; reject (StoreUnavailableError) when it cannot be reached. */
  ping(): Promise<void>;
  /** Release connections and file handles. */
  close(): Promise<void>;
}

/** A WhatsApp session in WAPing, linked by QR code. */
export interface Device {
  id: string;
  name: string;
  phone?: string;
  connected: boolean;
  /** False when the state is a guess (WAPing could not be asked). */
  known?: boolean;
}

/** Stable codes of WAPing failures: the adapter maps WAPing's answers to these, the core switches on them. */
export type WapingFailureCode =
  | 'NETWORK'
  | 'TIMEOUT'
  | 'RATE_LIMITED'
  | 'VALIDATION'
  | 'UNKNOWN_DEVICE'
  | 'SESSION_DISCONNECTED'
  | 'IDEMPOTENCY_CONFLICT'
  | 'IDEMPOTENCY_IN_FLIGHT'
  | 'UNAUTHORIZED'
  | 'QUOTA_EXCEEDED'
  | 'BAD_RESPONSE'
  /** WAPing could not fetch a media send's file from its URL (the code is assumed, see the contract doc). */
  | 'MEDIA_FETCH_FAILED'
  /** A status with no better name. */
  | `HTTP_${number}`;

/** Why one attempt at WAPing failed, and whether to try again. */
export interface WapingFailure {
  code: WapingFailureCode;
  /** Network error, timeout, 5xx or 429: the same key and body may be sent again. */
  retryable: boolean;
  /** How long WAPing asked us to wait (Retry-After), if it said. */
  retryAfterMs?: number;
  /** HTTP status when there was one. */
  status?: number;
  /** Our words for what happened (never contains the message text or the recipient). */
  message: string;
}

/** What one call to WAPing's send endpoint came to. */
export type WapingSendResult = { ok: true; messageId: string; status: string } | { ok: false; error: WapingFailure };

/** What a text send says, before it becomes WAPing's request body. */
export interface OutgoingText {
  deviceId: string;
  to: string;
  text: string;
}

/** What a media send says: its type, the URL WAPing fetches it from, its caption and (documents) file name. */
export interface OutgoingMedia {
  deviceId: string;
  to: string;
  type: MediaKind;
  url: string;
  caption?: string;
  filename?: string;
}

/** WAPing as the core needs it. */
export interface WapingPort {
  /** The exact request body for a text send; persisted once, then sent byte for byte on every retry. */
  textBody(message: OutgoingText): string;
  /** The exact request body for a media send, built and kept like a text's. */
  mediaBody(message: OutgoingMedia): string;
  /** One attempt at `POST /v1/messages` with the exact persisted body; never throws. */
  sendMessage(idempotencyKey: string, body: string): Promise<WapingSendResult>;
  /** The devices WAPing knows, with their session state. Throws a CodedError (a WapingFailureCode) when that fails. */
  listDevices(): Promise<Device[]>;
}

/** Someone acting in a conversation (ids as the chat adapter gives them), and how to answer them privately there. */
export interface Person {
  userId: string;
  channelId: string;
  /** Where to answer this interaction privately (opaque to the core), which works even where the bot is not a member. */
  responseUrl?: string;
}

export type { MessageRef } from './message-ref.js';

/** The Slack side of a send, as the core needs it. Implemented by the Slack adapter. */
export interface SendNotifier {
  /** Post the parent message for a new send; falls back (DM, ephemeral) when the channel refuses the bot. */
  announce(send: SendRecord): Promise<MessageRef | undefined>;
  /** Re-render the parent message after the send's state changed. */
  refresh(send: SendRecord): Promise<void>;
  /** Post the message of a group (several recipients, or a request for approval). */
  announceGroup(group: SendGroup): Promise<MessageRef | undefined>;
  /** Re-render a group's message with the group's state and each of its sends. */
  refreshGroup(group: SendGroup, sends: SendRecord[]): Promise<void>;
  /** Post a note in the thread of a group's message (an approval decision). */
  noteInThread(parent: MessageRef, note: ThreadNote): Promise<void>;
  /** Post one delivery status change of a send as a reply in its message's thread. */
  replyWithStatus(send: SendRecord, status: DeliveryStatus): Promise<void>;
  /** Post an operational alert (device sessions) to the ops channel, when one is configured. */
  alertOps(alert: DeviceAlert): Promise<void>;
  /** Tell one person something privately (a duplicate, an outcome): ephemeral where possible, else a DM. */
  tell(person: Person, notice: Notice): Promise<void>;
}

/**
 * Thrown by a SendNotifier when a Slack message can never be updated or replied to (deleted, its
 * channel archived or gone, or the content refused for good): the message is given up on instead of
 * being retried by every sweep.
 */
export class MessageGoneError extends CodedError<'MESSAGE_GONE'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MESSAGE_GONE', message, options);
  }
}

/** Time, injectable so tests and the recovery loop agree on "now". */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Structured logging, pino-compatible. Never pass phone numbers, message text or secrets. */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/**
 * Told when `record` was claimed (for its `requestedBy`, at its `createdAt`): a send outside any group (`target`: its
 * key), or a group (`group:<id>`), without waiting for it: the Homes list the person's claims, after the answer, from
 * the record as claimed (nobody reads it back). Groups call it from SendGroups.create; single sends reach it through
 * SendDelivery's `onSendClaimed` (wired in wireServices).
 */
export type ClaimListener = (target: string, record: SendRecord | SendGroup) => void;
