import type { SendForm } from './send-form.js';
import { groupKey } from './send-group.js';
import type { SendRequests } from './send-requests.js';
import type { StepCompletions, StepFailure } from './step-completions.js';

/** One run of the "send a WhatsApp message" workflow step, in the core's terms. */
export interface StepInput {
  /** The platform's id for this run of the step: the send's key derives from it. */
  executionId: string;
  teamId: string;
  /** The person the workflow runs for: access and approval rules apply to them. */
  requestedBy: string;
  /** Where the send's message is posted and followed. */
  channelId: string;
  form: SendForm;
}

/**
 * The workflow step: the same send use case as the form, keyed by the step's execution id (a redelivered step event
 * finds its send claimed and sends nothing again). The step ends later, through StepCompletions, when WAPing
 * accepted the message or it failed for good; a refused request ends it at once. A workflow has nobody to tick
 * "Send it again", so the same-text warning does not apply to it.
 */
export class WorkflowSteps {
  constructor(
    private readonly deps: {
      requests: Pick<SendRequests, 'submit' | 'carryOn'>;
      completions: Pick<StepCompletions, 'begin' | 'follow' | 'refuse' | 'settle'>;
    },
  ) {}

  /** End a step that cannot run at all (its inputs could not be read), with why. */
  async fail(executionId: string, teamId: string, failure: StepFailure): Promise<void> {
    await this.deps.completions.begin(executionId, teamId);
    await this.deps.completions.refuse(executionId, failure);
  }

  /** Claim the step's send (or its approval request) and start it; resolves once the claim is durable. */
  async run(input: StepInput): Promise<void> {
    const { requests, completions } = this.deps;
    await completions.begin(input.executionId, input.teamId);
    if (input.form.recipient.trim().includes('\n')) {
      await completions.refuse(input.executionId, { code: 'one-recipient' });
      return;
    }
    const outcome = await requests.submit({
      form: input.form,
      teamId: input.teamId,
      requestedBy: input.requestedBy,
      channelId: input.channelId,
      originId: input.executionId,
      source: 'workflow-step',
      sendAgain: true,
    });
    switch (outcome.kind) {
      case 'sending':
      case 'duplicate':
        await completions.follow(input.executionId, outcome.send.key);
        break;
      case 'group':
        await completions.follow(input.executionId, groupKey(outcome.group.id));
        break;
      case 'recently-sent':
        // Not asked of a step (sendAgain); listed so that a new outcome is a compile error here.
        return;
      default:
        await completions.refuse(input.executionId, { code: 'refused-request', outcome });
        return;
    }
    requests.carryOn(outcome);
    // A redelivery may find the send settled already: tell the platform now rather than at the next sweep.
    await completions.settle(input.executionId);
  }
}
