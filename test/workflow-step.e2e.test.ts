import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { keyForWorkflowStep } from '../src/core/idempotency.js';
import { groupIdForOrigin } from '../src/core/send-groups.js';
import type { SendRecord } from '../src/core/send-record.js';
import {
  DEPLOYED_STORES,
  expectCleanLogs,
  type Harness,
  SIGNING_SECRET,
  startHarness,
  submitApprovalModal,
  waitFor,
} from './support/bot-harness.js';
import { unique } from './support/ids.js';
import type { SlackApiCall } from './support/slack-fake.js';
import { type FunctionExecutedArgs, functionExecuted } from './support/slack-requests.js';

/*
 * The "Send a WhatsApp message" workflow step, end to end: signed `function_executed` events into the real Bolt app,
 * the WAPing sandbox, and the recording Slack fake, which answers functions.completeSuccess / completeError once per
 * execution as Slack does.
 */

const TEAM = 'T0TEAM';
const NUMBER = '+14155550161';
const TEXT = 'Your parcel left the depot';
const CONFIG = {
  defaultDevice: 'dev_sales',
  devices: [
    { id: 'dev_support', name: 'Support line', approval: { approvers: ['U0APPROVER'], minApprovals: 1 } },
    { id: 'dev_sales', name: 'Sales' },
  ],
  access: { users: ['U0ALICE'], userGroups: [], channels: [] },
};
const MANIFEST = parse(readFileSync(join(import.meta.dirname, '..', 'manifest.yml'), 'utf8'));

/** One run of the step, as Slack delivers it (the same execution id and event id on every redelivery). */
function stepEvent(executionId: string, inputs: Record<string, unknown> = {}): FunctionExecutedArgs {
  return {
    function_execution_id: executionId,
    event_id: `Ev${executionId}`,
    callback_id: 'send_whatsapp_message',
    inputs: { recipient: NUMBER, message: TEXT, sent_by: 'U0ALICE', channel: 'C0SUPPORT', ...inputs },
  };
}

const completions = (h: Harness, method: 'completeSuccess' | 'completeError', executionId: string): SlackApiCall[] =>
  h.slack.callsTo(`functions.${method}`).filter((call) => call.args.function_execution_id === executionId);

describe.each(DEPLOYED_STORES)('the workflow step on the %s store', (store) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ store, configFile: CONFIG });
  });
  afterAll(async () => {
    expectCleanLogs(h.logs, [TEXT, NUMBER, 'xwfp-fake-workflow-token']);
    await h.stop();
  });

  it('sends once for an event delivered twice, and completes the step once with the message id', async () => {
    const executionId = unique('Fx');
    const body = stepEvent(executionId);
    const [first, retry] = await Promise.all([
      functionExecuted(h.eventsUrl, SIGNING_SECRET, body),
      functionExecuted(h.eventsUrl, SIGNING_SECRET, body, { headers: { 'x-slack-retry-num': '1' } }),
    ]);
    expect([first.status, retry.status]).toEqual([200, 200]);
    const key = keyForWorkflowStep(TEAM, executionId);
    await waitFor(() => completions(h, 'completeSuccess', executionId).length > 0, 10_000, 'the step completed');
    // A late redelivery, after the step ended, finds it done.
    expect(
      (await functionExecuted(h.eventsUrl, SIGNING_SECRET, body, { headers: { 'x-slack-retry-num': '2' } })).status,
    ).toBe(200);
    await h.bot.idle();

    expect(h.waping.sendsFor(key)).toBe(1);
    const send = await h.bot.store.get<SendRecord>(`send:${key}`);
    expect(send).toMatchObject({ state: 'accepted', to: NUMBER, origin: { kind: 'step', executionId } });
    const success = completions(h, 'completeSuccess', executionId);
    expect(success).toHaveLength(1);
    const outputs = JSON.parse(String(success[0]?.args.outputs));
    expect(outputs).toEqual({ message_id: send?.messageId, status: 'queued' });
    // What the step outputs is what the manifest declares.
    const declared = MANIFEST.functions.send_whatsapp_message.output_parameters;
    expect(Object.keys(outputs).sort()).toEqual([...declared.required].sort());
    expect(completions(h, 'completeError', executionId)).toHaveLength(0);
    // Completed with the bot's own token (it outlives the event's short-lived one).
    expect(success[0]?.token).toBe('xoxb-test-token-000');
    // The send is followed in the channel like a form's.
    expect(h.slack.messages('C0SUPPORT').some((m) => JSON.stringify(m).includes('Your parcel left'))).toBe(true);
  });

  it('waits for approval, and fails the step with the reason when the approver rejects it', async () => {
    const executionId = unique('Fx');
    const res = await functionExecuted(h.eventsUrl, SIGNING_SECRET, stepEvent(executionId, { device: 'Support line' }));
    expect(res.status).toBe(200);
    const groupId = groupIdForOrigin(TEAM, executionId);
    await waitFor(() => h.bot.store.get(`group:${groupId}`), 10_000, 'the approval request');
    await h.bot.idle();
    expect(completions(h, 'completeSuccess', executionId)).toHaveLength(0);
    expect(completions(h, 'completeError', executionId)).toHaveLength(0);

    const decided = await submitApprovalModal(h, {
      groupId,
      user: 'U0APPROVER',
      decision: 'reject',
      comment: 'Not today',
    });
    expect(decided.body).toBe('');
    await waitFor(() => completions(h, 'completeError', executionId).length > 0, 10_000, 'the step failed');
    await h.bot.idle();
    const failed = completions(h, 'completeError', executionId);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.args.error).toBe(
      'Nothing was sent: an approver rejected the message. Their comment: “Not today”',
    );
    expect(completions(h, 'completeSuccess', executionId)).toHaveLength(0);
    expect(h.waping.requests.filter((r) => r.key === keyForWorkflowStep(TEAM, executionId))).toHaveLength(0);
  });

  /** Run the step with `inputs` and return the error it failed with, once; nothing may have been sent. */
  async function refusedWith(inputs: Record<string, unknown>): Promise<unknown> {
    const executionId = unique('Fx');
    expect((await functionExecuted(h.eventsUrl, SIGNING_SECRET, stepEvent(executionId, inputs))).status).toBe(200);
    await waitFor(() => completions(h, 'completeError', executionId).length > 0, 10_000, 'the step failed');
    await h.bot.idle();
    expect(completions(h, 'completeError', executionId)).toHaveLength(1);
    expect(completions(h, 'completeSuccess', executionId)).toHaveLength(0);
    expect(h.waping.sendsFor(keyForWorkflowStep(TEAM, executionId))).toBe(0);
    return completions(h, 'completeError', executionId)[0]?.args.error;
  }

  it('fails the step at once, in plain words, when the inputs cannot be sent', async () => {
    expect(await refusedWith({ recipient: '415 555 0161' })).toBe(
      'Nothing was sent. Recipient: Start the number with + and the country code, e.g. +14155552671.',
    );
    expect(await refusedWith({ recipient: '+14155550161\n+14155550162' })).toBe(
      'This step sends to one phone number; the recipient holds several lines. Use one step per number.',
    );
  });

  it('applies the access rules to the person the step sends for', async () => {
    expect(await refusedWith({ sent_by: 'U0MALLORY' })).toContain(
      'the person this workflow runs for may not send WhatsApp messages from this channel',
    );
  });
});
