import type { CountryCode } from 'libphonenumber-js';
import type { Config } from '../config.js';
import type { UserGroupDirectory } from '../core/access.js';
import { ApprovalService } from '../core/approvals.js';
import { BackgroundWork } from '../core/background.js';
import { Conversations } from '../core/conversations.js';
import { DeliveryService } from '../core/deliveries.js';
import { DeviceHealth, reportedDeviceStates } from '../core/device-health.js';
import { DeviceDirectory } from '../core/devices.js';
import { HomeFeed, type HomeSurface } from '../core/home-feed.js';
import type { ConversationNotifier } from '../core/inbound.js';
import { MessageSync } from '../core/message-sync.js';
import type { ClaimListener, Clock, Logger, SendNotifier, Store, WapingPort } from '../core/ports.js';
import { RecentSends } from '../core/recent-sends.js';
import { SendGroups } from '../core/send-groups.js';
import { type CannotShowInFull, SendRequests } from '../core/send-requests.js';
import { defaultSendPolicy, type SendPolicy, SendService } from '../core/sends.js';
import { StepCompletions, type WorkflowStepPort } from '../core/step-completions.js';
import type { Telemetry } from '../core/telemetry.js';
import { WorkflowSteps } from '../core/workflow-steps.js';
import { approvalPolicyOf, mediaLinksOf, replyModeOf } from './settings.js';

/** What the core services are built from: the ports' adapters and the settings that shape them. */
export interface ServiceParts {
  config: Readonly<Config>;
  store: Store;
  waping: WapingPort;
  notifier: SendNotifier;
  /** Tells the chat platform how a workflow step ended. */
  workflowSteps: WorkflowStepPort;
  /** Posts customers' replies. */
  conversationNotifier: ConversationNotifier;
  /** User-group membership, for approvers named by group. */
  userGroups: UserGroupDirectory;
  /** Where each person's Home is shown. */
  homeSurface: HomeSurface;
  clock: Clock;
  logger: Logger;
  telemetry: Telemetry;
  instanceId: string;
  /** What the chat platform could not show in full (the Slack adapter's limits), so the send use case refuses it. */
  cannotShowInFull: CannotShowInFull;
  sendPolicy?: Partial<SendPolicy>;
  /** How many webhook events for unknown messages may be parked (default PARKED_EVENTS_CAP). */
  parkedEventsCap?: number;
  /** How long the same text to the same number makes a form ask first (default 10 minutes; 0 turns it off). */
  sameTextWindowMs?: number;
  /** How long a thread's poster waits for replies written just before (default 1 s). */
  inboundOrderHoldMs?: number;
}

export interface Services {
  sync: MessageSync;
  health: DeviceHealth;
  devices: DeviceDirectory;
  deliveries: DeliveryService;
  sends: SendService;
  sendGroups: SendGroups;
  approvals: ApprovalService;
  /** Customers' replies: recorded, routed to a send's thread or the inbox, posted in order. */
  conversations: Conversations;
  /** The send use case: a submitted form to a claimed send or group. */
  requests: SendRequests;
  /** The workflow step (a run to a claimed send or group), and telling the platform each step's end once. */
  steps: WorkflowSteps;
  stepCompletions: StepCompletions;
  /** Work started after an answer: deliveries, webhooks, groups, approvals, message syncs, Homes, customers' replies. */
  background: BackgroundWork;
  /** Each person's Home (read model). */
  home: HomeFeed;
  /**
   * Wait until no background work runs (every service starts its work on the one `background`), including work that
   * work started meanwhile.
   */
  idle(): Promise<void>;
}

/**
 * The core services, each built from those before it: the device list, the Homes (read model), the messages
 * (sync, which updates open Homes), device sessions, delivery statuses, customers' replies, sends, send groups,
 * approvals, the send use case. The device list reads reported sessions from the store itself, so
 * the session tracker can name devices through the list without either waiting for the other.
 */
export function wireServices(parts: ServiceParts): Services {
  const { config, store, waping, notifier, clock, logger, telemetry, instanceId } = parts;
  const background = new BackgroundWork(logger);
  const devices = new DeviceDirectory(
    waping,
    clock,
    {
      configured: config.file.devices,
      defaultDeviceId: config.file.defaultDevice,
      cacheMs: config.timing.deviceCacheMs,
    },
    logger,
    { states: (ids) => reportedDeviceStates(store, ids) },
  );
  const home = new HomeFeed({
    store,
    devices,
    userGroups: parts.userGroups,
    surface: parts.homeSurface,
    background,
    clock,
    logger,
    admins: config.file.admins,
  });
  // The Home is a view: listing a claim there runs after the answer, never between the claim and the ack.
  const onClaimed: ClaimListener = (target, record) =>
    background.run(
      () => home.remember(record.requestedBy, target, record.createdAt, record),
      { target },
      'could not list a claim in its Home',
    );
  const sync = new MessageSync({
    store,
    notifier,
    background,
    clock,
    logger,
    instanceId,
    lockMs: 2 * 60_000,
    onRendered: (target, shown) => home.changed(target, shown),
  });
  const health = new DeviceHealth({
    store,
    notifier,
    clock,
    logger,
    nameOf: async (id) => (await devices.find(id))?.name ?? id,
    onChange: () => devices.invalidate(),
    telemetry,
  });
  const deliveries = new DeliveryService({
    store,
    sync,
    background,
    health,
    clock,
    logger,
    replyMode: replyModeOf(config),
    parkedEventsCap: parts.parkedEventsCap,
    telemetry,
  });
  const conversations = new Conversations({
    store,
    notifier: parts.conversationNotifier,
    background,
    clock,
    logger,
    instanceId,
    windowMs: config.file.conversationWindow,
    inboxChannel: config.inboxChannel,
    conversationsOn: (channelId) =>
      (Object.hasOwn(config.file.channels, channelId) ? config.file.channels[channelId]?.conversations : undefined) ??
      true,
    // A name only decorates the inbox message: WAPing being away must not hold the message back.
    deviceName: async (id) => (await devices.find(id).catch(() => undefined))?.name ?? id,
    orderHoldMs: parts.inboundOrderHoldMs,
    telemetry,
  });
  const recent = new RecentSends(store, clock, parts.sameTextWindowMs);
  const stepCompletions = new StepCompletions({ store, port: parts.workflowSteps, clock, logger, instanceId });
  const sends = new SendService({
    store,
    waping,
    notifier,
    background,
    sync,
    clock,
    logger,
    instanceId,
    policy: { ...defaultSendPolicy, leaseMs: config.timing.sendLeaseMs, ...parts.sendPolicy },
    mediaLinks: mediaLinksOf(config),
    onDeviceSession: async (deviceId, connected) => {
      if (connected) await health.sawWorking(deviceId);
      else
        await health.report(deviceId, {
          connected: false,
          at: clock.now(),
          reason: 'WAPing refused a send',
          source: 'send',
        });
    },
    onMessageKnown: async (messageId, send) => {
      await deliveries.onMessageKnown(messageId);
      await conversations.noteSend(send);
    },
    onSendClaimed: (send) => {
      background.run(() => recent.record(send), { sendKey: send.key }, 'could not note a send for the same-text check');
      if (!send.groupId) onClaimed(send.key, send); // a group's sends show under it
    },
    onSettled: (send) => stepCompletions.onSendSettled(send),
    telemetry,
  });
  const sendGroups = new SendGroups({ store, sends, sync, notifier, background, clock, logger, telemetry, onClaimed });
  const approvals = new ApprovalService({
    sendGroups,
    background,
    sync,
    notifier,
    userGroups: parts.userGroups,
    clock,
    logger,
    telemetry,
    onEnded: (group) => stepCompletions.onGroupEnded(group),
  });
  const requests = new SendRequests({
    store,
    recent,
    delivery: sends.delivery,
    sendGroups,
    devices,
    access: config.file.access,
    userGroups: parts.userGroups,
    approvalPolicy: approvalPolicyOf(config),
    defaultCountry: config.defaultCountry as CountryCode | undefined,
    cannotShowInFull: parts.cannotShowInFull,
    filesServed: mediaLinksOf(config) !== undefined,
  });
  const steps = new WorkflowSteps({ requests, completions: stepCompletions });
  return {
    sync,
    health,
    devices,
    deliveries,
    sends,
    sendGroups,
    approvals,
    conversations,
    requests,
    steps,
    stepCompletions,
    background,
    home,
    async idle() {
      await background.idle();
    },
  };
}
