import type { WebClient } from '@slack/web-api';
import type { ConversationNotifier, InboundMessage, InboundTarget } from '../../core/inbound.js';
import { inboundMessage } from './blocks/conversation.js';
import { onExistingMessage } from './notifier.js';

/** Posts customers' messages: a reply in the thread of the send they answer, or a message in the inbox channel. */
export class SlackConversationPoster implements ConversationNotifier {
  constructor(private readonly client: WebClient) {}

  /** Errors propagate so that the message is posted later; a thread gone for good is a MessageGoneError. */
  async postInbound(target: InboundTarget, message: InboundMessage): Promise<void> {
    const where =
      target.kind === 'thread'
        ? { channel: target.thread.channel, thread_ts: target.thread.ts }
        : { channel: target.channel };
    await onExistingMessage(() =>
      this.client.chat.postMessage({
        ...where,
        ...inboundMessage(target, message),
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
  }
}
