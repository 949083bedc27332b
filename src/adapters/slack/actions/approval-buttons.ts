import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { approvalModal, cannotShowInFull } from '../blocks/approval-modal.js';
import type { SlackDeps } from '../deps.js';
import { cannotReviewText, refusalText } from '../wording/approvals.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/**
 * Tell the person who clicked, privately: an ephemeral under the message, or, for a button in the App Home (which
 * has no response_url), a small modal in its place.
 */
async function tellClicker({ body, client, respond }: ButtonArgs, text: string): Promise<void> {
  if (body.response_url) {
    await respond({ response_type: 'ephemeral', replace_original: false, text });
    return;
  }
  await client.views.open({
    trigger_id: body.trigger_id,
    view: {
      type: 'modal',
      title: { type: 'plain_text', text: 'WhatsApp' },
      close: { type: 'plain_text', text: 'Close' },
      blocks: [{ type: 'section', text: { type: 'plain_text', text, emoji: false } }],
    },
  });
}

/**
 * "Review" on an approval request (on its message, or in an approver's App Home): listed approvers (never the
 * requester) get the approval modal.
 */
export function reviewApprovalAction(deps: SlackDeps) {
  return async (args: ButtonArgs): Promise<void> => {
    const { ack, body, action, client } = args;
    await ack();
    const allowed = await deps.approvals.mayReview(action.value ?? '', body.user.id);
    if (!allowed.ok || !allowed.group) {
      await tellClicker(args, allowed.ok ? 'Not found.' : refusalText(allowed.error));
      return;
    }
    const problem = cannotShowInFull(allowed.group);
    if (problem) {
      await tellClicker(args, cannotReviewText(problem));
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
