import { describe, expect, it } from 'vitest';
import { KeepTrying } from '../../../src/adapters/slack/keep-trying.js';
import { createLogger } from '../../../src/logger.js';
import { createLogCapture } from '../../support/log-capture.js';

describe('KeepTrying', () => {
  it('waits its default backoff after a failure when the delays are passed as undefined', async () => {
    const logs = createLogCapture();
    let attempts = 0;
    const loop = new KeepTrying(
      async () => {
        attempts++;
        throw new Error('unreachable');
      },
      {
        what: 'Slack auth.test',
        logger: createLogger('warn', logs.stream),
        minDelayMs: undefined,
        maxDelayMs: undefined,
        describe: () => 'no answer',
      },
    );
    void loop.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    loop.stop();
    // One attempt, then a wait of the default second; a NaN delay would have retried hundreds of times by now.
    expect(attempts).toBe(1);
    expect(logs.lines().map((line) => line.retryInMs)).toEqual([1_000]);
  });

  it('doubles the wait after each failure, up to the maximum', async () => {
    const logs = createLogCapture();
    const loop = new KeepTrying(
      async () => {
        throw new Error('unreachable');
      },
      { what: 'x', logger: createLogger('warn', logs.stream), minDelayMs: 10, maxDelayMs: 40, describe: () => 'no' },
    );
    void loop.start();
    await new Promise((resolve) => setTimeout(resolve, 250));
    loop.stop();
    expect(
      logs
        .lines()
        .map((line) => line.retryInMs)
        .slice(0, 4),
    ).toEqual([10, 20, 40, 40]);
  });
});
