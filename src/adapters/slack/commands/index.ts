import type { App } from '@slack/bolt';
import type { SlackDeps } from '../deps.js';
import { whatsappCommand } from './whatsapp.js';

export function registerCommands(app: App, deps: SlackDeps): void {
  app.command('/whatsapp', whatsappCommand(deps));
}
