import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { type Bot, startBot } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger, scrub } from './logger.js';
import { classifyStartFailure, EXIT } from './start-failure.js';

/** A start that has not finished by then will not: it ends with one line instead of hanging. */
const START_DEADLINE_MS = 15_000;
/** On SIGTERM, in-flight work gets this long to finish; what is left is resumed by the sweep of the next start. */
const DRAIN_MS = 10_000;

/**
 * After each full collection V8 lets the heap grow up to four times what survived before collecting again: under a
 * burst of sends, about 250 MB for some 35 MB alive. Growing by half at most keeps it nearer what is alive (`npm run
 * bench`: RSS after 4,000 sends 243 -> 176 MB, for about 5% more CPU per send). `node --heap-growing-percent=N` wins.
 */
const HEAP_GROWING_PERCENT = 50;
if (!process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent'))) {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

// The one place that reads the environment. A .env file beside the code is loaded when present.
if (existsSync('.env')) process.loadEnvFile('.env');

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

const logger = createLogger(config.logLevel);

// Everything the process says goes through the JSON log: Node's warnings (e.g. PromiseRejectionHandledWarning)
// would otherwise be plain text on stderr.
process.removeAllListeners('warning');
process.on('warning', (warning) =>
  logger.warn({ warning: warning.name, code: (warning as NodeJS.ErrnoException).code }, scrub(warning.message)),
);
process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled rejection'));
// A rejection first logged as unhandled and caught later needs no second line (Node would add a plain-text warning).
process.on('rejectionHandled', () => {});

let bot: Bot | undefined;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for in-flight work');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    // A signal during the start: nothing has been taken on yet, so there is nothing to drain.
    if (!bot) process.exit(0);
    const drained = bot.stop().then(
      () => true,
      (error: unknown) => {
        logger.error({ err: error }, 'stopping failed');
        return true;
      },
    );
    const timeout = new Promise<false>((resolve) => setTimeout(resolve, DRAIN_MS, false).unref());
    void Promise.race([drained, timeout]).then((finished) => {
      if (finished) logger.info({}, 'stopped');
      else logger.warn({ drainMs: DRAIN_MS }, 'in-flight work did not finish in time; the next start resumes it');
      process.exit(0);
    });
  });
}

const deadline = setTimeout(() => {
  logger.fatal(
    { code: 'START_TIMEOUT', problem: `the bot did not finish starting within ${START_DEADLINE_MS / 1000} s` },
    'start failed',
  );
  process.exit(EXIT.startTimeout);
}, START_DEADLINE_MS);
try {
  bot = await startBot(config, { logger });
  clearTimeout(deadline);
} catch (error) {
  const failure = classifyStartFailure(error, config.port);
  // One line that names the problem; the stack is for bugs, and these are not.
  logger.fatal(
    { code: failure.code, problem: failure.problem, ...(failure.exitCode === EXIT.unknown ? { err: error } : {}) },
    'start failed',
  );
  process.exit(failure.exitCode);
}
