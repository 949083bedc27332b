import { z } from 'zod';

/* The small parsers `src/config.ts` builds the environment's and CONFIG_FILE's schemas from. */

/** `true`, `1`, `yes` → true; `false`, `0`, `no`, empty → false. */
export const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .default('false')
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** A trimmed text; empty means unset. */
export const optionalText = z
  .string()
  .optional()
  .transform((value) => (value?.trim() ? value.trim() : undefined));

/** A positive whole number of milliseconds, `fallback` when unset. */
export const milliseconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** A list of Slack ids starting with one of `prefixes`. */
export const slackIds = (prefixes: string) =>
  z
    .array(
      z
        .string()
        .regex(new RegExp(`^[${prefixes}][A-Z0-9]+$`), `a Slack id starting with ${prefixes.split('').join(' or ')}`),
    )
    .default([]);

/** An optional Slack channel id (`C…`, `G…`) in the environment: OPS_CHANNEL, INBOX_CHANNEL. */
export const channelVariable = optionalText.refine(
  (v) => v === undefined || /^[CG][A-Z0-9]+$/.test(v),
  'a Slack channel id such as C0123ABCD',
);

/** `90s`, `15m`, `24h`, `7d` → milliseconds. */
export const duration = z
  .string()
  .regex(/^\d+\s*[smhd]$/, 'a duration such as 90s, 15m, 24h or 7d')
  .transform((text) => {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[text.slice(-1) as 's' | 'm' | 'h' | 'd'];
    return Number.parseInt(text, 10) * unit;
  });
