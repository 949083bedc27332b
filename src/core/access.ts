/** Who may send. Empty lists mean everyone in the workspace may. */
export interface AccessPolicy {
  users: string[];
  userGroups: string[];
  channels: string[];
}

/** Who belongs to a group of people (cached by the adapter: the chat platform rate limits the call). */
export interface UserGroupDirectory {
  /**
   * Member user ids of a group; empty when the id names no group (a person's id, say), the group is unknown, or
   * the plan lacks groups.
   */
  membersOf(groupId: string): Promise<string[]>;
}

/** Whether `userId`, acting in `channelId`, may send: listed user, member of a listed group, or listed channel. */
export async function maySend(
  policy: AccessPolicy,
  userGroups: UserGroupDirectory,
  userId: string,
  channelId: string,
): Promise<boolean> {
  const open = policy.users.length === 0 && policy.userGroups.length === 0 && policy.channels.length === 0;
  if (open) return true;
  if (policy.users.includes(userId) || policy.channels.includes(channelId)) return true;
  for (const group of policy.userGroups) {
    if ((await userGroups.membersOf(group)).includes(userId)) return true;
  }
  return false;
}

/** Whether `userId` is one of `ids` directly, or a member of one of them (a group of people). */
export async function isAmong(ids: string[], userId: string, userGroups: UserGroupDirectory): Promise<boolean> {
  if (ids.includes(userId)) return true;
  // People and groups of people are told apart by the directory: a person's id names no group.
  for (const id of ids) {
    if ((await userGroups.membersOf(id)).includes(userId)) return true;
  }
  return false;
}
