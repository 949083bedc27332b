import type { App, MessageShortcut } from '@slack/bolt';
import type { SlackDeps } from '../deps.js';
import { SEND_SHORTCUT, sendOnWhatsappShortcut } from './send-on-whatsapp.js';

export function registerShortcuts(app: App, deps: SlackDeps): void {
  app.shortcut<MessageShortcut>({ callback_id: SEND_SHORTCUT, type: 'message_action' }, sendOnWhatsappShortcut(deps));
}
