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
export const FILE_BLOCK = 'media_file';
export const FILE_INPUT = 'media_file_input';
export const MEDIA_URL_BLOCK = 'media_url';
export const MEDIA_URL_INPUT = 'media_url_input';
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
  /** Whether a file may be attached (the bot serves it to WAPing); a link to a file may always be given. */
  filesServed: boolean;
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
      // Optional in Slack so a file may go without a caption; the bot still refuses an empty text message.
      optional: true,
      label: { type: 'plain_text', text: 'Message' },
      hint: { type: 'plain_text', text: 'With a file, this is its caption.' },
      element: {
        type: 'plain_text_input',
        action_id: MESSAGE_INPUT,
        multiline: true,
        max_length: MAX_TEXT_LENGTH,
        ...(input.text ? { initial_value: input.text } : {}),
      },
    },
    ...mediaBlocks(input.filesServed),
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

/** A file to attach (one per send) when the bot can serve it, and a link to a file, always. */
function mediaBlocks(filesServed: boolean): KnownBlock[] {
  const file: KnownBlock = {
    type: 'input',
    block_id: FILE_BLOCK,
    optional: true,
    label: { type: 'plain_text', text: 'Attach a file' },
    hint: { type: 'plain_text', text: MEDIA_LIMITS_HINT },
    element: { type: 'file_input', action_id: FILE_INPUT, max_files: 1 },
  };
  const unavailable: KnownBlock = {
    type: 'context',
    block_id: FILE_BLOCK,
    elements: [
      {
        type: 'plain_text',
        text: 'Attaching a file needs the bot to have a public address (PUBLIC_URL) for WhatsApp to fetch it from; a link to a file works.',
      },
    ],
  };
  const url: KnownBlock = {
    type: 'input',
    block_id: MEDIA_URL_BLOCK,
    optional: true,
    label: { type: 'plain_text', text: filesServed ? 'Or a link to a file' : 'A link to a file' },
    element: {
      type: 'url_text_input',
      action_id: MEDIA_URL_INPUT,
      placeholder: { type: 'plain_text', text: 'https://' },
    },
  };
  return [filesServed ? file : unavailable, url];
}

/** What WhatsApp takes, in short (the limits are MEDIA_LIMITS in the core). */
const MEDIA_LIMITS_HINT =
  'Images JPEG or PNG up to 5 MB; video MP4 or 3GP and audio up to 16 MB; documents (PDF, Office, text, ZIP) up to 100 MB.';

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
