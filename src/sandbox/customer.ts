import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { answer, errorBody, newId, readBody } from './http.js';
import type { SandboxTimers } from './timers.js';
import type { SandboxDevice, SandboxMessage, WapingSandboxOptions } from './types.js';
import type { SandboxWebhookSender } from './webhook-sender.js';

/** What the sandbox's customer says when asked a question. */
export const CUSTOMER_ANSWER = 'Yes, that works for me. Thank you!';

/** `POST /sandbox/inbound`: any message a customer could send, as WAPing's `message.received` would carry it. */
export const inboundRequestSchema = z
  .object({
    from: z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number such as +14155550123'),
    deviceId: z.string().min(1).optional(),
    type: z.enum(['text', 'image', 'document', 'audio', 'video']).default('text'),
    text: z.string().optional(),
    caption: z.string().optional(),
    mimeType: z.string().optional(),
    /** WAPing's id of the message being quoted. */
    quotes: z.string().min(1).optional(),
    /** When the customer wrote it (ISO 8601); now by default. */
    timestamp: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .refine((input) => input.type !== 'text' || (input.text ?? '') !== '', {
    message: 'text is required',
    path: ['text'],
  });
export type InboundRequest = z.input<typeof inboundRequestSchema>;

/**
 * The sandbox playing the customer, so a team sees the conversation loop without a phone: it answers a sent text
 * that ends with `?`, and injects any message on request. Each is a signed `message.received` webhook.
 */
export class SandboxCustomer {
  constructor(
    private readonly options: WapingSandboxOptions,
    private readonly webhooks: SandboxWebhookSender,
    private readonly timers: SandboxTimers,
    private readonly devices: () => SandboxDevice[],
  ) {}

  /** After an accepted send: a text ending with `?` is answered, quoting it, a few seconds later. */
  onSent(message: Pick<SandboxMessage, 'id' | 'deviceId' | 'to' | 'type' | 'text'>): void {
    if (message.type !== 'text' || !message.text?.trimEnd().endsWith('?') || !this.webhooks.automatic()) return;
    this.timers.later(this.options.customerReplyDelayMs ?? 3_000, () =>
      this.receive({ from: message.to, deviceId: message.deviceId, text: CUSTOMER_ANSWER, quotes: message.id }),
    );
  }

  /** Send a `message.received` for `request` (redelivered while refused); its message and webhook ids. */
  receive(request: InboundRequest): { messageId: string; webhookId: string } {
    const input = inboundRequestSchema.parse(request);
    const messageId = newId('msg');
    const data = {
      messageId,
      deviceId: input.deviceId ?? this.devices()[0]?.id ?? 'dev_support',
      from: input.from,
      timestamp: input.timestamp ?? new Date().toISOString(),
      type: input.type,
      ...(input.type === 'text'
        ? { text: { body: input.text } }
        : { [input.type]: { caption: input.caption, mimeType: input.mimeType } }),
      ...(input.quotes ? { context: { messageId: input.quotes } } : {}),
    };
    return { messageId, webhookId: this.webhooks.deliverWithRetries('message.received', data) };
  }

  /** `POST /sandbox/inbound` with a JSON body: 202 with the ids, or 400 saying what is wrong. */
  async handle(req: IncomingMessage, res: ServerResponse, read?: Buffer): Promise<void> {
    const body = read ?? (await readBody(req));
    let json: unknown;
    try {
      json = JSON.parse(body?.toString('utf8') ?? '');
    } catch {
      return answer(res, { status: 400, body: errorBody('VALIDATION', 'The body must be JSON') });
    }
    const parsed = inboundRequestSchema.safeParse(json);
    if (!parsed.success) {
      const reason = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      return answer(res, { status: 400, body: errorBody('VALIDATION', reason) });
    }
    if (this.webhooks.url === undefined) {
      return answer(res, { status: 409, body: errorBody('NO_WEBHOOK_URL', 'The sandbox has no webhook URL yet') });
    }
    answer(res, { status: 202, body: this.receive(parsed.data) });
  }
}
