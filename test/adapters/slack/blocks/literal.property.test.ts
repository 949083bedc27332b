import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bound,
  inline,
  literalBlock,
  pieces,
  wordsBlock,
  wordsMessage,
} from '../../../../src/adapters/slack/blocks/literal.js';
import { REASON_MAX, statusReplyMessage, statusWords } from '../../../../src/adapters/slack/blocks/send-message.js';
import type { SendRecord } from '../../../../src/core/send-record.js';
import { readable, unescapeMrkdwn } from '../../../support/slack-reader.js';

/** Strings rich in what Slack would read as markup, plus emoji (surrogate pairs), RTL marks and newlines. */
const hostile = fc.oneof(
  fc
    .array(
      fc.constantFrom('&', '<', '>', '<!channel>', '<@U123>', '*', '_', '~', '`', '\n', '👩‍💻', '😀', '\u200F', 'a'),
      {
        maxLength: 400,
      },
    )
    .map((parts) => parts.join('')),
  fc.string({ unit: 'binary', maxLength: 2_000 }),
);

const MARKER = /…\((\d+) more characters\)$/;

describe('the one rendering path for strings the bot did not write', () => {
  it('inline: escaped, never longer than asked plus its marker, and what it shows is the start of the string', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 1, max: 600 }), (text, max) => {
        const shown = inline(text, max);
        expect(shown).not.toMatch(/[<>]/);
        expect(shown.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
        const marker = MARKER.exec(shown);
        const body = marker ? shown.slice(0, marker.index) : shown;
        expect(body.length).toBeLessThanOrEqual(max);
        const visible = unescapeMrkdwn(body);
        expect(text.startsWith(visible)).toBe(true);
        expect(Number(marker?.[1] ?? 0)).toBe(text.length - visible.length);
        expect(/[\uD800-\uDBFF]$/.test(visible)).toBe(false); // never half an emoji
      }),
      { numRuns: 500 },
    );
  });

  it('bound and pieces never cut an emoji in half, and pieces lose nothing', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 1, max: 300 }), (text, size) => {
        const cut = pieces(text, size);
        expect(cut.join('')).toBe(text);
        let at = 0;
        for (const piece of cut) {
          expect(piece.length).toBeLessThanOrEqual(Math.max(size, 2));
          at += piece.length;
          const splitsPair = /[\uD800-\uDBFF]/.test(text[at - 1] ?? '') && /[\uDC00-\uDFFF]/.test(text[at] ?? '');
          expect(splitsPair).toBe(false);
        }
        const bounded = bound(text, size);
        const marker = MARKER.exec(bounded);
        expect(text.startsWith(marker ? bounded.slice(0, marker.index) : bounded)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('literalBlock shows the whole text as is; Words show foreign parts literally and the fallback escaped', () => {
    fc.assert(
      fc.property(hostile.filter(Boolean), (text) => {
        expect(readable([literalBlock(text)])).toBe(text);
        const message = wordsMessage(['Said: ', { foreign: text, max: 5_000 }]);
        expect(readable(message.blocks)).toBe(`Said: ${text}`);
        expect(message.text).not.toMatch(/[<>]/);
        expect(unescapeMrkdwn(message.text).startsWith('Said: ')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("a failed status's thread reply shows WAPing's reason literally in rich text, whatever it holds", () => {
    fc.assert(
      fc.property(hostile.filter(Boolean), (reason) => {
        const send = {
          to: '+14155550123',
          timeline: [{ status: 'failed', at: 1_700_000_000_000 }],
          deliveryFailure: { reason },
        } as unknown as SendRecord;
        const reply = statusReplyMessage(send, 'failed');
        expect(readable(reply.blocks)).toContain(`: ${bound(reason, REASON_MAX)}`);
        // The fallback's only markup is the bot's own date token; WAPing's reason comes after it, escaped.
        const afterDate = reply.text.slice(reply.text.indexOf('UTC>') + 4);
        expect(afterDate).not.toMatch(/[<>]/);
      }),
      { numRuns: 200 },
    );
  });

  it("a send's status line shows WAPing's words and ids literally in rich text, whatever they hold", () => {
    fc.assert(
      fc.property(hostile.filter(Boolean), hostile.filter(Boolean), (reason, messageId) => {
        const failed = { state: 'sent', status: 'failed', deliveryFailure: { reason } } as unknown as SendRecord;
        expect(readable([wordsBlock(statusWords(failed, 120))])).toContain(`Failed: ${bound(reason, 120)}`);
        const read = { state: 'sent', status: 'read', messageId } as unknown as SendRecord;
        expect(readable([wordsBlock(statusWords(read))])).toContain(`Read · WAPing id ${bound(messageId, 80)}`);
      }),
      { numRuns: 200 },
    );
  });
});
