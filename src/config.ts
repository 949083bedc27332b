import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { channelVariable, duration, flag, milliseconds, optionalText, slackIds } from './config-values.js';
import { CodedError, errorCode } from './core/errors.js';
import { isKnownCountry } from './core/recipient.js';

const replyMode = z.enum(['all', 'final', 'none']);

/** Who approves: Slack users (U…, W…) and user groups (S…), and how many distinct approvals it takes. */
const approvalRule = z
  .object({
    approvers: z
      .array(z.string().regex(/^[UWS][A-Z0-9]+$/, 'a Slack user (U…) or user group (S…) id'))
      .min(1, 'name at least one approver'),
    minApprovals: z.number().int().min(1).default(1),
  })
  .strict()
  .refine((rule) => rule.approvers.some((a) => a.startsWith('S')) || rule.minApprovals <= rule.approvers.length, {
    message: 'minApprovals is more than the approvers listed',
    path: ['minApprovals'],
  });

/** The optional CONFIG_FILE (YAML or JSON): devices, default device, who may send, status replies. */
const configFileSchema = z
  .object({
    /** Thread replies for status changes: every change, final states only, or none (parent update only). */
    statusReplies: replyMode.default('all'),
    /** Per-channel settings, overriding the deployment's. */
    channels: z
      .record(
        z.string().regex(/^[CGD][A-Z0-9]+$/, 'a Slack channel id'),
        z
          .object({
            statusReplies: replyMode.optional(),
            approval: approvalRule.optional(),
            /** false: customers' replies to sends from this channel do not come back into its threads. */
            conversations: z.boolean().optional(),
          })
          .strict(),
      )
      .default({}),
    /** How long after a send its recipient's replies land in its thread. */
    conversationWindow: duration.default(7 * 86_400_000),
    defaultDevice: z.string().min(1).optional(),
    devices: z
      .array(z.object({ id: z.string().min(1), name: z.string().min(1), approval: approvalRule.optional() }).strict())
      .default([]),
    /** Team sends: how many recipients one send may have, and how many before it needs approval. */
    maxRecipients: z.number().int().min(1).max(500).default(50),
    maxRecipientsWithoutApproval: z.number().int().min(1).default(1),
    approval: z
      .object({
        /** Approvers of sends to more than maxRecipientsWithoutApproval recipients. */
        teamSends: approvalRule.optional(),
        /** Pending approvals expire after this long. */
        expiresAfter: duration.default(24 * 3_600_000),
      })
      .strict()
      .default({ expiresAfter: 24 * 3_600_000 }),
    admins: slackIds('UW'), // people who see everyone's pending sends and approvals in their Home
    access: z
      .object({ users: slackIds('UW'), userGroups: slackIds('S'), channels: slackIds('CGD') })
      .strict()
      .default({ users: [], userGroups: [], channels: [] }),
  })
  .strict()
  .refine(
    (file) => !file.defaultDevice || file.devices.length === 0 || file.devices.some((d) => d.id === file.defaultDevice),
    {
      message: 'defaultDevice must be the id of one of the devices',
      path: ['defaultDevice'],
    },
  );

export type ConfigFile = z.infer<typeof configFileSchema>;

const envSchema = z.object({
  SLACK_BOT_TOKEN: z.string().regex(/^xoxb-/, 'a bot token starting with xoxb-'),
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_APP_TOKEN: optionalText.refine(
    (v) => v === undefined || v.startsWith('xapp-'),
    'an app token starting with xapp-',
  ),
  SLACK_API_URL: z.url().optional(),
  WAPING_SANDBOX: flag,
  PUBLIC_URL: z.url().optional(),
  MEDIA_SECRET: optionalText,
  WAPING_API_URL: z.url().optional(),
  WAPING_API_KEY: optionalText,
  WAPING_WEBHOOK_SECRET: optionalText,
  WAPING_TIMEOUT_MS: milliseconds(10_000),
  STORE_URL: optionalText,
  DATA_DIR: z.string().min(1).default('./data'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  DEFAULT_COUNTRY: optionalText.refine(
    (v) => v === undefined || isKnownCountry(v.toUpperCase()),
    'an ISO 3166 country code such as US or DE',
  ),
  CONFIG_FILE: optionalText,
  OPS_CHANNEL: channelVariable,
  INBOX_CHANNEL: channelVariable,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEND_LEASE_MS: milliseconds(60_000),
  SWEEP_INTERVAL_MS: milliseconds(15_000),
  DEVICE_CACHE_MS: milliseconds(30_000),
});

type Env = z.infer<typeof envSchema>;

/** Variables required only in some modes; checked even when other variables are malformed, so one error names all. */
function crossFieldProblems(env: Record<string, string | undefined>, sandbox: boolean): string[] {
  const problems: string[] = [];
  if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
    problems.push('  SLACK_SIGNING_SECRET: required unless SLACK_APP_TOKEN (Socket Mode) is set');
  }
  const lease = Number(env.SEND_LEASE_MS ?? 60_000);
  const timeout = Number(env.WAPING_TIMEOUT_MS ?? 10_000);
  if (lease <= timeout * 2) {
    problems.push('  SEND_LEASE_MS: must be more than twice WAPING_TIMEOUT_MS, or a slow attempt could lose its lease');
  }
  if (!sandbox) {
    if (!env.WAPING_API_URL) problems.push('  WAPING_API_URL: required unless WAPING_SANDBOX=true');
    if (!env.WAPING_API_KEY) problems.push('  WAPING_API_KEY: required unless WAPING_SANDBOX=true');
  }
  return problems;
}

/** The bot's whole configuration, parsed once at start and frozen. */
export interface Config {
  slack: { botToken: string; signingSecret?: string; appToken?: string; apiUrl?: string };
  waping: { sandbox: boolean; apiUrl?: string; apiKey?: string; webhookSecrets: string[]; timeoutMs: number };
  store: { url?: string; dataDir: string };
  /**
   * Attached files are served to WAPing under `publicUrl` (the bot's address as WAPing reaches it); without it only
   * https URLs can be sent. `secret` signs the links: MEDIA_SECRET, else the signing secret, else the bot token.
   */
  media: { publicUrl?: string; secret: string };
  port: number;
  defaultCountry?: string;
  /** Where device session alerts go. */
  opsChannel?: string;
  /** Where customers' messages that belong to no send's thread go. */
  inboxChannel?: string;
  logLevel: Env['LOG_LEVEL'];
  timing: { sendLeaseMs: number; sweepIntervalMs: number; deviceCacheMs: number };
  file: ConfigFile;
}

/** A configuration that cannot start the bot; the message names every bad variable or key. */
export class ConfigError extends CodedError<'CONFIG_INVALID'> {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

function describe(error: z.ZodError, where: string): string {
  return error.issues
    .map((issue) => {
      const message = issue.message.includes('received undefined') ? 'required' : issue.message;
      return `  ${where}${issue.path.join('.') || '(root)'}: ${message}`;
    })
    .join('\n');
}

/** Parse the environment (and CONFIG_FILE, if named) or throw a ConfigError naming every problem. */
export function loadConfig(env: NodeJS.ProcessEnv): Readonly<Config> {
  // An empty value means unset (as in .env.example), so defaults apply.
  const given = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const parsed = envSchema.safeParse(given);
  const problems = [
    ...(parsed.success ? [] : describe(parsed.error, '').split('\n')),
    ...crossFieldProblems(
      given,
      parsed.success ? parsed.data.WAPING_SANDBOX : (flag.safeParse(given.WAPING_SANDBOX ?? '').data ?? false),
    ),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  const e = parsed.data;
  const file = e.CONFIG_FILE ? readConfigFile(e.CONFIG_FILE) : configFileSchema.parse({});
  return deepFreeze({
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL,
    },
    waping: {
      sandbox: e.WAPING_SANDBOX,
      apiUrl: e.WAPING_API_URL,
      apiKey: e.WAPING_API_KEY,
      webhookSecrets: (e.WAPING_WEBHOOK_SECRET ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      timeoutMs: e.WAPING_TIMEOUT_MS,
    },
    store: { url: e.STORE_URL, dataDir: e.DATA_DIR },
    media: {
      publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
      secret: e.MEDIA_SECRET ?? e.SLACK_SIGNING_SECRET ?? e.SLACK_BOT_TOKEN,
    },
    port: e.PORT,
    defaultCountry: e.DEFAULT_COUNTRY?.toUpperCase(),
    opsChannel: e.OPS_CHANNEL,
    inboxChannel: e.INBOX_CHANNEL,
    logLevel: e.LOG_LEVEL,
    timing: { sendLeaseMs: e.SEND_LEASE_MS, sweepIntervalMs: e.SWEEP_INTERVAL_MS, deviceCacheMs: e.DEVICE_CACHE_MS },
    file,
  });
}

/** Freeze every level, so no part of the configuration can change after start. */
function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`CONFIG_FILE: cannot read ${path} (${errorCode(error) ?? 'error'})`);
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(
      `CONFIG_FILE: ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    );
  }
  const parsed = configFileSchema.safeParse(data ?? {});
  if (!parsed.success) throw new ConfigError(`Invalid CONFIG_FILE ${path}:\n${describe(parsed.error, '')}`);
  return parsed.data;
}
