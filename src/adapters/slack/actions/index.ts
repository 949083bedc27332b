import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { RETRY_SEND } from '../blocks/send-message.js';
import type { SlackDeps } from '../deps.js';
import { retrySendAction } from './retry-send.js';

export function registerActions(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(RETRY_SEND, retrySendAction(deps));
}
