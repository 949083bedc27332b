/**
 * Slack's message formatting (https://docs.slack.dev/messaging/formatting-message-text) turned back into the plain
 * text a person would type on WhatsApp: `<@U…>` becomes `@Name`, `<#C…|general>` `#general`, `<!here>` `@here`,
 * `<https://…|label>` the URL, `<!date^…|fallback>` its fallback, and `&amp; &lt; &gt;` the characters they stand for.
 */

/** One `<…>` of Slack's markup, or one of the three entities Slack escapes in message text. */
const MARKUP = /<([^<>]*)>|&(amp|lt|gt);/g;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>' };

/**
 * `text` as plain text. `nameOf` gives a person's display name for a user id (undefined when unknown): mentions of
 * people it cannot name keep their id, so nothing is lost.
 */
export async function plainText(
  text: string,
  nameOf: (userId: string) => Promise<string | undefined>,
): Promise<string> {
  const users = [...new Set([...text.matchAll(/<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>/g)].map((m) => m[1] as string))];
  const names = new Map<string, string | undefined>(
    await Promise.all(users.map(async (id): Promise<[string, string | undefined]> => [id, await nameOf(id)])),
  );
  // One pass, so that a name or label is never read as markup a second time.
  return text.replace(MARKUP, (_, inner: string | undefined, entity: string | undefined) =>
    inner === undefined ? (ENTITIES[entity as string] as string) : tagText(inner, names),
  );
}

function tagText(inner: string, names: Map<string, string | undefined>): string {
  const bar = inner.indexOf('|');
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? undefined : decoded(inner.slice(bar + 1));
  if (target.startsWith('@')) return `@${names.get(target.slice(1)) ?? label?.replace(/^@/, '') ?? target.slice(1)}`;
  if (target.startsWith('#')) return `#${label || target.slice(1)}`;
  if (target.startsWith('!subteam^')) return label ? `@${label.replace(/^@/, '')}` : `@${target.slice(9)}`;
  if (target.startsWith('!date^')) return label ?? '';
  if (target.startsWith('!')) return `@${label?.replace(/^@/, '') || target.slice(1)}`; // !here, !channel, !everyone
  if (target.startsWith('mailto:')) return target.slice('mailto:'.length);
  return decoded(target); // a link: its URL (the label is Slack's rendering of it)
}

/** A label inside a tag, with its entities turned back into characters. */
function decoded(label: string): string {
  return label.replace(/&(amp|lt|gt);/g, (_, entity: string) => ENTITIES[entity] as string);
}
