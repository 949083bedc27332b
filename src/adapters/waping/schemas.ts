import { z } from 'zod';
import type { DeliveryStatus } from '../../core/send-record.js';
import { RECEIVED_EVENT, type ReceivedData, receivedEventSchema } from './inbound-schema.js';

/*
 * WAPing's wire shapes. The send response is stated by WAPing's public page; the error body, the device
 * list and the webhook events are ASSUMPTIONS (see docs/waping-contract.md), kept here so that aligning with
 * the live reference changes this file and its test vectors only.
 */

/** `POST /v1/messages` 2xx body. `deviceId` is echoed by WAPing, but the send stands without it. */
export const sendResponseSchema = z.object({
  id: z.string().min(1),
  status: z.string().min(1),
  deviceId: z.string().optional(),
});
export type SendResponse = z.infer<typeof sendResponseSchema>;

/** Assumed error body: `{"error":{"code":"SESSION_DISCONNECTED","message":"..."}}`. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().min(1),
    message: z.string().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Assumed `GET /v1/devices` item. A status we do not know yet counts as not connected. */
export const deviceSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  phone: z.string().nullish(),
  status: z.enum(['connected', 'disconnected']).catch('disconnected'),
});
export type WapingDevice = z.infer<typeof deviceSchema>;

export const devicesResponseSchema = z.object({ data: z.array(deviceSchema) });
export type DevicesResponse = z.infer<typeof devicesResponseSchema>;

export const messageEventTypes = [
  'message.queued',
  'message.sent',
  'message.delivered',
  'message.read',
  'message.failed',
] as const;
export type MessageEventType = (typeof messageEventTypes)[number];

const messageEventStatus = {
  'message.queued': 'queued',
  'message.sent': 'sent',
  'message.delivered': 'delivered',
  'message.read': 'read',
  'message.failed': 'failed',
} as const satisfies Record<MessageEventType, DeliveryStatus>; // the status is the part after `message.`

export const sessionEventTypes = ['session.connected', 'session.disconnected'] as const;
export type SessionEventType = (typeof sessionEventTypes)[number];

export const messageEventDataSchema = z.object({
  messageId: z.string().min(1),
  deviceId: z.string().min(1),
  to: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string().optional() }).optional(),
});
export type MessageEventData = z.infer<typeof messageEventDataSchema>;

export const sessionEventDataSchema = z.object({
  deviceId: z.string().min(1),
  reason: z.string().optional(),
});
export type SessionEventData = z.infer<typeof sessionEventDataSchema>;

/** Every webhook body: `{"type":"<event>","timestamp":"<ISO 8601>","data":{...}}`. */
const envelopeSchema = z.object({
  type: z.string().min(1),
  timestamp: z.string().optional(),
  data: z.unknown(),
});

const messageEventSchema = z.object({
  type: z.enum(messageEventTypes),
  timestamp: z.string().optional(),
  data: messageEventDataSchema,
});

const sessionEventSchema = z.object({
  type: z.enum(sessionEventTypes),
  timestamp: z.string().optional(),
  data: sessionEventDataSchema,
});

/** A webhook event as the rest of the bot sees it. */
export type WapingWebhookEvent =
  | {
      kind: 'message';
      type: MessageEventType;
      status: DeliveryStatus;
      timestamp?: string;
      data: MessageEventData;
    }
  | { kind: 'session'; type: SessionEventType; timestamp?: string; data: SessionEventData }
  /** A customer's message (assumed shape, see inbound-schema.ts). */
  | { kind: 'received'; type: typeof RECEIVED_EVENT; timestamp?: string; data: ReceivedData }
  /** A type this bot does not know: acknowledge it and move on (forward compatible). */
  | { kind: 'unknown'; type: string; timestamp?: string };

export type WebhookParseResult = { ok: true; event: WapingWebhookEvent } | { ok: false; reason: string };

/** Parse a webhook body (already JSON-decoded). Unknown event types are fine; malformed known ones are not. */
export function parseWebhookEvent(json: unknown): WebhookParseResult {
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) return { ok: false, reason: describeIssues(envelope.error) };
  const { type } = envelope.data;

  if (isOneOf(messageEventTypes, type)) {
    const parsed = messageEventSchema.safeParse(json);
    if (!parsed.success) return { ok: false, reason: `${type}: ${describeIssues(parsed.error)}` };
    const { timestamp, data } = parsed.data;
    const status = messageEventStatus[parsed.data.type];
    return { ok: true, event: withTimestamp({ kind: 'message', type: parsed.data.type, status, data }, timestamp) };
  }

  if (isOneOf(sessionEventTypes, type)) {
    const parsed = sessionEventSchema.safeParse(json);
    if (!parsed.success) return { ok: false, reason: `${type}: ${describeIssues(parsed.error)}` };
    const { timestamp, data } = parsed.data;
    return { ok: true, event: withTimestamp({ kind: 'session', type: parsed.data.type, data }, timestamp) };
  }

  if (type === RECEIVED_EVENT) {
    const parsed = receivedEventSchema.safeParse(json);
    if (!parsed.success) return { ok: false, reason: `${type}: ${describeIssues(parsed.error)}` };
    const { timestamp, data } = parsed.data;
    return { ok: true, event: withTimestamp({ kind: 'received', type: RECEIVED_EVENT, data }, timestamp) };
  }

  return { ok: true, event: withTimestamp({ kind: 'unknown', type }, envelope.data.timestamp) };
}

function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

function withTimestamp<E extends WapingWebhookEvent>(event: E, timestamp: string | undefined): E {
  return timestamp === undefined ? event : { ...event, timestamp };
}

/** Paths and zod's own words only: zod's messages name expected types, never the values received. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}
