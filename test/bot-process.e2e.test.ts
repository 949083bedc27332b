import { afterEach, describe, expect, it } from 'vitest';
import { type BotProcess, sandboxEnv, startBotProcess } from './support/bot-process.js';

describe('the compiled bot as a process', () => {
  let bot: BotProcess | undefined;
  afterEach(async () => {
    await bot?.stop('SIGKILL');
  });

  it('starts on the embedded store, answers /healthz and exits cleanly on SIGTERM', async () => {
    bot = startBotProcess({ env: sandboxEnv() });
    const port = await bot.port();
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const exit = await bot.stop('SIGTERM');
    expect(exit.code).toBe(0);
  });
});
