/**
 * The raw text this process last read or wrote for each of the keys it used most recently, at most `limit` of them
 * (the least recently used goes first), so memory stays bounded however many keys pass through.
 *
 * It is a guess, never an answer: another replica may have written a key since, or it may have expired. RedisStore
 * only offers it as the expected value of a compare-and-set, which compares exact bytes, so a stale text costs one
 * failed attempt and never a lost write; reads always go to Redis.
 */
export class KnownTexts {
  readonly #texts = new Map<string, string>();

  constructor(readonly limit = 1_000) {}

  get size(): number {
    return this.#texts.size;
  }

  /** The text last noted for `key`, if it is still remembered; it becomes the most recently used. */
  get(key: string): string | undefined {
    const text = this.#texts.get(key);
    if (text !== undefined) this.note(key, text);
    return text;
  }

  /** Remember `text` as what `key` holds, or forget the key when it holds nothing (`null`). */
  note(key: string, text: string | null): void {
    this.#texts.delete(key);
    if (text === null) return;
    this.#texts.set(key, text);
    // A Map iterates in insertion order: its first key is the one used least recently.
    if (this.#texts.size > this.limit) this.#texts.delete(this.#texts.keys().next().value as string);
  }

  forget(key: string): void {
    this.#texts.delete(key);
  }
}
