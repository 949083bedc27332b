import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { maySend } from '../../../core/access.js';
import { displayNumber } from '../../../core/recipient.js';
import { replyValueSchema } from '../blocks/conversation.js';
import { openSendForm } from '../commands/whatsapp.js';
import type { SlackDeps } from '../deps.js';
import { REFUSAL, STORE_DOWN } from '../wording/refusals.js';

/**
 * Reply, on a send's message or on a customer's message: the send form, prefilled with the customer's number and
 * the device of the conversation. Submitting it is an ordinary form send (access, approval, its view's key).
 */
export function replyToCustomerAction(deps: SlackDeps) {
  return async ({
    ack,
    body,
    action,
    client,
    respond,
  }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const say = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
    const channelId = body.container?.channel_id ?? body.channel?.id;
    const value = parseValue(action.value);
    if (!value || !channelId) {
      await say('This button no longer works. Answer with `/whatsapp send` instead.');
      return;
    }
    if (!(await maySend(deps.access, deps.userGroups, body.user.id, channelId))) {
      await say(REFUSAL);
      return;
    }
    const storeProblem = await deps.storeProblem();
    if (storeProblem) {
      deps.logger.warn({ user: body.user.id, storeProblem }, 'Reply refused: the store is down');
      await say(STORE_DOWN);
      return;
    }
    const opened = await openSendForm(
      deps,
      client,
      {
        triggerId: body.trigger_id,
        recipient: displayNumber(value.to),
        deviceId: value.deviceId,
        metadata: { channelId, responseUrl: body.response_url },
      },
      say,
    );
    if (opened) deps.logger.info({ user: body.user.id, channel: channelId }, 'send modal opened to reply');
  };
}

function parseValue(value: string | undefined) {
  try {
    return replyValueSchema.parse(JSON.parse(value ?? ''));
  } catch {
    return undefined;
  }
}
