import type { WebClient } from '@slack/web-api';
import type { Device } from '../../core/ports.js';
import { slackError } from './api-errors.js';
import { type SendFormMetadata, sendForm } from './blocks/send-form.js';
import type { SlackDeps } from './deps.js';
import { STORE_DOWN } from './wording/refusals.js';

/** What the send form opens with: typed in the command, or taken from the message a Reply button is on. */
export interface SendFormPrefill {
  recipient?: string;
  text?: string;
  /** Preselected when connected; the configured default device otherwise. */
  deviceId?: string;
}

/**
 * Open the send form (the modal whose submission is a normal send) with the devices and their states; tell the
 * person privately (`say`) when the devices cannot be listed or Slack will not open it. True when it opened.
 */
export async function openSendForm(
  deps: Pick<SlackDeps, 'devices' | 'logger'>,
  client: WebClient,
  form: { triggerId: string; prefill: SendFormPrefill; metadata: SendFormMetadata },
  say: (text: string) => Promise<unknown>,
): Promise<boolean> {
  let devices: Device[];
  try {
    devices = await deps.devices.list();
  } catch (error) {
    deps.logger.warn({ err: error }, 'could not list the devices for the send modal');
    await say(STORE_DOWN);
    return false;
  }
  const { deviceId, ...prefill } = form.prefill;
  try {
    await client.views.open({
      trigger_id: form.triggerId,
      view: sendForm({
        devices,
        defaultDeviceId: deviceId ?? deps.devices.defaultDeviceId,
        ...prefill,
        metadata: form.metadata,
      }),
    });
    return true;
  } catch (error) {
    const code = slackError(error) ?? 'no answer';
    deps.logger.warn({ slackError: code }, 'could not open the send modal');
    await say(`I could not open the form (Slack said: ${code}). Please try again.`);
    return false;
  }
}
