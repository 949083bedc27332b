import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../core/ports.js';
import type { StepEnd, WorkflowStepPort } from '../../core/step-completions.js';
import { slackError } from './api-errors.js';
import { bound } from './blocks/literal.js';
import { stepFailureWords } from './wording/workflow-steps.js';

/** Slack's answers meaning the step already ended (told before, or timed out): nothing left to tell. */
const ALREADY_ENDED = new Set(['execution_not_in_running_state', 'function_execution_not_found']);

/** Slack's bound on an error message is not documented; a step's error is kept short enough to read in full. */
const MAX_ERROR = 1_000;

/**
 * Tells Slack how a "Send a WhatsApp message" step ended: `functions.completeSuccess` with WAPing's message id and
 * status, or `functions.completeError` with the reason in words. Called with the bot token (these methods need no
 * scope), so the step can be completed after a restart, long after the event's own short-lived token is gone.
 */
export class SlackWorkflowSteps implements WorkflowStepPort {
  constructor(
    private readonly client: WebClient,
    private readonly logger: Logger,
  ) {}

  async complete(executionId: string, end: StepEnd): Promise<void> {
    try {
      if (end.ok) {
        await this.client.functions.completeSuccess({
          function_execution_id: executionId,
          outputs: { message_id: end.messageId, status: end.status },
        });
      } else {
        await this.client.functions.completeError({
          function_execution_id: executionId,
          error: bound(stepFailureWords(end.failure), MAX_ERROR),
        });
      }
    } catch (error) {
      const code = slackError(error);
      if (code && ALREADY_ENDED.has(code)) {
        this.logger.info({ executionId, code }, 'workflow step had already ended in Slack');
        return;
      }
      throw error;
    }
  }
}
