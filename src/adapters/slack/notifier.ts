import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import { request } from 'undici';
import type { DeviceAlert, Notice, ThreadNote } from '../../core/notices.js';
import { type Logger, MessageGoneError, type MessageRef, type Person, type SendNotifier } from '../../core/ports.js';
import type { SendGroup } from '../../core/send-group.js';
import type { DeliveryStatus, SendRecord } from '../../core/send-record.js';
import { slackError } from './api-errors.js';
import { groupMessage } from './blocks/group-message.js';
import { fallbackText, wordsMessage } from './blocks/literal.js';
import { sendMessage, statusReplyMessage } from './blocks/send-message.js';
import { originOf, slackUrlPolicy } from './slack-urls.js';
import { threadNoteWords } from './wording/approvals.js';
import { deviceAlertWords, noticeWords, parentFallbackText } from './wording/notices.js';
import type { Words } from './wording/words.js';

/** Slack errors that mean "the bot may not post in this conversation", as opposed to an outage. */
const REFUSED = new Set([
  'not_in_channel',
  'channel_not_found',
  'is_archived',
  'restricted_action',
  'cannot_dm_bot',
  'ekm_access_denied',
]);

/** Errors after which a message can never be updated or replied to. */
const GONE = new Set([
  'message_not_found',
  'channel_not_found',
  'is_archived',
  'not_in_channel',
  'cant_update_message',
  'edit_window_closed',
  'invalid_blocks',
  'msg_too_long',
  'thread_not_found',
]);

/** Run a Slack call on an existing message, turning "gone for good" into MessageGoneError. */
export async function onExistingMessage(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    const code = slackError(error);
    if (code && GONE.has(code)) throw new MessageGoneError(`Slack answered ${code}`, { cause: error });
    throw error;
  }
}

/** Posts and updates the Slack message that follows a send. */
export class SlackNotifier implements SendNotifier {
  constructor(
    private readonly client: WebClient,
    private readonly logger: Logger,
    /** OPS_CHANNEL: where device session alerts go; none when unset. */
    private readonly opsChannel?: string,
    /** Which URLs are Slack's: a response_url anywhere else is not followed (see slack-urls.ts). */
    private readonly isSlackUrl: (url: string) => boolean = slackUrlPolicy(),
  ) {}

  /** One reply in the parent's thread. Errors propagate so that MessageSync retries the reply later (or gives up on a thread that is gone). */
  async replyWithStatus(send: SendRecord, status: DeliveryStatus): Promise<void> {
    const parent = send.parent;
    if (!parent) return;
    await onExistingMessage(() =>
      this.client.chat.postMessage({
        channel: parent.channel,
        thread_ts: parent.ts,
        ...statusReplyMessage(send, status),
      }),
    );
  }

  async alertOps(alert: DeviceAlert): Promise<void> {
    if (!this.opsChannel) return;
    try {
      await this.client.chat.postMessage({
        channel: this.opsChannel,
        ...wordsMessage(deviceAlertWords(alert)),
        unfurl_links: false,
      });
    } catch (error) {
      this.logger.error({ err: error, slackError: slackError(error) }, 'could not alert the ops channel');
    }
  }

  async announce(send: SendRecord): Promise<MessageRef | undefined> {
    return this.postParent(
      { userId: send.requestedBy, channelId: send.channelId, responseUrl: send.responseUrl },
      sendMessage(send),
      undefined,
    );
  }

  async announceGroup(group: SendGroup): Promise<MessageRef | undefined> {
    return this.postParent(
      { userId: group.requestedBy, channelId: group.channelId, responseUrl: group.responseUrl },
      groupMessage(group, []),
      { approval: group.approval !== undefined },
    );
  }

  /** Errors propagate so that MessageSync keeps the message marked as behind and tries again. */
  async refreshGroup(group: SendGroup, sends: SendRecord[]): Promise<void> {
    const parent = group.parent;
    if (!parent) return;
    await onExistingMessage(() =>
      this.client.chat.update({ channel: parent.channel, ts: parent.ts, ...groupMessage(group, sends) }),
    );
  }

  async noteInThread(parent: MessageRef, note: ThreadNote): Promise<void> {
    try {
      await this.client.chat.postMessage({
        channel: parent.channel,
        thread_ts: parent.ts,
        ...wordsMessage(threadNoteWords(note)),
        unfurl_links: false,
      });
    } catch (error) {
      this.logger.error({ err: error, slackError: slackError(error) }, 'could not reply in the thread');
    }
  }

  /**
   * Post the message that follows a send (or a group) in the channel; when the channel refuses the
   * bot, tell the person privately and follow it in a DM instead.
   */
  private async postParent(
    person: Person,
    rendered: { text: string; blocks: KnownBlock[] },
    /** The group the message is for, if it is one: the fallback note says what happens instead. */
    group: { approval: boolean } | undefined,
  ): Promise<MessageRef | undefined> {
    try {
      const posted = await this.client.chat.postMessage({
        channel: person.channelId,
        ...rendered,
        unfurl_links: false,
      });
      return { channel: posted.channel ?? person.channelId, ts: posted.ts as string };
    } catch (error) {
      const code = slackError(error);
      if (!code || !REFUSED.has(code)) {
        this.logger.error({ err: error, slackError: code }, 'could not post the send message; sending anyway');
        await this.tellWords(person, parentFallbackText(code, false, group));
        return this.postToDirectMessage(person.userId, rendered);
      }
      this.logger.warn({ slackError: code }, 'channel refused the bot; following in a DM');
      await this.tellWords(person, parentFallbackText(code, true, group));
      return this.postToDirectMessage(person.userId, rendered);
    }
  }

  /** Errors propagate so that MessageSync keeps the message marked as behind and tries again. */
  async refresh(send: SendRecord): Promise<void> {
    if (!send.parent) return;
    const parent = send.parent;
    await onExistingMessage(() =>
      this.client.chat.update({ channel: parent.channel, ts: parent.ts, ...sendMessage(send) }),
    );
  }

  async tell(person: Person, notice: Notice): Promise<void> {
    await this.tellWords(person, noticeWords(notice));
  }

  private async tellWords(person: Person, said: string | Words): Promise<void> {
    // A string is the bot's own mrkdwn; Words carry foreign parts, shown literally in a rich_text block.
    const message: { text: string; blocks?: KnownBlock[] } =
      typeof said === 'string' ? { text: fallbackText(said) } : wordsMessage(said);
    if (person.responseUrl && (await this.respond(person.responseUrl, message))) return;
    try {
      await this.client.chat.postEphemeral({ channel: person.channelId, user: person.userId, ...message });
      return;
    } catch (error) {
      this.logger.warn(
        { user: person.userId, slackError: slackError(error) },
        'ephemeral refused; telling the user by DM',
      );
    }
    try {
      await this.client.chat.postMessage({ channel: person.userId, ...message, unfurl_links: false });
    } catch (error) {
      this.logger.error({ err: error, user: person.userId }, 'could not reach the user at all');
    }
  }

  /** Ephemeral reply through the slash command's response_url, which works where the bot is not a member. */
  private async respond(responseUrl: string, message: { text: string; blocks?: KnownBlock[] }): Promise<boolean> {
    if (!this.isSlackUrl(responseUrl)) {
      this.logger.warn({ origin: originOf(responseUrl) }, 'response_url is not on a Slack host; not followed');
      return false;
    }
    try {
      const response = await request(responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, ...message }),
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
      });
      await response.body.dump();
      return response.statusCode < 300;
    } catch (error) {
      this.logger.warn({ err: error }, 'response_url did not take the reply');
      return false;
    }
  }

  private async postToDirectMessage(
    userId: string,
    rendered: { text: string; blocks: KnownBlock[] },
  ): Promise<MessageRef | undefined> {
    try {
      const dm = await this.client.conversations.open({ users: userId });
      const channel = dm.channel?.id ?? userId;
      const posted = await this.client.chat.postMessage({ channel, ...rendered, unfurl_links: false });
      return { channel: posted.channel ?? channel, ts: posted.ts as string };
    } catch (error) {
      this.logger.error({ err: error, slackError: slackError(error) }, 'could not open a DM with the requester');
      return undefined;
    }
  }
}
