import type { CountryCode } from 'libphonenumber-js';
import type { AccessPolicy, UserGroupDirectory } from '../../core/access.js';
import type { ApprovalPolicy } from '../../core/approval-policy.js';
import type { ApprovalService } from '../../core/approvals.js';
import type { DeviceDirectory } from '../../core/devices.js';
import type { Logger, SendNotifier } from '../../core/ports.js';
import type { SendGroups } from '../../core/send-groups.js';
import type { SendService } from '../../core/sends.js';

/** What the Slack listeners need from the rest of the bot. */
export interface SlackDeps {
  sends: SendService;
  sendGroups: SendGroups;
  approvals: ApprovalService;
  approvalPolicy: ApprovalPolicy;
  devices: DeviceDirectory;
  notifier: SendNotifier;
  access: AccessPolicy;
  userGroups: UserGroupDirectory;
  defaultCountry?: CountryCode;
  logger: Logger;
  /** Why the store cannot be used right now, or undefined when it answers (bounded to about a second). */
  storeProblem(): Promise<string | undefined>;
}
