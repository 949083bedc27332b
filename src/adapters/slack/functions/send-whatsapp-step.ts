import type { AllMiddlewareArgs, App, SlackEventMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import type { SlackDeps } from '../deps.js';

/** The step's callback id, as `functions` in manifest.yml declares it. */
export const SEND_STEP_CALLBACK_ID = 'send_whatsapp_message';

/** The step's inputs as manifest.yml declares them; Slack checks the required ones before it runs the step. */
export const stepInputsSchema = z.object({
  recipient: z.string(),
  message: z.string(),
  device: z.string().optional(),
  sent_by: z.string().min(1),
  channel: z.string().min(1),
});

type StepArgs = SlackEventMiddlewareArgs<'function_executed'> & AllMiddlewareArgs;

/**
 * The "Send a WhatsApp message" workflow step (`function_executed`). The event is answered (acked) only once the
 * send, or its approval request, is claimed under a key derived from the execution id: a failure before that
 * leaves the event unanswered, so Slack delivers it again, and a redelivery finds the claim and sends nothing twice.
 * The step is completed later, when WAPing accepts the message or it fails for good (core/step-completions.ts).
 */
export function registerWorkflowStep(app: App, deps: SlackDeps): void {
  app.function(SEND_STEP_CALLBACK_ID, { autoAcknowledge: false }, async ({ ack, body, event }: StepArgs) => {
    const executionId = event.function_execution_id;
    const inputs = stepInputsSchema.safeParse(event.inputs);
    if (!inputs.success) {
      // Slack checked the manifest's types; inputs it did not check (the optional device) can still be absent.
      deps.logger.warn({ executionId }, 'workflow step with unreadable inputs');
      await ack();
      await deps.steps.fail(executionId, body.team_id ?? '', { code: 'unreadable-inputs' });
      return;
    }
    const { recipient, message, device, sent_by, channel } = inputs.data;
    await deps.steps.run({
      executionId,
      teamId: body.team_id ?? '',
      requestedBy: sent_by,
      channelId: channel,
      form: { recipient, text: message, deviceId: await deviceIdFor(deps, device) },
    });
    await ack();
  });
}

/**
 * The device a workflow names, by id or by name (what a workflow builder sees). None named: the default device, or
 * the only one, as the form preselects them; the send use case refuses a missing or disconnected device in words.
 */
async function deviceIdFor(deps: SlackDeps, named: string | undefined): Promise<string | undefined> {
  const devices = await deps.devices.list();
  const wanted = named?.trim();
  if (!wanted) return deps.devices.defaultDeviceId ?? (devices.length === 1 ? devices[0]?.id : undefined);
  if (devices.some((d) => d.id === wanted)) return wanted;
  return devices.find((d) => d.name.toLowerCase() === wanted.toLowerCase())?.id ?? wanted;
}
