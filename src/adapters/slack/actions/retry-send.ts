import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { maySend } from '../../../core/access.js';
import { keyForRetry } from '../../../core/idempotency.js';
import { hasFailed } from '../../../core/send-record.js';
import { sendDraft } from '../../../core/send-records.js';
import { RETRY_SEND } from '../blocks/send-message.js';
import type { SlackDeps } from '../deps.js';
import { REFUSAL } from '../wording/refusals.js';

/**
 * Retry on a failed send's message: a new send of the same text, keyed by the message, the action
 * and the attempt number, so a double click (or two people clicking) still sends once.
 */
export function retrySendAction(deps: SlackDeps) {
  return async ({
    ack,
    body,
    action,
    respond,
  }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const failed = await deps.sends.get(action.value ?? '');
    const channel = body.container?.channel_id ?? body.channel?.id;
    const messageTs = body.container?.message_ts ?? body.message?.ts;
    if (!failed || !channel || !messageTs) {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'I could not find this send any more, so nothing was retried. Send it again with `/whatsapp send`.',
      });
      return;
    }
    if (!(await maySend(deps.access, deps.userGroups, body.user.id, failed.channelId))) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: REFUSAL });
      return;
    }
    if (!hasFailed(failed)) {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'This send did not fail, so there is nothing to retry.',
      });
      return;
    }
    const teamId = body.team?.id ?? body.user.team_id ?? failed.teamId;
    const generation = failed.generation + 1;
    // The presser asks this time, and is answered where they pressed; the rest is the failed send's.
    const request = { ...failed, teamId, requestedBy: body.user.id, responseUrl: body.response_url };
    const outcome = await deps.sends.request(
      sendDraft(request, failed.to, {
        key: keyForRetry(teamId, channel, messageTs, RETRY_SEND, generation),
        origin: {
          kind: 'retry',
          conversationId: channel,
          messageId: messageTs,
          actionId: RETRY_SEND,
          attempt: generation,
        },
        retryOf: failed.key,
        generation,
        parent: failed.parent ?? { channel, ts: messageTs },
      }),
    );
    if (outcome.accepted) {
      await deps.sends.supersede(failed.key, outcome.send.key);
      deps.sends.deliverInBackground(outcome.send.key, outcome.send);
    } else {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'This send is already being retried.',
      });
    }
    deps.logger.info({ sendKey: outcome.send.key, retryOf: failed.key, accepted: outcome.accepted }, 'retry pressed');
  };
}
