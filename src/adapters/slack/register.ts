import type { App } from '@slack/bolt';
import { errorCode } from '../../core/errors.js';
import { registerActions } from './actions/index.js';
import { registerCommands } from './commands/index.js';
import type { SlackDeps } from './deps.js';
import { registerWorkflowStep } from './functions/send-whatsapp-step.js';
import { registerHome } from './home/app-home.js';
import { registerShortcuts } from './shortcuts/index.js';
import { registerViews } from './views/index.js';

/** Every Slack listener of the bot, and the one final error handler. */
export function registerListeners(app: App, deps: SlackDeps): void {
  registerCommands(app, deps);
  registerViews(app, deps);
  registerActions(app, deps);
  registerShortcuts(app, deps);
  registerHome(app, deps);
  registerWorkflowStep(app, deps);
  app.error(async (error) => {
    deps.logger.error({ err: error, code: errorCode(error) }, 'unhandled error in a Slack listener');
  });
}
