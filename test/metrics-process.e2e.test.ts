import { afterEach, describe, expect, it } from 'vitest';
import { submitSendModal, waitFor } from './support/bot-harness.js';
import { type BotProcess, sandboxEnv, startBotProcess } from './support/bot-process.js';
import { type Exposition, sampleSum, scrape } from './support/prometheus-text.js';
import { type SlackFake, startSlackFake } from './support/slack-fake.js';

describe('the metrics of the compiled bot as a process', () => {
  let bot: BotProcess | undefined;
  let slack: SlackFake | undefined;
  afterEach(async () => {
    await bot?.stop('SIGKILL');
    await slack?.close();
  });

  it('serves /metrics as Prometheus text, and its send counter moves after a send', async () => {
    slack = await startSlackFake();
    bot = startBotProcess({ env: { ...sandboxEnv(), SLACK_API_URL: slack.apiUrl } });
    const url = `http://127.0.0.1:${await bot.port()}`;
    const accepted = (m: Exposition) => sampleSum(m, 'waping_bot_sends_total', { outcome: 'accepted' });

    const before = await scrape(url);
    expect(before.get('waping_bot_sends_total')?.type).toBe('counter');
    expect(before.get('process_resident_memory_bytes')?.type).toBe('gauge');
    expect(accepted(before)).toBe(0);

    const res = await submitSendModal({ eventsUrl: `${url}/slack/events` }, { viewId: 'V0PROCESS1' });
    expect(res.status).toBe(200);
    const after = await waitFor(
      async () => {
        const m = await scrape(url);
        return accepted(m) === 1 ? m : undefined;
      },
      15_000,
      'the accepted send in /metrics',
    );
    expect(sampleSum(after, 'waping_bot_sends_total', { outcome: 'failed' })).toBe(0);
    expect(
      sampleSum(after, 'waping_bot_waping_request_duration_seconds_count', { operation: 'send', outcome: 'ok' }),
    ).toBe(1);
    expect(slack.callsTo('chat.postMessage').length).toBeGreaterThanOrEqual(1);
    expect((await bot.stop('SIGTERM')).code).toBe(0);
  });
});
