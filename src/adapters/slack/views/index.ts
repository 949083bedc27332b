import type { App } from '@slack/bolt';
import { APPROVAL_MODAL } from '../blocks/approval-modal.js';
import { SEND_MODAL } from '../blocks/send-modal.js';
import type { SlackDeps } from '../deps.js';
import { approvalModalSubmission } from './approval-modal-submission.js';
import { sendModalSubmission } from './send-modal-submission.js';

export function registerViews(app: App, deps: SlackDeps): void {
  app.view(SEND_MODAL, sendModalSubmission(deps));
  app.view(APPROVAL_MODAL, approvalModalSubmission(deps));
}
