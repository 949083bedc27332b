import type { App } from '@slack/bolt';
import { APPROVAL_MODAL } from '../blocks/approval-modal.js';
import { SEND_FORM } from '../blocks/send-form.js';
import type { SlackDeps } from '../deps.js';
import { approvalModalSubmission } from './approval-modal-submission.js';
import { sendFormSubmission } from './send-form-submission.js';

export function registerViews(app: App, deps: SlackDeps): void {
  app.view(SEND_FORM, sendFormSubmission(deps));
  app.view(APPROVAL_MODAL, approvalModalSubmission(deps));
}
