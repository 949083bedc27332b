import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { approvalModal, cannotShowInFull } from '../blocks/approval-modal.js';
import type { SlackDeps } from '../deps.js';
import { cannotReviewText, refusalText } from '../wording/approvals.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** "Review" on an approval request: listed approvers (never the requester) get the approval modal. */
export function reviewApprovalAction(deps: SlackDeps) {
  return async ({ ack, body, action, client, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const allowed = await deps.approvals.mayReview(action.value ?? '', body.user.id);
    if (!allowed.ok || !allowed.group) {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: allowed.ok ? 'Not found.' : refusalText(allowed.error),
      });
      return;
    }
    const problem = cannotShowInFull(allowed.group);
    if (problem) {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: cannotReviewText(problem),
      });
      return;
    }
    await client.views.open({ trigger_id: body.trigger_id, view: approvalModal(allowed.group) });
  };
}

/** "Cancel" on an approval request: the requester withdraws it. */
export function cancelApprovalAction(deps: SlackDeps) {
  return async ({ ack, body, action, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const outcome = await deps.approvals.cancel(action.value ?? '', body.user.id);
    if (!outcome.ok)
      await respond({ response_type: 'ephemeral', replace_original: false, text: refusalText(outcome.error) });
  };
}
