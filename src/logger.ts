import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Fields that may carry secrets or personal data. The code never logs phone numbers or message
 * text on purpose; redaction is the net under that rule (and under Bolt's and undici's objects).
 */
const REDACT = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  '*.*.headers.authorization',
  'err.config.headers.authorization',
  'secret',
  '*.secret',
  'to',
  '*.to',
  'text',
  '*.text',
  'body',
  '*.body',
  'phone',
  '*.phone',
  'blocks',
  '*.blocks',
];

/** The bot's pino logger: JSON lines, secrets and personal data redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'waping-slack-bot' } },
    destination,
  );
}

/** Bolt and the Slack WebClient log through pino with this adapter. Their arguments are strings or objects; both are kept out of `msg` when they could carry payloads. */
export function boltLogger(logger: Logger): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  const child = logger.child({ component: 'bolt' });
  const write =
    (method: 'debug' | 'info' | 'warn' | 'error') =>
    (...parts: unknown[]) => {
      // The WebClient logs each request at debug level: at the usual levels that must cost nothing.
      if (!child.isLevelEnabled(method)) return;
      const message = parts.filter((p) => typeof p === 'string').join(' ');
      // Objects may carry payloads and are left out; an error keeps its type and code, which say what failed.
      const error = parts.find((p): p is Error & { code?: unknown } => p instanceof Error);
      const fields = error ? { error: { name: error.name, code: error.code, message: scrub(error.message) } } : {};
      child[method](fields, scrub(message));
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

/** An IPv4 address (`127.0.0.1`) is where a call went, not a phone number. */
const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;

/**
 * Bolt's and the WebClient's messages quote whole request and response bodies at debug level, with
 * message text and numbers in them: everything from the first JSON bracket on is dropped, and tokens
 * and number-like runs in what is left are masked.
 */
export function scrub(message: string): string {
  const payload = message.search(/[{[]/);
  const kept = payload === -1 ? message : `${message.slice(0, payload)}[payload omitted]`;
  return kept
    .replace(/xox[abposr]-[A-Za-z0-9-]+/g, 'xox?-[redacted]')
    .replace(/xapp-[A-Za-z0-9-]+/g, 'xapp-[redacted]')
    .replace(/\+?\d[\d\s().-]{6,}\d/g, (run) => (IPV4.test(run) ? run : '[number]'));
}
