import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { maySend } from '../../../core/access.js';
import { helpText } from '../blocks/help.js';
import { sendModal } from '../blocks/send-modal.js';
import { REFUSAL, type SlackDeps } from '../deps.js';

/** `send +15551234567 Your order is ready` → the recipient and the text, for pre-filling the modal. */
export function parseSendArguments(rest: string): { recipient?: string; text?: string } {
  const trimmed = rest.trim();
  if (trimmed === '') return {};
  const match = /^(\+?[\d().-]{5,})\s*([\s\S]*)$/.exec(trimmed);
  if (!match) return { text: trimmed };
  return { recipient: match[1], text: match[2] || undefined };
}

/** `/whatsapp [send|help] …`: help is ephemeral; send opens the send modal for review. */
export function whatsappCommand(deps: SlackDeps) {
  return async ({ command, ack, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const [subcommand = ''] = command.text.trim().split(/\s+/);
    const verb = subcommand.toLowerCase();
    if (verb === '' || verb === 'help') {
      await ack({ response_type: 'ephemeral', text: helpText(command.command) });
      return;
    }
    if (verb !== 'send') {
      await ack({ response_type: 'ephemeral', text: helpText(command.command, `I don't know \`${subcommand}\`.`) });
      return;
    }
    if (!(await maySend(deps.access, deps.groups, command.user_id, command.channel_id))) {
      await ack({ response_type: 'ephemeral', text: REFUSAL });
      return;
    }
    await ack();
    const prefill = parseSendArguments(command.text.trim().slice(subcommand.length));
    const devices = await deps.devices.list();
    await client.views.open({
      trigger_id: command.trigger_id,
      view: sendModal({
        devices,
        defaultDeviceId: deps.devices.defaultDeviceId,
        ...prefill,
        metadata: { channelId: command.channel_id, responseUrl: command.response_url },
      }),
    });
    deps.logger.info({ user: command.user_id, channel: command.channel_id }, 'send modal opened');
  };
}
