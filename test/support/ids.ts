let counter = 0;

/**
 * An id no other test in this process (or in a parallel one sharing Redis) will use: the prefix, a counter and a
 * random tail. Slack-style prefixes (`V0…`, `evt_…`, `msg_…`) keep the ids readable in failures.
 */
export const unique = (prefix: string): string =>
  `${prefix}${++counter}${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
