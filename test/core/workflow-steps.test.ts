import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/adapters/store/create-store.js';
import { keyForWorkflowStep } from '../../src/core/idempotency.js';
import type { Store } from '../../src/core/ports.js';
import type { StepEnd, WorkflowStepPort } from '../../src/core/step-completions.js';
import type { StepInput } from '../../src/core/workflow-steps.js';
import type { Services } from '../../src/wiring/services.js';
import { FakeWaping, WAPING_RESULTS } from '../support/fake-waping.js';
import { ManualClock, RecordingNotifier, SHORT_SEND_POLICY } from '../support/fakes.js';
import { wireTestServices } from '../support/services.js';

/*
 * The workflow step in the core: one send per execution id however often the step runs, and the platform told its
 * end exactly once: when the send is accepted or fails for good, by the sweep when telling it failed the first time.
 */

const TEAM = 'T0TEAM';

/** A platform that can be away: each `complete` fails while `away` is above zero. */
class FlakyStepPort implements WorkflowStepPort {
  readonly told: Array<{ executionId: string; end: StepEnd }> = [];
  away = 0;

  async complete(executionId: string, end: StepEnd): Promise<void> {
    if (this.away > 0) {
      this.away--;
      throw new Error('Slack is away');
    }
    this.told.push({ executionId, end });
  }
}

describe('WorkflowSteps and StepCompletions', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'waping-steps-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  let store: Store;
  let clock: ManualClock;
  let waping: FakeWaping;
  let port: FlakyStepPort;
  let services: Services;
  let runs = 0;

  beforeEach(async () => {
    store = await createStore({ url: 'memory://', dataDir });
    clock = new ManualClock();
    waping = new FakeWaping({ clock });
    port = new FlakyStepPort();
    services = wireTestServices({
      store,
      waping,
      notifier: new RecordingNotifier(),
      clock,
      workflowSteps: port,
      sendPolicy: SHORT_SEND_POLICY,
    });
  });
  afterEach(async () => {
    await services.idle();
    await store.close();
  });

  function step(form: Partial<StepInput['form']> = {}): StepInput {
    return {
      executionId: `Fx${++runs}`,
      teamId: TEAM,
      requestedBy: 'U0ALICE',
      channelId: 'C0SUPPORT',
      form: { recipient: '+14155550181', deviceId: 'dev_support', text: 'Your parcel is here', ...form },
    };
  }

  it('sends once for a step run twice, and tells the platform once, with the message id', async () => {
    const input = step();
    await Promise.all([services.steps.run(input), services.steps.run(input)]);
    await services.idle();
    await services.steps.run(input);
    await services.idle();
    expect(waping.attempts.filter((a) => a.key === keyForWorkflowStep(TEAM, input.executionId))).toHaveLength(1);
    const send = await services.sends.get(keyForWorkflowStep(TEAM, input.executionId));
    expect(port.told).toEqual([
      { executionId: input.executionId, end: { ok: true, messageId: send?.messageId, status: 'queued' } },
    ]);
    expect(await services.stepCompletions.sweep()).toBe(0);
    expect(port.told).toHaveLength(1);
  });

  it('leaves a step it could not tell to the sweep, which tells it once', async () => {
    port.away = 1;
    const input = step();
    await services.steps.run(input);
    await services.idle();
    expect(port.told).toHaveLength(0);
    expect(await services.stepCompletions.sweep()).toBe(1);
    expect(await services.stepCompletions.sweep()).toBe(0);
    expect(port.told).toMatchObject([{ executionId: input.executionId, end: { ok: true } }]);
  });

  it('finds the send of a step whose run stopped right after the claim, and the sweep tells its end', async () => {
    const input = step();
    // The run up to the claim, then a crash: the step never learnt what it waits for, and nothing was started.
    await services.stepCompletions.begin(input.executionId, TEAM);
    await services.requests.submit({ ...input, originId: input.executionId, source: 'workflow-step', sendAgain: true });
    clock.advance(SHORT_SEND_POLICY.leaseMs);
    expect(await services.sends.resumeStale()).toBe(1);
    await services.idle();
    expect(await services.stepCompletions.sweep()).toBe(1);
    expect(port.told).toMatchObject([{ executionId: input.executionId, end: { ok: true, status: 'queued' } }]);
  });

  it('tells the platform why, once the send fails for good', async () => {
    waping.answer(WAPING_RESULTS.sessionDisconnected);
    const input = step();
    await services.steps.run(input);
    await services.idle();
    expect(port.told).toEqual([
      {
        executionId: input.executionId,
        end: {
          ok: false,
          failure: {
            code: 'send-failed',
            failure: { code: 'SESSION_DISCONNECTED', status: 422 },
            deviceName: 'Support line',
          },
        },
      },
    ]);
  });

  it('ends a step asking for several numbers, or one refused by the form rules, at once, sending nothing', async () => {
    const several = step({ recipient: '+14155550181\n+14155550182' });
    const invalid = step({ recipient: '415 555 0181' });
    await services.steps.run(several);
    await services.steps.run(invalid);
    await services.idle();
    expect(waping.attempts).toHaveLength(0);
    expect(port.told).toEqual([
      { executionId: several.executionId, end: { ok: false, failure: { code: 'one-recipient' } } },
      {
        executionId: invalid.executionId,
        end: {
          ok: false,
          failure: {
            code: 'refused-request',
            outcome: { kind: 'invalid', errors: { recipient: { code: 'needs-country-code' } } },
          },
        },
      },
    ]);
  });
});
