import type { AllMiddlewareArgs, MessageShortcut, SlackShortcutMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { maySend } from '../../../core/access.js';
import { MAX_TEXT_LENGTH } from '../../../core/send-form.js';
import { withDeadline } from '../../../deadline.js';
import { slackError } from '../api-errors.js';
import { pieces } from '../blocks/literal.js';
import { openSendForm } from '../commands/whatsapp.js';
import type { SlackDeps } from '../deps.js';
import { REFUSAL, STORE_DOWN } from '../wording/refusals.js';
import { plainText } from './plain-text.js';

/** The message shortcut's callback id, as declared in manifest.yml. */
export const SEND_SHORTCUT = 'send_on_whatsapp';
/** Its name in a message's menu, as declared in manifest.yml. */
export const SEND_SHORTCUT_NAME = 'Send on WhatsApp…';

/** How long names are looked up before the form opens with ids instead: Slack's trigger lasts 3 seconds. */
const NAMES_WAIT_MS = 1_200;

type ShortcutArgs = SlackShortcutMiddlewareArgs<MessageShortcut> & AllMiddlewareArgs;

/**
 * "Send on WhatsApp…" on a message: the send form, with that message's text as plain text. The same rules as
 * `/whatsapp send` apply (who may send from the channel, the store up), and the form's submission is the usual one.
 */
export function sendOnWhatsappShortcut(deps: SlackDeps) {
  return async ({ shortcut, ack, client, respond }: ShortcutArgs): Promise<void> => {
    await ack();
    const userId = shortcut.user.id;
    const channelId = shortcut.channel.id;
    if (!(await maySend(deps.access, deps.userGroups, userId, channelId))) {
      await respond({ response_type: 'ephemeral', text: REFUSAL });
      return;
    }
    const storeProblem = await deps.storeProblem();
    if (storeProblem) {
      deps.logger.warn({ user: userId, storeProblem }, 'message shortcut refused: the store is down');
      await respond({ response_type: 'ephemeral', text: STORE_DOWN });
      return;
    }
    const names = nameLookup(client, deps);
    const text = await plainText(shortcut.message.text ?? '', names);
    const fits = pieces(text, MAX_TEXT_LENGTH)[0] ?? '';
    const opened = await openSendForm(
      deps,
      client,
      {
        triggerId: shortcut.trigger_id,
        text: fits,
        metadata: { channelId, responseUrl: shortcut.response_url },
      },
      (text) => respond({ response_type: 'ephemeral', text }),
    );
    if (!opened) return;
    deps.logger.info({ user: userId, channel: channelId }, 'send modal opened from a message');
    if (fits.length < text.length) {
      await respond({
        response_type: 'ephemeral',
        text: `That message has ${text.length} characters and WhatsApp takes at most ${MAX_TEXT_LENGTH}: the form holds its first ${fits.length}.`,
      });
    }
  };
}

/** A person's name for a mention (`users.info`, needs `users:read`); undefined when Slack does not say in time. */
function nameLookup(client: WebClient, deps: SlackDeps) {
  const deadline = Date.now() + NAMES_WAIT_MS;
  return async (userId: string): Promise<string | undefined> => {
    const asked = client.users
      .info({ user: userId })
      .then(({ user }) => user?.profile?.display_name || user?.real_name || user?.name || undefined)
      .catch((error: unknown) => {
        deps.logger.warn({ slackError: slackError(error) }, 'could not name a mentioned user; showing the id');
        return undefined;
      });
    const left = Math.max(0, deadline - Date.now());
    return withDeadline(asked, left, () => new Error('users.info took too long')).catch(() => undefined);
  };
}
