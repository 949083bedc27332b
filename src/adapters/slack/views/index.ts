import type { App } from '@slack/bolt';
import { SEND_MODAL } from '../blocks/send-modal.js';
import type { SlackDeps } from '../deps.js';
import { sendModalSubmission } from './send-modal.js';

export function registerViews(app: App, deps: SlackDeps): void {
  app.view(SEND_MODAL, sendModalSubmission(deps));
}
