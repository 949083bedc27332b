import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { maySend } from '../../../core/access.js';
import { approvalNeeded } from '../../../core/approval-policy.js';
import { idempotencyKeyForView } from '../../../core/idempotency.js';
import { checkSendForm } from '../../../core/send-form.js';
import { groupIdForView } from '../../../core/send-groups.js';
import { cannotShowInFull } from '../blocks/approval-modal.js';
import { bound } from '../blocks/literal.js';
import { statusLine, withoutEmoji } from '../blocks/send-message.js';
import {
  DEVICE_BLOCK,
  DEVICE_SELECT,
  MESSAGE_BLOCK,
  MESSAGE_INPUT,
  RECIPIENT_BLOCK,
  RECIPIENT_INPUT,
  type SendModalMetadata,
} from '../blocks/send-modal.js';
import type { SlackDeps } from '../deps.js';
import { REFUSAL, STORE_DOWN } from '../refusals.js';

const metadataSchema = z.object({ channelId: z.string().min(1), responseUrl: z.string().optional() });

const stateSchema = z.object({
  [RECIPIENT_BLOCK]: z.object({ [RECIPIENT_INPUT]: z.object({ value: z.string().nullish() }) }).optional(),
  [DEVICE_BLOCK]: z
    .object({ [DEVICE_SELECT]: z.object({ selected_option: z.object({ value: z.string() }).nullish() }) })
    .optional(),
  [MESSAGE_BLOCK]: z.object({ [MESSAGE_INPUT]: z.object({ value: z.string().nullish() }) }).optional(),
});

type SubmissionArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/**
 * The send modal's submission, answered within Slack's 3 s even when the store is away: a store that does
 * not answer a ping is told inline before anything is tried ("nothing was sent"); a failure after that but
 * before the ack is told inline too, since the claim may or may not have been written (the same form,
 * submitted again, has the same key, so it never sends twice).
 */
export function sendModalSubmission(deps: SlackDeps) {
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

const NOT_SAVED =
  'This may not have been sent: the bot could not save it. Press Send again in a minute (the same form never sends twice).';

/**
 * Validate (inline errors), check access, claim the send under the view's idempotency key, acknowledge,
 * then deliver in the background. A second submission of the same view (double click, replay, another
 * replica) finds the claim and sends nothing.
 */
function submitSendForm(deps: SlackDeps) {
  return async ({ ack, body, view }: SubmissionArgs): Promise<void> => {
    const metadata = parseMetadata(view.private_metadata);
    const state = stateSchema.safeParse(view.state.values);
    if (!metadata || !state.success) {
      deps.logger.warn({ viewId: view.id }, 'send modal submission with unreadable state');
      await ack({
        response_action: 'errors',
        errors: { [RECIPIENT_BLOCK]: 'This form is out of date: close it and run the command again.' },
      });
      return;
    }
    const values = state.data;
    const devices = await deps.devices.list();
    const checked = checkSendForm(
      {
        recipient: values[RECIPIENT_BLOCK]?.[RECIPIENT_INPUT].value ?? '',
        deviceId: values[DEVICE_BLOCK]?.[DEVICE_SELECT].selected_option?.value,
        text: values[MESSAGE_BLOCK]?.[MESSAGE_INPUT].value ?? '',
      },
      devices,
      deps.defaultCountry,
      deps.approvalPolicy.maxRecipients,
    );
    if (!checked.ok) {
      const { recipient, device, message } = checked.errors;
      await ack({
        response_action: 'errors',
        errors: {
          ...(recipient ? { [RECIPIENT_BLOCK]: bound(recipient, MAX_ERROR) } : {}),
          ...(device ? { [DEVICE_BLOCK]: bound(device, MAX_ERROR) } : {}),
          ...(message ? { [MESSAGE_BLOCK]: bound(message, MAX_ERROR) } : {}),
        },
      });
      return;
    }
    const teamId = body.team?.id ?? body.user.team_id ?? view.team_id;
    if (!(await maySend(deps.access, deps.groups, body.user.id, metadata.channelId))) {
      await ack({ response_action: 'errors', errors: { [RECIPIENT_BLOCK]: REFUSAL } });
      return;
    }
    const requester = { userId: body.user.id, channelId: metadata.channelId, responseUrl: metadata.responseUrl };
    const check = approvalNeeded(deps.approvalPolicy, {
      deviceId: checked.device.id,
      channelId: metadata.channelId,
      recipients: checked.to.length,
    });
    if (check.needed && !check.rule) {
      const limit = deps.approvalPolicy.maxRecipientsWithoutApproval;
      await ack({
        response_action: 'errors',
        errors: {
          [RECIPIENT_BLOCK]: `Sending to more than ${limit} recipient${limit === 1 ? '' : 's'} needs an approver, and none is configured: send to fewer, or ask whoever runs the bot to set approval.teamSends.`,
        },
      });
      return;
    }
    if (check.needed || checked.to.length > 1) {
      // The approvers must see the whole text and every recipient: refuse here what Slack could not show.
      const problem = cannotShowInFull({
        id: 'unsent',
        teamId,
        requestedBy: body.user.id,
        channelId: metadata.channelId,
        deviceId: checked.device.id,
        deviceName: checked.device.name,
        text: checked.text,
        recipients: checked.to,
        keys: [],
        approval:
          check.needed && check.rule
            ? { rule: check.rule, state: 'pending', decisions: [], expiresAt: Number.MAX_SAFE_INTEGER }
            : undefined,
        launched: false,
        version: 1,
        renderedVersion: 1,
        createdAt: 0,
      });
      if (problem) {
        deps.logger.warn({ viewId: view.id, problem }, 'send refused: it could not be shown in full in Slack');
        await ack({
          response_action: 'errors',
          errors: {
            [MESSAGE_BLOCK]: `This message and its ${checked.to.length} recipients are too long for Slack to show in full (${problem}), and ${check.needed ? 'an approver must see all of it' : 'every send must be shown in full'}: shorten the text or send to fewer recipients.`,
          },
        });
        return;
      }
    }
    const asked = { to: checked.to, device: checked.device.id, text: checked.text, approval: check.needed };
    const refuseDifferent = () =>
      ack({
        response_action: 'errors',
        errors: {
          [RECIPIENT_BLOCK]:
            'This form was already sent with other recipients, device or text. Close it and start again with /whatsapp send.',
        },
      });
    if (!check.needed && checked.to.length === 1) {
      // The form's claim and the send's in one round trip (see SendService.requestForForm).
      const outcome = await deps.sends.requestForForm(teamId, view.id, asked, {
        key: idempotencyKeyForView(teamId, view.id),
        teamId,
        requestedBy: body.user.id,
        channelId: metadata.channelId,
        responseUrl: metadata.responseUrl,
        origin: { kind: 'view', viewId: view.id },
        deviceId: checked.device.id,
        deviceName: checked.device.name,
        to: checked.to[0] as string,
        text: checked.text,
      });
      if (outcome === 'different') return refuseDifferent();
      await ack();
      if (outcome.accepted) deps.sends.deliverInBackground(outcome.send.key);
      else
        await deps.notifier.tell(
          requester,
          `${ALREADY_SUBMITTED} That send: ${withoutEmoji(statusLine(outcome.send))}`,
        );
      return;
    }
    if ((await deps.sends.claimSubmission(teamId, view.id, asked)) === 'different') return refuseDifferent();
    // Several recipients, or a team send that needs approval: one group, one Slack message.
    const created = await deps.approvals.create(
      {
        id: groupIdForView(teamId, view.id),
        teamId,
        requestedBy: body.user.id,
        channelId: metadata.channelId,
        responseUrl: metadata.responseUrl,
        deviceId: checked.device.id,
        deviceName: checked.device.name,
        text: checked.text,
        recipients: checked.to,
      },
      check.needed ? check.rule : undefined,
      deps.approvalPolicy.expiresAfterMs,
    );
    await ack();
    if (created.accepted) deps.approvals.startInBackground(created.group.id);
    else await deps.notifier.tell(requester, ALREADY_SUBMITTED);
  };
}

/** An inline error is plain text (shown literally); it may quote a device name or a typed line, so it is bounded. */
const MAX_ERROR = 1_000;

const ALREADY_SUBMITTED = 'This form was already submitted, so nothing was sent again.';

function parseMetadata(raw: string): SendModalMetadata | undefined {
  try {
    const parsed = metadataSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
