import type { WebClient } from '@slack/web-api';
import type { Device } from '../../core/ports.js';
import { slackError } from './api-errors.js';
import { type SendFormMetadata, sendForm } from './blocks/send-form.js';
import type { SlackDeps } from './deps.js';
import { FORM_NOT_OPENED, STORE_DOWN } from './wording/refusals.js';

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
