import type { ActionsBlockElement, Button, KnownBlock, RichTextElement } from '@slack/types';
import { z } from 'zod';
import type { InboundMessage, InboundTarget } from '../../../core/inbound.js';
import { displayNumber } from '../../../core/recipient.js';
import { bound, fallbackText, inline, literalBlock, wordsBlock } from './literal.js';

/** The Reply button: on a send's message and on each customer's message, it opens the send form for that number. */
export const REPLY_TO_CUSTOMER = 'reply_to_customer';

/** What a Reply button carries: whom to answer, and through which device. */
export const replyValueSchema = z.object({ to: z.string().min(1).max(20), deviceId: z.string().min(1).max(200) });
export type ReplyValue = z.infer<typeof replyValueSchema>;

/** A customer's text is shown whole up to this many characters (WhatsApp allows 4,096), then cut with a marker. */
export const MAX_INBOUND_TEXT = 4_000;
/** A caption, and a media type as WAPing names it, are shorter. */
const MAX_CAPTION = 1_000;

export function replyButton(value: ReplyValue): Button {
  return {
    type: 'button',
    action_id: REPLY_TO_CUSTOMER,
    text: { type: 'plain_text', text: 'Reply' },
    value: JSON.stringify(value),
  };
}

/** The actions of a customer's message. */
function actions(elements: ActionsBlockElement[]): KnownBlock {
  return { type: 'actions', block_id: 'inbound_actions', elements };
}

const bold = (text: string): RichTextElement => ({ type: 'text', text, style: { bold: true } });

/**
 * A customer's message as posted in Slack: who wrote (their number, formatted), when, the text literally and
 * bounded (or, for media, its type and caption: the file is not fetched), and a Reply button.
 */
export function inboundMessage(target: InboundTarget, message: InboundMessage): { text: string; blocks: KnownBlock[] } {
  const from = displayNumber(message.from);
  const seconds = Math.floor(message.at / 1000);
  const headline = wordsBlock([
    { type: 'emoji', name: 'speech_balloon' },
    bold(` ${from}`),
    target.kind === 'thread' ? ' replied' : ' wrote to ',
    ...(target.kind === 'inbox' ? [{ foreign: target.deviceName, max: 100, bold: true }] : []),
    ' at ',
    { type: 'date', timestamp: seconds, format: '{time_secs}', fallback: `${new Date(message.at).toISOString()}` },
  ]);
  const blocks: KnownBlock[] = [headline];
  const text = message.kind === 'text' ? bound(message.text ?? '', MAX_INBOUND_TEXT) : undefined;
  if (text !== undefined) blocks.push(literalBlock(text));
  else {
    const caption = message.caption ? bound(message.caption, MAX_CAPTION) : undefined;
    blocks.push(
      wordsBlock([
        { type: 'emoji', name: 'paperclip' },
        ` ${mediaName(message.kind)}${message.mimeType ? ' (' : ''}`,
        ...(message.mimeType ? [{ foreign: message.mimeType, max: 100 }, ')'] : []),
        caption ? ': ' : ', without a caption (the file stays on the phone)',
        ...(caption ? [{ foreign: caption, max: MAX_CAPTION + 50 }] : []),
      ]),
    );
  }
  blocks.push(actions([replyButton({ to: message.from, deviceId: message.deviceId })]));
  const said = text ?? `${mediaName(message.kind)}${message.caption ? `: ${message.caption}` : ''}`;
  return { text: fallbackText(`${from}: ${inline(said, 1_000)}`), blocks };
}

function mediaName(kind: InboundMessage['kind']): string {
  return {
    text: 'A text',
    image: 'An image',
    document: 'A document',
    audio: 'A voice message or audio',
    video: 'A video',
  }[kind];
}
