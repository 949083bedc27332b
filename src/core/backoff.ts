/**
 * Bounded exponential backoff with "equal jitter": for the n-th retry (n ≥ 1) a random delay in
 * [c/2, c] where c = min(max, base·2^(n-1)), so retries spread out but never come back too soon.
 */
export function backoffDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
