import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Conversations } from '../../core/conversations.js';
import type { DeliveryEvent, DeliveryService } from '../../core/deliveries.js';
import type { Clock, Logger } from '../../core/ports.js';
import type { Telemetry, WebhookResult } from '../../core/telemetry.js';
import { toInboundMessage } from './inbound-schema.js';
import { parseWebhookEvent, type WapingWebhookEvent } from './schemas.js';
import { verifyWebhook } from './webhook-signature.js';

/** Larger bodies are refused (413) without being read whole; real events are a few hundred bytes. */
export const MAX_WEBHOOK_BYTES = 256 * 1024;

export interface WebhookRouteDeps {
  secrets: readonly string[];
  deliveries: Pick<DeliveryService, 'record' | 'applyInBackground'>;
  /** Customers' messages (`message.received`); ignored (202) without it. */
  inbound?: Pick<Conversations, 'record' | 'applyInBackground'>;
  clock: Clock;
  logger: Logger;
  /** Counts each answered delivery by event type and result. */
  telemetry?: Pick<Telemetry, 'webhookReceived'>;
}

class BodyTooLarge extends Error {}

function answer(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(' ') : value;
}

/** Read the raw body, refusing to buffer more than `limit` bytes (by events: cheaper than async iteration). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      reject(new BodyTooLarge());
    };
    req.on('data', onData);
    req.once('end', () => {
      ended = true;
      resolve(Buffer.concat(chunks, size));
    });
    req.once('error', reject);
    // A client gone before the end: the body can never be read whole. ('close' follows every request: the error
    // is made only when it is needed.)
    req.once('close', () => {
      if (!ended) reject(new Error('connection closed before the body ended'));
    });
  });
}

/** WAPing's event in the core's terms; the recipient's number is dropped here, it is never needed. */
export function toDeliveryEvent(
  event: Exclude<WapingWebhookEvent, { kind: 'unknown' | 'received' }>,
  now: number,
): DeliveryEvent {
  const parsedAt = event.timestamp ? Date.parse(event.timestamp) : Number.NaN;
  const at = Number.isFinite(parsedAt) ? parsedAt : now;
  if (event.kind === 'session') {
    return {
      kind: 'session',
      deviceId: event.data.deviceId,
      connected: event.type === 'session.connected',
      at,
      reason: event.data.reason,
    };
  }
  return {
    kind: 'message',
    messageId: event.data.messageId,
    status: event.status,
    at,
    ...(event.data.error ? { error: { code: event.data.error.code, message: event.data.error.message ?? '' } } : {}),
  };
}

/**
 * `POST /waping/webhooks`: verify the Standard Webhooks signature over the raw body, parse, record
 * durably (deduplicated on webhook-id), and only then answer 2xx. A store outage answers 503 so that
 * WAPing redelivers: nothing acknowledged is ever lost.
 */
export function webhookHandler(deps: WebhookRouteDeps) {
  // The type label is WAPing's event type only when the bot knows it: anything else is `other`, so a
  // sender cannot make up label values. Before the body is verified and read, it is `unknown`.
  const count = (type: string, result: WebhookResult) => deps.telemetry?.webhookReceived(type, result);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: Buffer;
    try {
      body = await readBody(req, MAX_WEBHOOK_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        res.setHeader('connection', 'close');
        answer(res, 413, { error: `body larger than ${MAX_WEBHOOK_BYTES} bytes` });
        count('unknown', 'too_large');
        req.resume();
        return;
      }
      deps.logger.warn({ err: error }, 'webhook body could not be read');
      answer(res, 400, { error: 'body could not be read' });
      count('unknown', 'malformed');
      return;
    }
    const id = header(req, 'webhook-id');
    const verified = verifyWebhook({
      secrets: deps.secrets,
      headers: { id, timestamp: header(req, 'webhook-timestamp'), signature: header(req, 'webhook-signature') },
      body,
      nowSeconds: Math.floor(deps.clock.now() / 1000),
    });
    if (!verified.ok || !id) {
      deps.logger.warn({ reason: verified.ok ? 'missing webhook-id' : verified.reason }, 'webhook refused');
      answer(res, 401, { error: verified.ok ? 'missing webhook-id header' : verified.reason });
      count('unknown', 'refused');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      answer(res, 400, { error: 'body is not JSON' });
      count('unknown', 'malformed');
      return;
    }
    const parsed = parseWebhookEvent(json);
    if (!parsed.ok) {
      deps.logger.warn({ webhookId: id, reason: parsed.reason }, 'malformed webhook');
      answer(res, 400, { error: parsed.reason });
      count('unknown', 'malformed');
      return;
    }
    const { event } = parsed;
    // A status or session event goes to the deliveries, a customer's message to the conversations.
    const { inbound, deliveries } = deps;
    const sink =
      event.kind === 'unknown'
        ? undefined
        : event.kind === 'received'
          ? inbound && { record: () => inbound.record(id, toInboundMessage(event.data)), apply: inbound }
          : { record: () => deliveries.record(id, toDeliveryEvent(event, deps.clock.now())), apply: deliveries };
    if (!sink) {
      deps.logger.info({ webhookId: id, type: event.type }, 'ignoring an unknown webhook event type');
      answer(res, 202, { ignored: true });
      count(event.kind === 'unknown' ? 'other' : event.type, 'ignored');
      return;
    }
    try {
      const outcome = await sink.record();
      deps.logger.debug({ webhookId: id, type: event.type, outcome }, 'webhook recorded');
      answer(res, 200, { ok: true, duplicate: outcome === 'duplicate' });
      count(event.type, outcome);
      sink.apply.applyInBackground(id);
    } catch (error) {
      deps.logger.error({ err: error, webhookId: id }, 'webhook could not be recorded; asking WAPing to redeliver');
      answer(res, 503, { error: 'state store unavailable; redeliver later' }, { 'retry-after': '5' });
      count(event.type, 'unavailable');
    }
  };
}
