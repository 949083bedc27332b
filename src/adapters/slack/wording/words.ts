/*
 * Words for Slack that mix the bot's own text with strings it did not write. The wording marks which is which;
 * `blocks/literal.ts` shows foreign parts literally (never as markup) and bounds their length.
 */
export type Words = ReadonlyArray<string | WordsUser | WordsEmoji | WordsForeign>;

/** A mention of a Slack user the bot knows by id (an approver, the requester). */
export interface WordsUser {
  user: string;
}

/** An emoji by its Slack name, e.g. `red_circle`. */
export interface WordsEmoji {
  emoji: string;
}

/** A string the bot did not write: a comment, WAPing's words or ids, a device name. */
export interface WordsForeign {
  foreign: string;
  /** At most this many characters are shown (the rest is counted, not shown). */
  max?: number;
  bold?: boolean;
}

/** A foreign string, to be shown literally. */
export function foreign(text: string, options: { max?: number; bold?: boolean } = {}): WordsForeign {
  return { foreign: text, ...options };
}

/** `count` and the noun, plural unless it is one: `1 recipient`, `3 recipients`. */
export function pluralise(count: number, noun: string, plural = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : plural}`;
}

/** A file's size as people read it: megabytes from one up (one decimal when not whole), kilobytes below. */
export function fileSize(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb >= 1 ? `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}
