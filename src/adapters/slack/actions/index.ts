import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { REPLY_TO_CUSTOMER } from '../blocks/conversation.js';
import { CANCEL_APPROVAL, REVIEW_APPROVAL } from '../blocks/group-message.js';
import { RETRY_SEND } from '../blocks/send-message.js';
import type { SlackDeps } from '../deps.js';
import { cancelApprovalAction, reviewApprovalAction } from './approval-buttons.js';
import { replyToCustomerAction } from './reply-to-customer.js';
import { retrySendAction } from './retry-send.js';

export function registerActions(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(RETRY_SEND, retrySendAction(deps));
  app.action<BlockAction<ButtonAction>>(REVIEW_APPROVAL, reviewApprovalAction(deps));
  app.action<BlockAction<ButtonAction>>(CANCEL_APPROVAL, cancelApprovalAction(deps));
  app.action<BlockAction<ButtonAction>>(REPLY_TO_CUSTOMER, replyToCustomerAction(deps));
}
