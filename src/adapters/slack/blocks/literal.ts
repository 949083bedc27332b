import type { KnownBlock, MrkdwnElement, RichTextBlock, RichTextElement } from '@slack/types';
import type { Words } from '../wording/words.js';

/**
 * The one way a string the bot did not write (message texts, approvers' comments, WAPing's reasons,
 * ids and device names, anything a user typed) reaches Slack: shown literally, and bounded.
 *
 * - `literalBlock` shows a whole text in a rich_text block. Its `text` elements are rendered as they
 *   are: no mrkdwn, no mentions, no links, and `& < >` need no escaping (Slack's rich text has
 *   separate elements for mentions and links; a text element is only text).
 * - `inline` puts a short foreign string inside bot-written mrkdwn: `& < >` escaped (so it cannot
 *   ping `<!channel>` or disguise a link), its length bounded with a visible marker.
 * - `wordsBlock` / `wordsText` render the core's `Words` (bot text with foreign parts marked).
 * - `fallbackText` bounds the top-level `text` of a message, which notifies and shows in some clients.
 */

/** Slack's limit for one text object (section text, context element). */
export const MAX_TEXT_OBJECT = 3_000;
/** Blocks per message and per modal. */
export const MAX_MESSAGE_BLOCKS = 50;
export const MAX_MODAL_BLOCKS = 100;
/**
 * The longest `text` element the bot puts in a rich_text block. Slack documents no limit for them;
 * keeping each within a text object's 3,000 stays inside every limit Slack documents.
 */
export const MAX_RICH_TEXT_ELEMENT = 2_000;
/** The top-level `text` of a message or ephemeral (Slack truncates at 40,000; notifications need far less). */
export const MAX_FALLBACK_TEXT = 3_000;
/** Block ids of the blocks that show a message's text, in order: `message_text`, `message_text_2`, … */
export const MESSAGE_TEXT_BLOCK = 'message_text';

/** Cut `text` into pieces of at most `size` UTF-16 units, never inside a surrogate pair. */
export function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    let end = Math.min(at + size, text.length);
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
    if (end === at) end = Math.min(at + 2, text.length); // a size of 1 still takes a whole emoji
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * At most `max` UTF-16 units of `text` (never half an emoji), with a visible marker saying how much
 * was left out. The marker counts toward `max` only approximately: callers leave 30 units of room.
 */
export function bound(text: string, max: number): string {
  if (text.length <= max) return text;
  const kept = pieces(text, max)[0] ?? '';
  return `${kept}…(${text.length - kept.length} more characters)`;
}

/** Slack's three control characters, escaped so a text cannot ping `<!channel>` or disguise a link. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A short foreign string inside bot-written mrkdwn: `& < >` escaped, and at most `max` characters once
 * escaped (never half an entity or half an emoji), plus a marker counting what was left out.
 */
export function inline(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return escaped;
  let out = '';
  let taken = 0;
  for (const char of text) {
    const next = escapeMrkdwn(char);
    if (out.length + next.length > max) break;
    out += next;
    taken += char.length;
  }
  return `${out}…(${text.length - taken} more characters)`;
}

/** A mrkdwn text object that Slack does not auto-link or auto-mention (`verbatim`): only the bot's own markup counts. */
export function mrkdwn(text: string): MrkdwnElement {
  return { type: 'mrkdwn', text, verbatim: true };
}

/** The top-level `text` of a message: bounded. The caller escapes foreign parts (with `inline`). */
export function fallbackText(text: string): string {
  return bound(text, MAX_FALLBACK_TEXT);
}

/**
 * A whole foreign text, in full and literally, as a quoted rich_text block. Never truncated: a text
 * too long for one element is split across several elements of the same quote, which Slack renders
 * as one run of text.
 */
export function literalBlock(text: string, blockId = MESSAGE_TEXT_BLOCK): RichTextBlock {
  return {
    type: 'rich_text',
    block_id: blockId,
    elements: [
      {
        type: 'rich_text_quote',
        elements: pieces(text, MAX_RICH_TEXT_ELEMENT).map((piece): RichTextElement => ({ type: 'text', text: piece })),
      },
    ],
  };
}

/** How long a foreign part of `Words` may be, unless it says otherwise. */
const DEFAULT_WORDS_MAX = 500;

/** A part of a rich_text line: the core's words, or a rich text element the adapter wrote (bold text, a mention). */
export type LinePart = Words[number] | RichTextElement;

/** The core's `Words` (or the adapter's own line) as one rich_text block: foreign parts as literal text, bounded. */
export function wordsBlock(words: ReadonlyArray<LinePart>, blockId?: string): RichTextBlock {
  const elements: RichTextElement[] = [];
  for (const part of words) {
    if (typeof part === 'string') elements.push({ type: 'text', text: part });
    else if ('type' in part) elements.push(part);
    else if ('user' in part) elements.push({ type: 'user', user_id: part.user });
    else if ('emoji' in part) elements.push({ type: 'emoji', name: part.emoji });
    else {
      for (const piece of pieces(bound(part.foreign, part.max ?? DEFAULT_WORDS_MAX), MAX_RICH_TEXT_ELEMENT)) {
        elements.push({ type: 'text', text: piece, ...(part.bold ? { style: { bold: true } } : {}) });
      }
    }
  }
  return {
    type: 'rich_text',
    ...(blockId ? { block_id: blockId } : {}),
    elements: [{ type: 'rich_text_section', elements: elements.filter(nonEmpty) }],
  };
}

function nonEmpty(element: RichTextElement): boolean {
  return element.type !== 'text' || element.text.length > 0;
}

/** The core's `Words` as bounded mrkdwn, for a message's top-level `text`: foreign parts escaped. */
export function wordsText(words: ReadonlyArray<LinePart>): string {
  const text = words
    .map((part) => {
      if (typeof part === 'string') return escapeMrkdwn(part);
      if ('type' in part) {
        if (part.type === 'text') return escapeMrkdwn(part.text);
        return part.type === 'user' ? `<@${part.user_id}>` : '';
      }
      if ('user' in part) return `<@${part.user}>`;
      if ('emoji' in part) return `:${part.emoji}:`;
      return inline(part.foreign, part.max ?? DEFAULT_WORDS_MAX);
    })
    .join('');
  return fallbackText(text);
}

/** A message of `Words`: the rich_text block, and the bounded, escaped fallback text. */
export function wordsMessage(words: Words): { text: string; blocks: KnownBlock[] } {
  return { text: wordsText(words), blocks: [wordsBlock(words)] };
}

/** Why a rendered surface cannot be shown to Slack as it is, or undefined when it fits. */
export function overLimit(blocks: KnownBlock[], maxBlocks: number): string | undefined {
  if (blocks.length > maxBlocks) return `${blocks.length} blocks (at most ${maxBlocks})`;
  for (const block of blocks) {
    if (block.type === 'section' && block.text && block.text.text.length > MAX_TEXT_OBJECT) return 'a section too long';
    if (block.type === 'context') {
      for (const element of block.elements) {
        if ('text' in element && typeof element.text === 'string' && element.text.length > MAX_TEXT_OBJECT) {
          return 'a context too long';
        }
      }
    }
    if (block.type === 'rich_text') {
      for (const element of block.elements) {
        if ('elements' in element) {
          for (const inner of element.elements) {
            if (inner.type === 'text' && inner.text.length > MAX_RICH_TEXT_ELEMENT) return 'a text element too long';
          }
        }
      }
    }
  }
  return undefined;
}
