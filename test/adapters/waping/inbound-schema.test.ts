import { describe, expect, it } from 'vitest';
import { toInboundMessage } from '../../../src/adapters/waping/inbound-schema.js';
import { parseWebhookEvent } from '../../../src/adapters/waping/schemas.js';

/* The assumed `message.received` event (docs/waping-contract.md), read as the bot reads it. */

const text = {
  type: 'message.received',
  timestamp: '2026-11-26T10:00:01Z',
  data: {
    messageId: 'wamid_in_1',
    deviceId: 'dev_support',
    from: '+14155550123',
    timestamp: '2026-11-26T10:00:00Z',
    type: 'text',
    text: { body: 'Yes, Tuesday works.' },
    context: { messageId: 'msg_ours_1' },
  },
};

describe('message.received', () => {
  it('reads a text reply quoting our message into the core terms', () => {
    const parsed = parseWebhookEvent(text);
    expect(parsed.ok && parsed.event.kind).toBe('received');
    if (!parsed.ok || parsed.event.kind !== 'received') return;
    expect(toInboundMessage(parsed.event.data)).toEqual({
      messageId: 'wamid_in_1',
      deviceId: 'dev_support',
      from: '+14155550123',
      at: Date.parse('2026-11-26T10:00:00Z'),
      kind: 'text',
      text: 'Yes, Tuesday works.',
      quotes: 'msg_ours_1',
    });
  });

  it('reads media as its type, caption and MIME type, with no file to fetch', () => {
    const image = {
      ...text,
      data: { ...text.data, type: 'image', text: undefined, image: { caption: 'Receipt', mimeType: 'image/jpeg' } },
    };
    const parsed = parseWebhookEvent(image);
    if (!parsed.ok || parsed.event.kind !== 'received') throw new Error('expected a received message');
    expect(toInboundMessage(parsed.event.data)).toMatchObject({
      kind: 'image',
      caption: 'Receipt',
      mimeType: 'image/jpeg',
    });
  });

  it('refuses a text without a body, a number not in E.164 and a missing timestamp, never echoing the values', () => {
    for (const data of [
      { ...text.data, text: undefined },
      { ...text.data, from: '4155550123' },
      { ...text.data, timestamp: undefined },
    ]) {
      const parsed = parseWebhookEvent({ ...text, data });
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) {
        expect(parsed.reason).toMatch(/^message\.received: data\./);
        expect(parsed.reason).not.toContain('4155550123');
      }
    }
  });
});
