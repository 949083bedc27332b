import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger as Pino } from 'pino';
import { limitServer, serverOptions } from './adapters/http/limits.js';
import { PrometheusMetrics } from './adapters/metrics/prometheus.js';
import { SlackAuth } from './adapters/slack/auth.js';
import { cannotShowInFull } from './adapters/slack/blocks/approval-modal.js';
import { SlackConversationPoster } from './adapters/slack/conversation-poster.js';
import { SlackHomeSurface } from './adapters/slack/home/app-home.js';
import { SlackNotifier } from './adapters/slack/notifier.js';
import { registerListeners } from './adapters/slack/register.js';
import { slackFileUrlPolicy } from './adapters/slack/slack-urls.js';
import { SlackUserGroupDirectory } from './adapters/slack/user-group-directory.js';
import { SlackWorkflowSteps } from './adapters/slack/workflow-steps.js';
import { createStore } from './adapters/store/create-store.js';
import type { Config } from './config.js';
import type { DeliveryService } from './core/deliveries.js';
import type { MessageSync } from './core/message-sync.js';
import { type Clock, type Store, systemClock } from './core/ports.js';
import type { SendPolicy, SendService } from './core/sends.js';
import { createLogger } from './logger.js';
import { Heartbeat, passingFor, Readiness, storeCheck } from './readiness.js';
import type { WapingSandbox } from './sandbox/waping-sandbox.js';
import { version } from './version.js';
import { httpRoutes } from './wiring/http-routes.js';
import { wireServices } from './wiring/services.js';
import { createSlackApp, slackWebApi } from './wiring/slack-app.js';
import { Sweeper } from './wiring/sweeper.js';
import { connectWaping } from './wiring/waping.js';

/** What tests and embedders may replace; production uses the defaults. */
export interface BotOverrides {
  logger?: Pino;
  clock?: Clock;
  instanceId?: string;
  storeNamespace?: string;
  sendPolicy?: Partial<SendPolicy>;
  /** How many webhook events for unknown messages may be parked (default PARKED_EVENTS_CAP). */
  parkedEventsCap?: number;
  /** How long the same text to the same number makes a form ask first (default 10 minutes; 0 turns it off). */
  sameTextWindowMs?: number;
  /** How long a thread's poster waits for customers' replies written just before (default 1 s). */
  inboundOrderHoldMs?: number;
}

export interface Bot {
  /** The bound HTTP port (useful with PORT=0). */
  port: number;
  url: string;
  store: Store;
  sends: SendService;
  deliveries: DeliveryService;
  sync: MessageSync;
  sandbox?: WapingSandbox;
  /** Wait until every background send, webhook and Slack update has finished (tests, shutdown). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The composition root, top to bottom: the store and WAPing, Slack's Web API, the core services (each built from
 * those before it), the HTTP routes, the Bolt app that serves them and the listeners, then start and the sweep.
 * The parts live in src/wiring/.
 */
export async function startBot(config: Readonly<Config>, overrides: BotOverrides = {}): Promise<Bot> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const instanceId = overrides.instanceId ?? randomUUID();
  const metrics = new PrometheusMetrics(logger);
  const store = await createStore({
    url: config.store.url,
    dataDir: config.store.dataDir,
    namespace: overrides.storeNamespace,
    logger,
  });
  const { waping, webhookSecrets, sandbox } = await connectWaping(config, logger, metrics);
  if (webhookSecrets.length === 0)
    logger.warn({}, 'WAPING_WEBHOOK_SECRET is not set: every delivery webhook is refused');

  const web = slackWebApi(config, metrics, logger);
  const slackAuth = new SlackAuth({ token: config.slack.botToken, clientOptions: web.clientOptions, logger });
  const notifier = new SlackNotifier(web.client, logger, config.opsChannel, web.isSlackUrl);
  const userGroups = new SlackUserGroupDirectory(web.client, logger);
  const services = wireServices({
    config,
    store,
    waping,
    notifier,
    conversationNotifier: new SlackConversationPoster(web.client),
    userGroups,
    homeSurface: new SlackHomeSurface(web.client),
    clock,
    logger,
    telemetry: metrics,
    instanceId,
    cannotShowInFull,
    sendPolicy: overrides.sendPolicy,
    parkedEventsCap: overrides.parkedEventsCap,
    sameTextWindowMs: overrides.sameTextWindowMs,
    workflowSteps: new SlackWorkflowSteps(web.client, logger),
    inboundOrderHoldMs: overrides.inboundOrderHoldMs,
  });
  const { sends, sendGroups, deliveries, sync, approvals, devices, requests, home, conversations, steps } = services;
  metrics.observe({
    backlog: () => sends.backlog(),
    pendingApprovals: () => approvals.pendingApprovals(),
    devices: () => devices.list(),
    now: () => clock.now(),
  });

  // Readiness: the store answers, Slack took the token (and, in Socket Mode, the socket is open), the sweep runs.
  // Bolt hosts /readyz in the receiver it is built with, so the Socket Mode part is read from `slack` when asked.
  const sweepBeat = new Heartbeat(clock, Math.max(3 * config.timing.sweepIntervalMs, 60_000), 'sweep');
  const readiness = new Readiness(
    {
      store: storeCheck(store),
      slack: () => slackAuth.problem() ?? slack.socketMode?.problem(),
      sweep: sweepBeat.check,
    },
    version(),
  );
  const media = config.media.publicUrl
    ? { store, botToken: config.slack.botToken, isSlackUrl: slackFileUrlPolicy(config.slack.apiUrl) }
    : undefined;
  const routes = httpRoutes({
    readiness,
    metrics,
    deliveries,
    conversations,
    sandbox,
    webhookSecrets,
    clock,
    logger,
    media,
  });
  const slack = createSlackApp({ config, web, auth: slackAuth, routes, clock, logger });
  registerListeners(slack.app, {
    requests,
    steps,
    sends,
    sendGroups,
    approvals,
    devices,
    home,
    notifier,
    access: config.file.access,
    userGroups,
    logger,
    storeProblem: passingFor(() => readiness.check('store'), clock, 1_000),
    filesServed: media !== undefined,
  });

  // Neither waits for Slack: both keep trying in the background, and /readyz says when they succeeded.
  void slackAuth.start();
  void slack.socketMode?.start();
  const server = slack.socketMode ? undefined : ((await slack.app.start(config.port, serverOptions())) as Server);
  if (server) limitServer(server);
  const port = server ? (server.address() as AddressInfo).port : config.port;
  sandbox?.setWebhookUrl(`http://127.0.0.1:${port}/waping/webhooks`);

  const sweeper = new Sweeper(services, {
    logger,
    heartbeat: sweepBeat,
    finished: (seconds, ok) => metrics.sweepFinished(seconds, ok),
  });
  await sweeper.start(config.timing.sweepIntervalMs);
  logger.info(
    {
      port,
      store: config.store.url ? new URL(config.store.url).protocol : 'embedded',
      socketMode: Boolean(config.slack.appToken),
      version: version(),
    },
    'bot started',
  );

  let stopped = false;
  const idle = async () => {
    // Work in one service starts work in another (an approval starts sends, a send updates Slack): a few rounds.
    for (let round = 0; round < 3; round++) {
      await sweeper.idle();
      await services.idle();
    }
  };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    store,
    sends,
    deliveries,
    sync,
    sandbox,
    idle,
    async stop() {
      if (stopped) return; // stopping twice (a signal during shutdown, a test) is harmless
      stopped = true;
      sweeper.stop();
      slackAuth.stop();
      slack.socketMode?.stop();
      await slack.app.stop();
      await idle();
      await waping.close();
      await sandbox?.close();
      await store.close();
    },
  };
}
