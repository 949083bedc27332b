import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { maySend } from '../../../core/access.js';
import type { Device } from '../../../core/ports.js';
import { slackError } from '../api-errors.js';
import { helpText } from '../blocks/help.js';
import { inline } from '../blocks/literal.js';
import { type SendFormMetadata, sendForm } from '../blocks/send-form.js';
import type { SlackDeps } from '../deps.js';
import { FORM_NOT_OPENED, REFUSAL, STORE_DOWN } from '../wording/refusals.js';

/** `send +14155552671 Your order is ready` → the recipient and the text, for pre-filling the modal. */
export function parseSendArguments(rest: string): { recipient?: string; text?: string } {
  const words = rest.trim().split(/\s+/).filter(Boolean);
  // The number is the leading run of number-like words ("+1 415 555 2671", "(415) 555-2671").
  let taken = 0;
  let digits = 0;
  while (taken < words.length && /^[+\d().-]+$/.test(words[taken] as string)) {
    digits += (words[taken] as string).replace(/\D/g, '').length;
    taken++;
  }
  if (taken === 0 || digits < 7) return words.length > 0 ? { text: words.join(' ') } : {};
  let text = rest.trim();
  for (let i = 0; i < taken; i++) text = text.replace(/^\S+\s*/, ''); // keeps the text's own line breaks
  return { recipient: words.slice(0, taken).join(' '), ...(text ? { text } : {}) };
}

/** `/whatsapp [send|help] …`: help is ephemeral; send opens the send modal for review. */
export function whatsappCommand(deps: SlackDeps) {
  return async ({ command, ack, client, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const [subcommand = ''] = command.text.trim().split(/\s+/);
    const verb = subcommand.toLowerCase();
    if (verb === '' || verb === 'help') {
      await ack({ response_type: 'ephemeral', text: helpText(command.command) });
      return;
    }
    if (verb !== 'send') {
      await ack({
        response_type: 'ephemeral',
        text: helpText(command.command, `I don't know \`${inline(subcommand, 40)}\`.`),
      });
      return;
    }
    if (!(await maySend(deps.access, deps.userGroups, command.user_id, command.channel_id))) {
      await ack({ response_type: 'ephemeral', text: REFUSAL });
      return;
    }
    // The form reads device states from the store, and its submission claims there: with the store away,
    // say so now, within Slack's 3 s, rather than open a form that cannot be sent.
    const storeProblem = await deps.storeProblem();
    if (storeProblem) {
      deps.logger.warn({ user: command.user_id, storeProblem }, '/whatsapp send refused: the store is down');
      await ack({ response_type: 'ephemeral', text: STORE_DOWN });
      return;
    }
    await ack();
    const prefill = parseSendArguments(command.text.trim().slice(subcommand.length));
    const opened = await openSendForm(
      deps,
      client,
      {
        triggerId: command.trigger_id,
        ...prefill,
        metadata: { channelId: command.channel_id, responseUrl: command.response_url },
      },
      (text) => respond({ response_type: 'ephemeral', text }),
    );
    if (!opened) return;
    deps.logger.info({ user: command.user_id, channel: command.channel_id }, 'send modal opened');
  };
}

/** What the send form opens with: Slack's trigger, what to pre-fill, and what its submission needs to know. */
export interface SendFormOpening {
  triggerId: string;
  recipient?: string;
  /** The device to preselect (if connected); otherwise the configured default. */
  deviceId?: string;
  text?: string;
  metadata: SendFormMetadata;
}

/**
 * Open the send form, pre-filled, after the interaction was acknowledged (`/whatsapp send`, the message shortcut):
 * lists the devices, opens the modal, and tells the person privately when either fails. Its submission then runs
 * the one form path (claimed once per view id). Returns whether the form was opened.
 */
export async function openSendForm(
  deps: Pick<SlackDeps, 'devices' | 'logger' | 'filesServed'>,
  client: WebClient,
  form: SendFormOpening,
  /** Tells the person privately (an ephemeral answer that leaves the clicked message as it is). */
  say: (text: string) => Promise<unknown>,
): Promise<boolean> {
  let devices: Device[];
  try {
    devices = await deps.devices.list();
  } catch (error) {
    deps.logger.warn({ err: error }, 'could not list the devices for the send form');
    await say(STORE_DOWN);
    return false;
  }
  try {
    await client.views.open({
      trigger_id: form.triggerId,
      view: sendForm({
        devices,
        defaultDeviceId: form.deviceId ?? deps.devices.defaultDeviceId,
        ...(form.recipient ? { recipient: form.recipient } : {}),
        ...(form.text ? { text: form.text } : {}),
        metadata: form.metadata,
        filesServed: deps.filesServed ?? false,
      }),
    });
  } catch (error) {
    const code = slackError(error) ?? 'no answer';
    deps.logger.warn({ slackError: code }, 'could not open the send form');
    await say(FORM_NOT_OPENED(code));
    return false;
  }
  return true;
}
