import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Device } from '../../core/ports.js';
import { type SendModalMetadata, sendModal } from './blocks/send-modal.js';
import type { SlackDeps } from './deps.js';
import { slackError } from './notifier.js';
import { STORE_DOWN } from './refusals.js';

/**
 * Open the send form, pre-filled, after the interaction was acknowledged (`/whatsapp send`, the message shortcut):
 * lists the devices, opens the modal, and tells the person privately when either fails. Its submission then runs
 * the one form path (claimed once per view id). Returns whether the form was opened.
 */
export async function openSendForm(
  deps: SlackDeps,
  client: WebClient,
  respond: RespondFn,
  form: { triggerId: string; recipient?: string; text?: string; metadata: SendModalMetadata },
): Promise<boolean> {
  let devices: Device[];
  try {
    devices = await deps.devices.list();
  } catch (error) {
    deps.logger.warn({ err: error }, 'could not list the devices for the send modal');
    await respond({ response_type: 'ephemeral', text: STORE_DOWN });
    return false;
  }
  try {
    await client.views.open({
      trigger_id: form.triggerId,
      view: sendModal({
        devices,
        defaultDeviceId: deps.devices.defaultDeviceId,
        ...(form.recipient ? { recipient: form.recipient } : {}),
        ...(form.text ? { text: form.text } : {}),
        metadata: form.metadata,
      }),
    });
  } catch (error) {
    const code = slackError(error) ?? 'no answer';
    deps.logger.warn({ slackError: code }, 'could not open the send modal');
    await respond({
      response_type: 'ephemeral',
      text: `I could not open the form (Slack said: ${code}). Please try again.`,
    });
    return false;
  }
  return true;
}
