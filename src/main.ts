import { existsSync } from 'node:fs';
import { startBot } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';

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
const bot = await startBot(config, { logger });

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await bot.stop();
    process.exit(0);
  });
}
process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled rejection'));
