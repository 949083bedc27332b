import type { WebClient } from '@slack/web-api';
import type { UserGroupDirectory } from '../../core/access.js';
import type { Logger } from '../../core/ports.js';
import { slackError } from './api-errors.js';

/**
 * User-group membership from `usergroups.users.list`, cached because Slack rate limits the call.
 * Workspaces on plans without user groups answer an error: the group then has no members, so only
 * the users and channels listed by id grant access (logged at each refresh). While the call fails,
 * the last known members are kept for at most an hour.
 */
export class SlackUserGroupDirectory implements UserGroupDirectory {
  private readonly cache = new Map<string, { at: number; members: string[] }>();

  constructor(
    private readonly client: WebClient,
    private readonly logger: Logger,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  async membersOf(groupId: string): Promise<string[]> {
    if (!groupId.startsWith('S')) return []; // user ids (U…, W…) name no group: Slack's user group ids start with S
    const hit = this.cache.get(groupId);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.members;
    try {
      const result = await this.client.usergroups.users.list({ usergroup: groupId });
      const members = result.users ?? [];
      this.cache.set(groupId, { at: Date.now(), members });
      return members;
    } catch (error) {
      this.logger.warn({ groupId, slackError: slackError(error) }, 'could not list user group members');
      // A short Slack outage keeps the last known members; a list older than an hour grants nobody.
      return hit && Date.now() - hit.at < 60 * 60_000 ? hit.members : [];
    }
  }
}
