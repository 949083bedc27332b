import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyForOrigin } from '../src/core/idempotency.js';
import {
  expectCleanLogs,
  type Harness,
  SIGNING_SECRET,
  sendModalView,
  startHarness,
  waitFor,
} from './support/bot-harness.js';
import { sendRaw, signSlackRequest, viewSubmissionPayload } from './support/slack-requests.js';

describe('two replicas sharing one Redis', () => {
  let a: Harness;
  let b: Harness;

  beforeAll(async () => {
    a = await startHarness({ store: 'redis' });
    b = await startHarness({ store: 'redis', shareWith: a });
  });
  afterAll(async () => {
    expectCleanLogs(a.logs, ['+14155552671', 'Hello from two replicas']);
    expectCleanLogs(b.logs, ['+14155552671', 'Hello from two replicas']);
    await b.stop();
    await a.stop();
  });

  it('sends once when both receive the same submission at the same moment', async () => {
    for (let round = 0; round < 10; round++) {
      const viewId = `V0REPLICA${round}${Date.now()}`;
      const body = `payload=${encodeURIComponent(
        JSON.stringify(
          viewSubmissionPayload({
            view: sendModalView({ viewId, deviceId: 'dev_support', text: 'Hello from two replicas' }),
            user_id: 'U0ALICE',
          }),
        ),
      )}`;
      const sent = {
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(SIGNING_SECRET, body) },
      };
      const answers = await Promise.all([sendRaw(a.eventsUrl, sent), sendRaw(b.eventsUrl, sent)]);
      expect(answers.map((r) => r.status)).toEqual([200, 200]);
      const key = keyForOrigin('T0TEAM', viewId);
      await waitFor(() => a.waping.sendsFor(key) === 1, 10_000, 'the send');
      await Promise.all([a.bot.idle(), b.bot.idle()]);
      expect(a.waping.sendsFor(key)).toBe(1);
      expect(a.waping.requests.filter((r) => r.key === key)).toHaveLength(1);
    }
    expect(a.slack.callsTo('chat.postMessage')).toHaveLength(10);
    expect(a.waping.totalSends()).toBe(10);
  });
});
