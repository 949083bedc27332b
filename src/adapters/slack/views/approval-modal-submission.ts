import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import {
  COMMENT_BLOCK,
  COMMENT_INPUT,
  cannotShowInFull,
  DECISION_BLOCK,
  DECISION_CHOICE,
} from '../blocks/approval-modal.js';
import type { SlackDeps } from '../deps.js';
import { CHOOSE_A_DECISION, refusalText } from '../wording/approvals.js';

const metadataSchema = z.object({ groupId: z.string().min(1) });
const stateSchema = z.object({
  [DECISION_BLOCK]: z.object({
    [DECISION_CHOICE]: z.object({ selected_option: z.object({ value: z.enum(['approve', 'reject']) }).nullish() }),
  }),
  [COMMENT_BLOCK]: z.object({ [COMMENT_INPUT]: z.object({ value: z.string().nullish() }) }).optional(),
});

/**
 * The approval modal's submission. Whatever goes wrong (not an approver, the requester, already
 * decided, expired) is answered inline in the modal; the decision itself is atomic in the core.
 */
export function approvalModalSubmission(deps: SlackDeps) {
  return async ({ ack, body, view }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    let groupId: string | undefined;
    try {
      groupId = metadataSchema.parse(JSON.parse(view.private_metadata)).groupId;
    } catch {
      groupId = undefined;
    }
    const state = stateSchema.safeParse(view.state.values);
    const decision = state.success ? state.data[DECISION_BLOCK][DECISION_CHOICE].selected_option?.value : undefined;
    if (!groupId || !decision) {
      await ack({ response_action: 'errors', errors: { [DECISION_BLOCK]: CHOOSE_A_DECISION } });
      return;
    }
    const comment = state.success ? (state.data[COMMENT_BLOCK]?.[COMMENT_INPUT].value ?? undefined) : undefined;
    const outcome = await deps.approvals.decide(
      groupId,
      body.user.id,
      decision,
      comment?.trim() || undefined,
      cannotShowInFull,
    );
    if (!outcome.ok) {
      await ack({ response_action: 'errors', errors: { [DECISION_BLOCK]: refusalText(outcome.error) } });
      return;
    }
    await ack();
  };
}
