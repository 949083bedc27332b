import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/* The sandbox's HTTP plumbing: reading bodies, checking a send's body, and writing WAPing-shaped answers. */

const e164Pattern = /^\+[1-9]\d{6,14}$/;
const mediaTypes = new Set(['image', 'document', 'audio', 'video']);
const maxBodyBytes = 1024 * 1024;

/** One answer to write: status, JSON body (or a stored string) and extra headers. */
export interface HttpAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type ParsedSend =
  | { ok: true; deviceId: string; to: string; type: string; text: string | undefined; url?: string }
  | { ok: false; reason: string };

/** Validate a send body. Reasons never repeat the values received. */
export function parseSendBody(raw: Buffer): ParsedSend {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, reason: 'The body is not valid JSON' };
  }
  if (!isRecord(json)) return { ok: false, reason: 'The body must be a JSON object' };
  const { deviceId, to, type } = json;
  if (typeof deviceId !== 'string' || deviceId.length === 0) return { ok: false, reason: 'deviceId is required' };
  if (typeof to !== 'string' || !e164Pattern.test(to)) {
    return { ok: false, reason: 'to must be a phone number in E.164 form: + then country code and number' };
  }
  if (type === 'text') {
    const text = json.text;
    if (!isRecord(text) || typeof text.body !== 'string' || text.body.length === 0) {
      return { ok: false, reason: 'text.body is required for a text message' };
    }
    return { ok: true, deviceId, to, type, text: text.body };
  }
  if (typeof type === 'string' && mediaTypes.has(type)) {
    const media = json[type];
    if (!isRecord(media) || typeof media.url !== 'string' || !/^https?:\/\//.test(media.url)) {
      return { ok: false, reason: `${type}.url must be an http(s) URL` };
    }
    if (media.caption !== undefined && typeof media.caption !== 'string') {
      return { ok: false, reason: `${type}.caption must be a string` };
    }
    return { ok: true, deviceId, to, type, text: media.caption, url: media.url };
  }
  return { ok: false, reason: 'type must be one of text, image, document, audio, video' };
}

export function faultAnswer(fault: { status: number; retryAfterSeconds?: number; body?: unknown }): HttpAnswer {
  const code = fault.status === 429 ? 'RATE_LIMITED' : fault.status >= 500 ? 'INTERNAL' : 'SCRIPTED';
  return {
    status: fault.status,
    body: fault.body ?? errorBody(code, `Scripted HTTP ${fault.status}`),
    ...(fault.retryAfterSeconds === undefined ? {} : { headers: { 'retry-after': String(fault.retryAfterSeconds) } }),
  };
}

export function unauthorized(): HttpAnswer {
  return { status: 401, body: errorBody('UNAUTHORIZED', 'Missing or invalid API key') };
}

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

export function answer(res: ServerResponse, { status, body, headers }: HttpAnswer): void {
  if (res.headersSent || res.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

export async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBodyBytes) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
