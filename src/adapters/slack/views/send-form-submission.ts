import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import type { ModalView } from '@slack/types';
import { z } from 'zod';
import type { SendRequestInput, SendRequestOutcome } from '../../../core/send-requests.js';
import { bound } from '../blocks/literal.js';
import {
  DEVICE_BLOCK,
  DEVICE_SELECT,
  FILE_BLOCK,
  FILE_INPUT,
  MEDIA_URL_BLOCK,
  MEDIA_URL_INPUT,
  MESSAGE_BLOCK,
  MESSAGE_INPUT,
  RECIPIENT_BLOCK,
  RECIPIENT_INPUT,
  SEND_AGAIN,
  SEND_AGAIN_BLOCK,
  SEND_AGAIN_INPUT,
  type SendFormMetadata,
  sendForm,
} from '../blocks/send-form.js';
import type { SlackDeps } from '../deps.js';
import { REFUSAL, STORE_DOWN } from '../wording/refusals.js';
import { recentlySentWords } from '../wording/same-text.js';
import { FORM_OUT_OF_DATE, NOT_SAVED, sendFormErrorWords, submissionRefusalWords } from '../wording/send-form.js';

const metadataSchema = z.object({ channelId: z.string().min(1), responseUrl: z.string().optional() });

/** A file attached with Slack's file_input, as the view's state carries it (the parts the bot uses). */
const uploadedFileSchema = z.object({
  id: z.string().min(1),
  name: z.string().nullish(),
  mimetype: z.string(),
  size: z.number().int().nonnegative(),
  url_private_download: z.string().optional(),
  url_private: z.string(),
  permalink: z.string().optional(),
});

const stateSchema = z.object({
  [RECIPIENT_BLOCK]: z.object({ [RECIPIENT_INPUT]: z.object({ value: z.string().nullish() }) }).optional(),
  [DEVICE_BLOCK]: z
    .object({ [DEVICE_SELECT]: z.object({ selected_option: z.object({ value: z.string() }).nullish() }) })
    .optional(),
  [MESSAGE_BLOCK]: z.object({ [MESSAGE_INPUT]: z.object({ value: z.string().nullish() }) }).optional(),
  [FILE_BLOCK]: z.object({ [FILE_INPUT]: z.object({ files: z.array(uploadedFileSchema).nullish() }) }).optional(),
  [MEDIA_URL_BLOCK]: z.object({ [MEDIA_URL_INPUT]: z.object({ value: z.string().nullish() }) }).optional(),
  [SEND_AGAIN_BLOCK]: z
    .object({ [SEND_AGAIN_INPUT]: z.object({ selected_options: z.array(z.object({ value: z.string() })).nullish() }) })
    .optional(),
});

type SubmissionArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/**
 * The send form's submission, answered within Slack's 3 s even when the store is away: a store that does
 * not answer a ping is told inline before anything is tried ("nothing was sent"); a failure after that but
 * before the ack is told inline too, since the claim may or may not have been written (the same form,
 * submitted again, has the same key, so it never sends twice).
 */
export function sendFormSubmission(deps: SlackDeps) {
  const submit = submitSendForm(deps);
  return async (args: SubmissionArgs): Promise<void> => {
    const storeProblem = await deps.storeProblem();
    if (storeProblem) {
      deps.logger.warn({ viewId: args.view.id, storeProblem }, 'send modal submission refused: the store is down');
      await args.ack({ response_action: 'errors', errors: { [RECIPIENT_BLOCK]: STORE_DOWN } });
      return;
    }
    let acked = false;
    const ack: SubmissionArgs['ack'] = async (response) => {
      acked = true;
      await args.ack(response);
    };
    try {
      await submit({ ...args, ack });
    } catch (error) {
      if (acked) throw error;
      deps.logger.error({ err: error, viewId: args.view.id }, 'send modal submission failed before its ack');
      await args.ack({ response_action: 'errors', errors: { [RECIPIENT_BLOCK]: NOT_SAVED } });
    }
  };
}

/**
 * Read the form, hand it to the send use case (`SendRequests.submit`: it checks, claims and says what became of
 * it), and answer Slack: inline errors in the fields they belong to, or the ack. Claimed work starts after the ack.
 */
function submitSendForm(deps: SlackDeps) {
  return async ({ ack, body, view }: SubmissionArgs): Promise<void> => {
    const input = readForm(body, view);
    if (!input) {
      deps.logger.warn({ viewId: view.id }, 'send modal submission with unreadable state');
      await ack({ response_action: 'errors', errors: { [RECIPIENT_BLOCK]: FORM_OUT_OF_DATE } });
      return;
    }
    const outcome = await deps.requests.submit(input);
    if (outcome.kind === 'recently-sent') {
      // Not an error of one field: the form is shown again with the warning and a box to send it anyway.
      await ack({ response_action: 'update', view: await repeatedForm(deps, input, view.private_metadata, outcome) });
      return;
    }
    const errors = inlineErrors(outcome);
    if (errors) {
      if (outcome.kind === 'too-long-to-show') {
        deps.logger.warn(
          { viewId: view.id, problem: outcome.problem },
          'send refused: it could not be shown in full in Slack',
        );
      }
      await ack({ response_action: 'errors', errors });
      return;
    }
    await ack();
    deps.requests.carryOn(outcome);
    const requester = { userId: input.requestedBy, channelId: input.channelId, responseUrl: input.responseUrl };
    if (outcome.kind === 'duplicate') {
      await deps.notifier.tell(requester, { kind: 'already-submitted', send: outcome.send });
    } else if (outcome.kind === 'group' && !outcome.accepted) {
      await deps.notifier.tell(requester, { kind: 'already-submitted' });
    }
  };
}

/** An inline error is plain text (shown literally); it may quote a device name or a typed line, so it is bounded. */
const MAX_ERROR = 1_000;

/** The inline errors for an outcome that claimed nothing, under the field each belongs to; undefined otherwise. */
function inlineErrors(outcome: SendRequestOutcome): Record<string, string> | undefined {
  switch (outcome.kind) {
    case 'invalid': {
      const { recipient, device, message, media } = sendFormErrorWords(outcome.errors);
      // A file's problem goes under the file; a link's, or a file that cannot be served, under the link.
      const fileProblem = ['media-type-not-allowed', 'media-too-large'].includes(outcome.errors.media?.code ?? '');
      const mediaField = fileProblem ? FILE_BLOCK : MEDIA_URL_BLOCK;
      return {
        ...(media ? { [mediaField]: bound(media, MAX_ERROR) } : {}),
        ...(recipient ? { [RECIPIENT_BLOCK]: bound(recipient, MAX_ERROR) } : {}),
        ...(device ? { [DEVICE_BLOCK]: bound(device, MAX_ERROR) } : {}),
        ...(message ? { [MESSAGE_BLOCK]: bound(message, MAX_ERROR) } : {}),
      };
    }
    case 'refused':
      return { [RECIPIENT_BLOCK]: REFUSAL };
    case 'needs-approver':
    case 'different-resubmission':
      return { [RECIPIENT_BLOCK]: submissionRefusalWords(outcome) };
    case 'too-long-to-show':
      return { [MESSAGE_BLOCK]: submissionRefusalWords(outcome) };

    default:
      return undefined;
  }
}

/** The form as submitted, with the warning that the same text went to some of its numbers minutes ago. */
async function repeatedForm(
  deps: SlackDeps,
  input: SendRequestInput,
  privateMetadata: string,
  outcome: Extract<SendRequestOutcome, { kind: 'recently-sent' }>,
): Promise<ModalView> {
  return sendForm({
    devices: await deps.devices.list(),
    defaultDeviceId: input.form.deviceId,
    recipient: input.form.recipient,
    text: input.form.text,
    metadata: parseMetadata(privateMetadata) ?? { channelId: input.channelId },
    repeated: recentlySentWords(outcome.sends),
    filesServed: deps.filesServed ?? false,
  });
}

/** The form's values and where it came from, or undefined when the view cannot be read. */
function readForm(body: SubmissionArgs['body'], view: SubmissionArgs['view']): SendRequestInput | undefined {
  const metadata = parseMetadata(view.private_metadata);
  const state = stateSchema.safeParse(view.state.values);
  if (!metadata || !state.success) return undefined;
  const values = state.data;
  return {
    form: {
      recipient: values[RECIPIENT_BLOCK]?.[RECIPIENT_INPUT].value ?? '',
      deviceId: values[DEVICE_BLOCK]?.[DEVICE_SELECT].selected_option?.value,
      text: values[MESSAGE_BLOCK]?.[MESSAGE_INPUT].value ?? '',
      ...mediaOf(values),
    },
    teamId: body.team?.id ?? body.user.team_id ?? view.team_id,
    requestedBy: body.user.id,
    channelId: metadata.channelId,
    responseUrl: metadata.responseUrl,
    // Slack keeps a view's id for the modal's whole life: the send's key derives from it.
    originId: view.id,
    sendAgain: Boolean(
      values[SEND_AGAIN_BLOCK]?.[SEND_AGAIN_INPUT].selected_options?.some((o) => o.value === SEND_AGAIN),
    ),
  };
}

/** The attached file (one per send: Slack's element allows only one) or else the typed link, in the core's terms. */
function mediaOf(values: z.infer<typeof stateSchema>): Pick<SendRequestInput['form'], 'media'> {
  const file = values[FILE_BLOCK]?.[FILE_INPUT].files?.[0];
  if (file) {
    return {
      media: {
        source: 'file',
        file: {
          fileId: file.id,
          name: file.name ?? file.id,
          mimetype: file.mimetype,
          size: file.size,
          downloadUrl: file.url_private_download ?? file.url_private,
          ...(file.permalink ? { permalink: file.permalink } : {}),
        },
      },
    };
  }
  const url = values[MEDIA_URL_BLOCK]?.[MEDIA_URL_INPUT].value?.trim();
  return url ? { media: { source: 'url', url } } : {};
}

function parseMetadata(raw: string): SendFormMetadata | undefined {
  try {
    const parsed = metadataSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
