import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import type { Device } from '../../../core/ports.js';
import { MAX_TEXT_LENGTH } from '../../../core/send-form.js';
import { bound, type LinePart, wordsBlock } from './literal.js';

/** The form's callback id; forms already open in Slack carry it, so it keeps its first name. */
export const SEND_FORM = 'send_modal';
export const RECIPIENT_BLOCK = 'recipient';
export const RECIPIENT_INPUT = 'recipient_input';
export const DEVICE_BLOCK = 'device';
export const DEVICE_SELECT = 'device_select';
export const MESSAGE_BLOCK = 'message';
export const MESSAGE_INPUT = 'message_input';
export const REPEATED_BLOCK = 'repeated';
export const SEND_AGAIN_BLOCK = 'send_again';
export const SEND_AGAIN_INPUT = 'send_again_choice';
/** The value of the one "Send it again" option, ticked. */
export const SEND_AGAIN = 'send_again';

/** What the modal carries from the command to the submission (Slack's private_metadata). */
export interface SendFormMetadata {
  channelId: string;
  responseUrl?: string;
}

export interface SendFormInput {
  devices: Device[];
  defaultDeviceId?: string;
  recipient?: string;
  text?: string;
  metadata: SendFormMetadata;
  /** The same text went to some of these numbers minutes ago: the warning, and the "Send it again" box. */
  repeated?: LinePart[];
}

function deviceOption(device: Device): PlainTextOption {
  const state = device.known === false ? 'state unknown' : device.connected ? 'connected' : 'disconnected';
  const suffix = ` (${state})`;
  return {
    // plain_text shows a device name literally; an option takes 75 characters, the marker of a cut name up to 26.
    text: {
      type: 'plain_text',
      text: `${device.name.length + suffix.length <= 75 ? device.name : bound(device.name, 75 - suffix.length - 26)}${suffix}`,
      emoji: false,
    },
    value: device.id,
  };
}

/** The `/whatsapp send` form (a modal): recipient, device and message, pre-filled from the command when given. */
export function sendForm(input: SendFormInput): ModalView {
  const options = input.devices.map(deviceOption);
  const preselected =
    input.devices.find((d) => d.id === input.defaultDeviceId && d.connected) ??
    (input.devices.length === 1 ? input.devices[0] : undefined);
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: RECIPIENT_BLOCK,
      label: { type: 'plain_text', text: 'Recipients' },
      hint: {
        type: 'plain_text',
        text: 'WhatsApp numbers in international format, e.g. +14155552671, one per line. Several recipients may need approval.',
      },
      element: {
        type: 'plain_text_input',
        action_id: RECIPIENT_INPUT,
        multiline: true,
        placeholder: { type: 'plain_text', text: '+14155552671' },
        ...(input.recipient ? { initial_value: input.recipient } : {}),
      },
    },
    options.length > 0
      ? {
          type: 'input',
          block_id: DEVICE_BLOCK,
          label: { type: 'plain_text', text: 'Send from device' },
          element: {
            type: 'static_select',
            action_id: DEVICE_SELECT,
            placeholder: { type: 'plain_text', text: 'Choose a device' },
            options: options.slice(0, 100),
            ...(preselected ? { initial_option: deviceOption(preselected) } : {}),
          },
        }
      : {
          type: 'section',
          block_id: DEVICE_BLOCK,
          text: {
            type: 'mrkdwn',
            text: ':warning: No WhatsApp device is available: link one by QR code in WAPing first.',
          },
        },
    {
      type: 'input',
      block_id: MESSAGE_BLOCK,
      label: { type: 'plain_text', text: 'Message' },
      element: {
        type: 'plain_text_input',
        action_id: MESSAGE_INPUT,
        multiline: true,
        max_length: MAX_TEXT_LENGTH,
        ...(input.text ? { initial_value: input.text } : {}),
      },
    },
    ...(input.repeated ? repeatedBlocks(input.repeated) : []),
  ];
  return {
    type: 'modal',
    callback_id: SEND_FORM,
    title: { type: 'plain_text', text: 'Send a WhatsApp' },
    submit: { type: 'plain_text', text: 'Send' },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: JSON.stringify(input.metadata),
    blocks,
  };
}

/** The warning that the same text went to a number minutes ago, and the box that sends it anyway. */
function repeatedBlocks(warning: LinePart[]): KnownBlock[] {
  return [
    wordsBlock(warning, REPEATED_BLOCK),
    {
      type: 'input',
      block_id: SEND_AGAIN_BLOCK,
      optional: true,
      label: { type: 'plain_text', text: 'Same text again?' },
      element: {
        type: 'checkboxes',
        action_id: SEND_AGAIN_INPUT,
        options: [{ text: { type: 'plain_text', text: 'Send it again' }, value: SEND_AGAIN }],
      },
    },
  ];
}
