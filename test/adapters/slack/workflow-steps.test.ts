import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackWorkflowSteps } from '../../../src/adapters/slack/workflow-steps.js';
import { quietLogger } from '../../support/fakes.js';
import { type SlackFake, startSlackFake } from '../../support/slack-fake.js';

/*
 * SlackWorkflowSteps against the recording Slack fake: what Slack is told for each end of a step, and that a step
 * Slack reports as ended already counts as told (the sweep may tell it again after a crash), while other errors throw.
 */

describe('SlackWorkflowSteps', () => {
  let slack: SlackFake;
  let steps: SlackWorkflowSteps;
  beforeAll(async () => {
    slack = await startSlackFake();
    steps = new SlackWorkflowSteps(
      new WebClient('xoxb-steps-token', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }),
      quietLogger(),
    );
  });
  afterAll(async () => {
    await slack.close();
  });

  it('completes with the message id and status as the outputs', async () => {
    await steps.complete('Fx0OK', { ok: true, messageId: 'msg_1', status: 'queued' });
    const [call] = slack.callsTo('functions.completeSuccess');
    expect(call?.args.function_execution_id).toBe('Fx0OK');
    expect(JSON.parse(String(call?.args.outputs))).toEqual({ message_id: 'msg_1', status: 'queued' });
  });

  it('fails with the reason in words, the approver’s comment quoted as written', async () => {
    await steps.complete('Fx0NO', {
      ok: false,
      failure: { code: 'approval-ended', state: 'rejected', comment: '<!channel> *not* now' },
    });
    const [call] = slack.callsTo('functions.completeError');
    expect(call?.args.error).toBe(
      'Nothing was sent: an approver rejected the message. Their comment: “<!channel> *not* now”',
    );
  });

  it('takes a step Slack reports as ended already as told, and throws on any other error', async () => {
    await expect(steps.complete('Fx0OK', { ok: true, messageId: 'msg_1', status: 'queued' })).resolves.toBeUndefined();
    expect(slack.callsTo('functions.completeSuccess')).toHaveLength(2);
    await expect(steps.complete('', { ok: true, messageId: 'msg_1', status: 'queued' })).rejects.toMatchObject({
      data: { error: 'invalid_arguments' },
    });
  });
});
