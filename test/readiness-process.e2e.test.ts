import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SIGNING_SECRET, waitFor } from './support/bot-harness.js';
import { type BotProcess, sandboxEnv, startBotProcess } from './support/bot-process.js';
import { type RedisServer, startRedisServer } from './support/redis.js';
import { type SlackFake, startSlackFake } from './support/slack-fake.js';
import { slashCommand } from './support/slack-requests.js';

/** A loopback port nothing listens on (yet): connections to it are refused until something binds it. */
async function reservedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function readyz(port: number) {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: (await res.json()) as { ok: boolean; failing: string[] } };
}

describe('the compiled bot, unattended', () => {
  let bot: BotProcess | undefined;
  let slack: SlackFake | undefined;
  let redis: RedisServer | undefined;
  afterEach(async () => {
    await bot?.stop('SIGKILL');
    await slack?.close();
    await redis?.stop();
    bot = slack = redis = undefined;
  });

  it('recovers by itself when Slack is unreachable for 60 s at start, and is not ready meanwhile', async () => {
    const slackPort = await reservedPort();
    const outageStartedAt = Date.now();
    bot = startBotProcess({ env: { ...sandboxEnv(), SLACK_API_URL: `http://127.0.0.1:${slackPort}/api/` } });
    const port = await bot.port();
    const events = `http://127.0.0.1:${port}/slack/events`;

    // Longer than the Slack client's own retries (about 45 s), as in the outage that left the bot deaf.
    await sleep(Math.max(0, outageStartedAt + 50_000 - Date.now()));
    const during = await readyz(port);
    expect(during.status).toBe(503);
    expect(during.body.failing).toEqual(['slack']);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    // Not deaf: a signed request is still answered (help needs nothing from Slack's API).
    const help = await slashCommand(events, SIGNING_SECRET, {
      text: 'help',
      user_id: 'U0ALICE',
      channel_id: 'C0SUPPORT',
    });
    expect(help.json).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('/whatsapp send') });
    const attempts = bot.lines().filter((l) => l.msg === 'Slack auth.test failed; retrying with backoff');
    expect(attempts.length).toBeGreaterThan(1);
    expect(attempts[0]).toMatchObject({ level: 40, attempt: 1, error: 'slack_webapi_request_error' });
    // Backoff, not a busy loop: each failure waits at least a second, so 50 s hold a handful of attempts.
    for (const attempt of attempts) expect(attempt.retryInMs).toBeGreaterThanOrEqual(1_000);
    expect(attempts.length).toBeLessThan(40);

    await sleep(Math.max(0, outageStartedAt + 60_000 - Date.now()));
    slack = await startSlackFake({ port: slackPort });
    const backAt = Date.now();

    // The next signed request opens the form through Slack again, and the probe turns ready.
    await waitFor(
      async () => {
        await slashCommand(events, SIGNING_SECRET, { text: 'send', user_id: 'U0ALICE', channel_id: 'C0SUPPORT' });
        return slack?.callsTo('views.open').length;
      },
      30_000,
      'a signed /whatsapp send to open the form',
    );
    await waitFor(async () => (await readyz(port)).status === 200, 30_000, '/readyz to answer 200');
    expect(Date.now() - backAt).toBeLessThan(30_000);
    expect(await readyz(port)).toEqual({
      status: 200,
      body: {
        ok: true,
        // The same version the start line named.
        version: (await bot.waitForLog((l) => l.msg === 'bot started')).version,
        failing: [],
        checks: { store: { ok: true }, slack: { ok: true }, sweep: { ok: true } },
      },
    });
    expect(bot.lines().some((l) => l.msg === 'Slack auth verified')).toBe(true);
    expect(bot.lines().filter((l) => 'notJson' in l)).toEqual([]);
  }, 150_000);

  it('is not ready while Redis is stopped, tells the person so in Slack, and is ready again once it is back', async () => {
    redis = await startRedisServer();
    slack = await startSlackFake();
    bot = startBotProcess({ env: { ...sandboxEnv(), SLACK_API_URL: slack.apiUrl, STORE_URL: redis.url } });
    const port = await bot.port();
    const events = `http://127.0.0.1:${port}/slack/events`;
    await waitFor(async () => (await readyz(port)).status === 200, 15_000, '/readyz to answer 200');

    await redis.stop();
    const down = await readyz(port);
    expect(down.status).toBe(503);
    expect(down.body.failing).toEqual(['store']);
    const startedAt = Date.now();
    const answer = await slashCommand(events, SIGNING_SECRET, {
      text: 'send +14155550123 Hello',
      user_id: 'U0ALICE',
      channel_id: 'C0SUPPORT',
    });
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    expect(answer.json).toEqual({ response_type: 'ephemeral', text: expect.stringMatching(/^Nothing was sent/) });

    await redis.restart();
    await waitFor(async () => (await readyz(port)).status === 200, 15_000, '/readyz to answer 200 again');
    await slashCommand(events, SIGNING_SECRET, { text: 'send', user_id: 'U0ALICE', channel_id: 'C0SUPPORT' });
    await waitFor(() => slack?.callsTo('views.open').length, 10_000, 'the form to open once Redis is back');
  }, 60_000);

  it('keeps trying to connect in Socket Mode while Slack is unreachable, instead of exiting with a stack', async () => {
    const port = await reservedPort();
    bot = startBotProcess({
      env: {
        ...sandboxEnv(),
        PORT: String(port),
        SLACK_APP_TOKEN: 'xapp-1-test-000',
        SLACK_API_URL: 'http://127.0.0.1:9/api/',
      },
    });
    const failure = await bot.waitForLog(
      (l) => l.msg === 'Socket Mode connection failed; retrying with backoff',
      40_000,
    );
    expect(failure).toMatchObject({ level: 40, attempt: 1, error: 'slack_webapi_request_error' });
    // The client gave up its own retries and we are past the point where the start used to exit.
    await sleep(2_000);
    expect(bot.child.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const ready = await readyz(port);
    expect(ready.status).toBe(503);
    expect(ready.body.failing).toEqual(['slack']);
    expect(bot.stderr()).toBe('');
    expect(bot.lines().filter((l) => 'notJson' in l)).toEqual([]);
  }, 60_000);
});
