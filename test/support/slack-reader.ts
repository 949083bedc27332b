/**
 * What a person reads in Slack from the blocks the bot sent, modelled on Slack's own rendering:
 * - rich_text `text` elements are shown as they are (no mrkdwn, no entities, no mentions);
 *   user and usergroup elements show as `@<id>`, emoji as `:<name>:`;
 * - mrkdwn text has its three entities unescaped (`&lt;` `&gt;` `&amp;`, `&amp;` last), and
 *   `<…>` sequences become mentions or links (kept here as the raw `<…>` so a test can see them);
 * - plain_text is shown as it is.
 */

type Json = Record<string, unknown>;

/** Slack's own unescaping of mrkdwn text. */
export function unescapeMrkdwn(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function richElementText(element: Json): string {
  switch (element.type) {
    case 'text':
      return String(element.text);
    case 'user':
      return `@${String(element.user_id)}`;
    case 'usergroup':
      return `@${String(element.usergroup_id)}`;
    case 'emoji':
      return `:${String(element.name)}:`;
    case 'link':
      return String(element.text ?? element.url);
    case 'broadcast':
      return `@${String(element.range)}`;
    default:
      return '';
  }
}

function textObject(object: unknown): string {
  const text = object as Json | undefined;
  if (!text || typeof text.text !== 'string') return '';
  return text.type === 'mrkdwn' ? unescapeMrkdwn(text.text) : text.text;
}

/** The readable text of one block. */
export function readableBlock(block: Json): string {
  switch (block.type) {
    case 'rich_text':
      return ((block.elements as Json[]) ?? [])
        .map((sub) =>
          ((sub.elements as Json[]) ?? [])
            .map((inner) =>
              inner.type === 'rich_text_section'
                ? ((inner.elements as Json[]) ?? []).map(richElementText).join('')
                : richElementText(inner),
            )
            .join(''),
        )
        .join('\n');
    case 'section':
      return [textObject(block.text), ...((block.fields as Json[]) ?? []).map(textObject)].join('\n');
    case 'context':
      return ((block.elements as Json[]) ?? []).map(textObject).join(' ');
    case 'header':
      return textObject(block.text);
    default:
      return '';
  }
}

/** The readable text of a whole message or modal, block after block. */
export function readable(blocks: unknown): string {
  return ((blocks as Json[]) ?? []).map(readableBlock).join('\n');
}

/** The readable text of the blocks that show the message to send (`message_text`, `message_text_2`, …), joined. */
export function readableMessageText(blocks: unknown): string {
  return ((blocks as Json[]) ?? [])
    .filter((block) => typeof block.block_id === 'string' && block.block_id.startsWith('message_text'))
    .map(readableBlock)
    .join('');
}
