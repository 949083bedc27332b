import { z } from 'zod';
import type { InboundMessage } from '../../core/inbound.js';

/*
 * ASSUMPTION (WAPing's page says nothing about received messages; see docs/waping-contract.md): a customer's
 * message arrives as the webhook event `message.received`, in the same envelope as the status events, with
 *
 *   data = { messageId, deviceId, from (E.164), timestamp (ISO 8601), type: text|image|document|audio|video,
 *            text?: { body }, <media type>?: { caption?, mimeType? }, context?: { messageId } }
 *
 * where `context.messageId` is WAPing's id of our message the customer quoted. Kept here alone, so that
 * aligning with the live reference changes this file and its tests only.
 */

export const RECEIVED_EVENT = 'message.received';

export const receivedKinds = ['text', 'image', 'document', 'audio', 'video'] as const;

const media = z.object({ caption: z.string().optional(), mimeType: z.string().max(200).optional() });

export const receivedDataSchema = z
  .object({
    messageId: z.string().min(1).max(200),
    deviceId: z.string().min(1).max(200),
    from: z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number'),
    timestamp: z.iso.datetime({ offset: true }),
    type: z.enum(receivedKinds),
    text: z.object({ body: z.string() }).optional(),
    image: media.optional(),
    document: media.optional(),
    audio: media.optional(),
    video: media.optional(),
    context: z.object({ messageId: z.string().min(1).max(200) }).optional(),
  })
  .refine((data) => data.type !== 'text' || data.text !== undefined, {
    message: 'a text message needs text.body',
    path: ['text'],
  });
export type ReceivedData = z.infer<typeof receivedDataSchema>;

export const receivedEventSchema = z.object({
  type: z.literal(RECEIVED_EVENT),
  timestamp: z.string().optional(),
  data: receivedDataSchema,
});

/** A received message in the core's terms. */
export function toInboundMessage(data: ReceivedData): InboundMessage {
  const media = data.type === 'text' ? undefined : data[data.type];
  return {
    messageId: data.messageId,
    deviceId: data.deviceId,
    from: data.from,
    at: Date.parse(data.timestamp),
    kind: data.type,
    ...(data.type === 'text' && data.text ? { text: data.text.body } : {}),
    ...(media?.caption ? { caption: media.caption } : {}),
    ...(media?.mimeType ? { mimeType: media.mimeType } : {}),
    ...(data.context ? { quotes: data.context.messageId } : {}),
  };
}
