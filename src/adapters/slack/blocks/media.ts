import type { KnownBlock, RichTextBlock } from '@slack/types';
import type { SendMedia } from '../../../core/media.js';
import { fileSize } from '../wording/words.js';
import { type LinePart, literalBlock, wordsBlock } from './literal.js';

export const MEDIA_BLOCK = 'media';

/** Slack's bound on a link element's URL, kept well inside. */
const MAX_URL = 3_000;

/**
 * A send's text (its caption when it carries media) and what it carries: the file's name, type, size and a link to
 * it in Slack, or the link given; all of it literal. A media send without a caption shows no empty quote.
 */
export function messageBlocks(text: string, media: SendMedia | undefined): KnownBlock[] {
  const quote = text.trim() === '' && media ? [] : [literalBlock(text)];
  return media ? [...quote, mediaBlock(media)] : quote;
}

function mediaBlock(media: SendMedia): RichTextBlock {
  if (media.source === 'url') {
    const shown = media.url.length <= MAX_URL;
    return wordsBlock(
      [
        { emoji: 'paperclip' },
        ` ${media.kind[0]?.toUpperCase()}${media.kind.slice(1)} from `,
        shown ? { type: 'link', url: media.url, text: media.url } : { foreign: media.url, max: 200 },
      ],
      MEDIA_BLOCK,
    );
  }
  const { file } = media;
  const link: LinePart[] =
    file.permalink && file.permalink.length <= MAX_URL
      ? [' · ', { type: 'link', url: file.permalink, text: 'open in Slack' }]
      : [];
  return wordsBlock(
    [
      { emoji: 'paperclip' },
      ' ',
      { foreign: file.name, max: 200, bold: true },
      ` (${media.kind}, `,
      { foreign: file.mimetype, max: 100 },
      `, ${fileSize(file.size)})`,
      ...link,
    ],
    MEDIA_BLOCK,
  );
}
