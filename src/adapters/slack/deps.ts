import type { AccessPolicy, UserGroupDirectory } from '../../core/access.js';
import type { ApprovalService } from '../../core/approvals.js';
import type { DeviceDirectory } from '../../core/devices.js';
import type { HomeFeed } from '../../core/home-feed.js';
import type { Logger, SendNotifier } from '../../core/ports.js';
import type { SendGroups } from '../../core/send-groups.js';
import type { SendRequests } from '../../core/send-requests.js';
import type { SendService } from '../../core/sends.js';
import type { WorkflowSteps } from '../../core/workflow-steps.js';

/** What the Slack listeners need from the rest of the bot. */
export interface SlackDeps {
  /** The send use case: a submitted form to a claimed send or group. */
  requests: SendRequests;
  /** The "send a WhatsApp message" workflow step. */
  steps: WorkflowSteps;
  sends: SendService;
  sendGroups: SendGroups;
  approvals: ApprovalService;
  devices: DeviceDirectory;
  /** Each person's App Home. */
  home: HomeFeed;
  notifier: SendNotifier;
  access: AccessPolicy;
  userGroups: UserGroupDirectory;
  logger: Logger;
  /** Why the store cannot be used right now, or undefined when it answers (bounded to about a second). */
  storeProblem(): Promise<string | undefined>;
  /** Whether the form offers attaching a file: the bot serves files to WAPing only with PUBLIC_URL. */
  filesServed?: boolean;
}
