/**
 * One promise chain per key: whoever holds a key runs alone, the others queue in arrival order. A key's
 * entry is dropped as soon as nobody holds or waits for it, so the map stays as small as the traffic.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  get size(): number {
    return this.#tails.size;
  }

  async run<T>(key: string, critical: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await critical();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Run `critical` holding every one of `keys`, taken one after another in sorted order so two callers never deadlock. */
  async runAll<T>(keys: readonly string[], critical: () => Promise<T>): Promise<T> {
    const [first, ...rest] = [...new Set(keys)].sort();
    if (first === undefined) return critical();
    return this.run(first, () => this.runAll(rest, critical));
  }
}
