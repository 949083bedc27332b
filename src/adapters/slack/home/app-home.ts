import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { HomeSnapshot, HomeSurface } from '../../../core/home-feed.js';
import type { Logger } from '../../../core/ports.js';
import { slackError } from '../api-errors.js';
import type { SlackDeps } from '../deps.js';
import { homeView } from './home-view.js';

/** Publishes a person's Home as the bot's App Home tab (`views.publish`). */
export class SlackHomeSurface implements HomeSurface {
  constructor(private readonly client: WebClient) {}

  async show(home: HomeSnapshot): Promise<void> {
    await this.client.views.publish({ user_id: home.userId, view: homeView(home) });
  }
}

/** `app_home_opened` on the Home tab (not the Messages tab): show that person's Home, and keep it fresh a while. */
export function registerHome(app: App, deps: SlackDeps): void {
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    await showHome(deps.logger, () => deps.home.open(event.user));
  });
}

/** Events are acknowledged before their listener runs: a failure can only be logged. */
async function showHome(logger: Logger, open: () => Promise<void>): Promise<void> {
  try {
    await open();
  } catch (error) {
    logger.warn({ err: error, slackError: slackError(error) }, 'could not show the Home tab');
  }
}
