import { createHmac, timingSafeEqual } from 'node:crypto';

/*
 * Standard Webhooks v1 (standardwebhooks.com), which we ASSUME WAPing follows (see docs/waping-contract.md):
 * headers `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature` (space-separated
 * `v1,<base64 HMAC-SHA256>`), signed content `<id>.<timestamp>.<raw body>`, secret `whsec_<base64>`.
 */

const secretPrefix = 'whsec_';
const signatureBytes = 32; // SHA-256
const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;
const timestampPattern = /^\d{1,15}$/;

/** The webhook headers, as received (any may be missing). */
export interface WebhookHeaders {
  id?: string | undefined;
  timestamp?: string | undefined;
  signature?: string | undefined;
}

export interface VerifyWebhookInput {
  /** Every secret currently valid: more than one while a secret is being rotated. */
  secrets: readonly string[];
  headers: WebhookHeaders;
  /** The raw body, exactly as received. */
  body: string | Buffer;
  nowSeconds: number;
  /** How far the timestamp may be from now, either way. */
  toleranceSeconds?: number;
}

export type WebhookVerification = { ok: true } | { ok: false; reason: string };

/** The HMAC key of a secret: the decoded bytes after `whsec_`, or the UTF-8 bytes of a secret without it. */
export function webhookSecretKey(secret: string): Buffer {
  return secret.startsWith(secretPrefix)
    ? Buffer.from(secret.slice(secretPrefix.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/** The `webhook-signature` header value (`v1,<base64>`) for one message. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string | Buffer): string {
  return `v1,${hmac(webhookSecretKey(secret), id, String(timestampSeconds), body).toString('base64')}`;
}

/**
 * Check a webhook's signature and timestamp against every secret. Comparisons are constant-time; the
 * reason names what failed without repeating header values.
 */
export function verifyWebhook(input: VerifyWebhookInput): WebhookVerification {
  const { headers, body, nowSeconds, toleranceSeconds = 300 } = input;
  const id = headers.id?.trim();
  const timestamp = headers.timestamp?.trim();
  const signature = headers.signature?.trim();
  if (!id) return { ok: false, reason: 'missing webhook-id header' };
  if (!timestamp) return { ok: false, reason: 'missing webhook-timestamp header' };
  if (!signature) return { ok: false, reason: 'missing webhook-signature header' };
  if (!timestampPattern.test(timestamp)) return { ok: false, reason: 'invalid webhook-timestamp header' };

  const sentAt = Number(timestamp);
  if (nowSeconds - sentAt > toleranceSeconds) return { ok: false, reason: 'timestamp too old' };
  if (sentAt - nowSeconds > toleranceSeconds) return { ok: false, reason: 'timestamp in the future' };

  const keys = input.secrets.map(webhookSecretKey).filter((key) => key.length > 0);
  if (keys.length === 0) return { ok: false, reason: 'no webhook secret configured' };

  const candidates = v1Signatures(signature);
  if (candidates.length === 0) return { ok: false, reason: 'no v1 signature in webhook-signature header' };

  for (const key of keys) {
    const expected = hmac(key, id, timestamp, body);
    for (const candidate of candidates) {
      if (timingSafeEqual(expected, candidate)) return { ok: true };
    }
  }
  return { ok: false, reason: 'no matching signature' };
}

/** The well-formed `v1` signatures of the header; other versions and malformed entries are skipped. */
function v1Signatures(header: string): Buffer[] {
  const signatures: Buffer[] = [];
  for (const entry of header.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const encoded = entry.slice(comma + 1);
    if (encoded.length % 4 !== 0 || !base64Pattern.test(encoded)) continue;
    const decoded = Buffer.from(encoded, 'base64');
    if (decoded.length === signatureBytes) signatures.push(decoded);
  }
  return signatures;
}

function hmac(key: Buffer, id: string, timestamp: string, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest();
}
