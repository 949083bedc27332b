/** Bounded waits: a dependency that hangs must make its caller fail in time, not hang with it. */

/** What `call` resolves to, or the error `late()` makes once `ms` pass without an answer. */
export async function withDeadline<T>(call: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  try {
    return await Promise.race([call, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
