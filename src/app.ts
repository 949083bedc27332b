import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type CustomRoute, HTTPReceiver, LogLevel, SocketModeReceiver } from '@slack/bolt';
import { type FetchFunction, WebClient } from '@slack/web-api';
import type { CountryCode } from 'libphonenumber-js';
import type { Logger as Pino } from 'pino';
import {
  answerUnreadableEvents,
  limitServer,
  SLACK_BODY_LIMIT_BYTES,
  serverOptions,
  slackRequestGuard,
} from './adapters/http/limits.js';
import { PrometheusMetrics } from './adapters/metrics/prometheus.js';
import { fetchReportingSlackErrors } from './adapters/slack/api-errors.js';
import { SlackAuth } from './adapters/slack/auth.js';
import { fetchNamingFailedCalls } from './adapters/slack/fetch-naming-calls.js';
import { SlackGroupDirectory } from './adapters/slack/group-directory.js';
import { SlackNotifier } from './adapters/slack/notifier.js';
import { registerListeners } from './adapters/slack/register.js';
import { slackOnlyFetch, slackUrlPolicy } from './adapters/slack/slack-urls.js';
import { SocketModeConnection } from './adapters/slack/socket-mode.js';
import { createStore } from './adapters/store/create-store.js';
import { WapingClient } from './adapters/waping/client.js';
import { webhookHandler } from './adapters/waping/webhook-route.js';
import type { Config } from './config.js';
import { type ApprovalPolicy, ApprovalService } from './core/approvals.js';
import { DeliveryService } from './core/deliveries.js';
import { DeviceHealth } from './core/device-health.js';
import { DeviceDirectory } from './core/devices.js';
import { MessageSync } from './core/message-sync.js';
import { type Clock, type Store, systemClock, type Telemetry } from './core/ports.js';
import { defaultSendPolicy, type SendPolicy, SendService } from './core/sends.js';
import { boltLogger, createLogger } from './logger.js';
import { Heartbeat, Readiness, storeCheck } from './readiness.js';
import { createWapingSandbox, type WapingSandbox } from './sandbox/waping-sandbox.js';
import { version } from './version.js';

/** What tests and embedders may replace; production uses the defaults. */
export interface BotOverrides {
  logger?: Pino;
  clock?: Clock;
  instanceId?: string;
  storeNamespace?: string;
  sendPolicy?: Partial<SendPolicy>;
  /** How many webhook events for unknown messages may be parked (default PARKED_EVENTS_CAP). */
  parkedEventsCap?: number;
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

/** WAPing: the real API, or the built-in sandbox (which then signs its webhooks with our secret). */
async function connectWaping(config: Readonly<Config>, logger: Pino, telemetry: Telemetry) {
  if (!config.waping.sandbox) {
    const waping = new WapingClient({
      baseUrl: config.waping.apiUrl as string,
      apiKey: config.waping.apiKey as string,
      timeoutMs: config.waping.timeoutMs,
      telemetry,
    });
    return { waping, webhookSecrets: config.waping.webhookSecrets, sandbox: undefined };
  }
  const webhookSecrets = config.waping.webhookSecrets.length
    ? config.waping.webhookSecrets
    : [`whsec_${randomBytes(24).toString('base64')}`];
  const apiKey = randomUUID();
  const sandbox = createWapingSandbox({ apiKey, webhookSecret: webhookSecrets[0] });
  await sandbox.listen(0);
  logger.warn(
    { sandboxUrl: sandbox.url },
    'WAPING_SANDBOX=true: messages go to the built-in simulator, not to WhatsApp',
  );
  const waping = new WapingClient({ baseUrl: sandbox.url, apiKey, timeoutMs: config.waping.timeoutMs, telemetry });
  return { waping, webhookSecrets, sandbox };
}

/** The approval rules of CONFIG_FILE, in the core's terms. */
function approvalPolicyOf(config: Readonly<Config>): ApprovalPolicy {
  const { file } = config;
  const devices = Object.fromEntries(file.devices.flatMap((d) => (d.approval ? [[d.id, d.approval]] : [])));
  const channels = Object.fromEntries(
    Object.entries(file.channels).flatMap(([id, c]) => (c.approval ? [[id, c.approval]] : [])),
  );
  return {
    devices,
    channels,
    teamSends: file.approval.teamSends,
    maxRecipients: file.maxRecipients,
    maxRecipientsWithoutApproval: file.maxRecipientsWithoutApproval,
    expiresAfterMs: file.approval.expiresAfter,
  };
}

/** The composition root: builds the store, WAPing, Slack and core services from the config, wires them, starts. */
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

  // The webhook route is built before the Bolt app that hosts it; the service it feeds comes after.
  let deliveries: DeliveryService | undefined;
  // Readiness: the store answers, Slack took the token (and, in Socket Mode, the socket is open), the sweep runs.
  const sweepBeat = new Heartbeat(clock, Math.max(3 * config.timing.sweepIntervalMs, 60_000), 'sweep');
  const readiness = new Readiness(
    {
      store: storeCheck(store),
      slack: () => slackAuth.problem() ?? socketMode?.problem(),
      sweep: sweepBeat.check,
    },
    version(),
  );
  const routes: CustomRoute[] = [
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true }));
      },
    },
    { path: '/readyz', method: ['GET'], handler: readiness.handler() },
    {
      path: '/waping/webhooks',
      method: ['POST'],
      handler: webhookHandler({
        secrets: webhookSecrets,
        clock,
        logger,
        telemetry: metrics,
        deliveries: {
          record: (id, event) => (deliveries as DeliveryService).record(id, event),
          applyInBackground: (id) => deliveries?.applyInBackground(id),
        },
      }),
    },
    { path: '/metrics', method: ['GET'], handler: metrics.handler() },
  ];
  const slackLogger = boltLogger(logger);
  const isSlackUrl = slackUrlPolicy(config.slack.apiUrl);
  // Bounded Slack calls: the client's default retries a failing call for ~30 minutes, which would hold
  // a send's lease and the sweep hostage to a Slack outage. Work left undone is resumed by the sweep.
  const clientOptions = {
    slackApiUrl: config.slack.apiUrl,
    logger: slackLogger,
    logLevel: LogLevel.INFO,
    timeout: 10_000,
    retryConfig: { retries: 4, factor: 2, minTimeout: 500, maxTimeout: 8_000, maxRetryTime: 45_000 },
    // Bolt's respond() shares this fetch: a response_url outside Slack is never followed; a failed call's error
    // names its method and host; failed Web API calls are counted by method for /metrics.
    fetch: fetchReportingSlackErrors(
      metrics,
      fetchNamingFailedCalls(slackOnlyFetch(isSlackUrl) as unknown as FetchFunction),
    ),
  };
  // Our own authorize instead of `token`: Bolt's keeps a failed auth.test for good (see SlackAuth).
  // Both receivers' HTTP servers get the bounds of adapters/http/limits.ts: time-outs, a connection cap and, on
  // /slack/events, a body limit and checks Bolt lacks (see slackRequestGuard).
  const slackAuth = new SlackAuth({ token: config.slack.botToken, clientOptions, logger });
  let receiver: SocketModeReceiver | HTTPReceiver;
  if (config.slack.appToken) {
    receiver = new SocketModeReceiver({
      appToken: config.slack.appToken,
      customRoutes: routes,
      installerOptions: { port: config.port, clientOptions },
      logger: slackLogger,
    });
    // Bolt keeps the custom-route server private; it exists (and is bounded here) before it listens.
    const routeServer = (receiver as unknown as { httpServer?: Server }).httpServer;
    if (routeServer) limitServer(routeServer);
  } else {
    const httpReceiver = new HTTPReceiver({
      signingSecret: config.slack.signingSecret as string,
      customRoutes: routes,
      logger: slackLogger,
      bodyLimit: SLACK_BODY_LIMIT_BYTES,
      processEventErrorHandler: answerUnreadableEvents(logger),
    });
    httpReceiver.requestListener = slackRequestGuard({
      next: httpReceiver.requestListener,
      signingSecret: config.slack.signingSecret as string,
      clock,
      logger,
    });
    receiver = httpReceiver;
  }
  const app = new App({ authorize: slackAuth.authorize, receiver, logger: slackLogger, clientOptions });
  // With `authorize`, Bolt's public client has no token; the notifier and the group directory post as the bot.
  app.client = new WebClient(config.slack.botToken, clientOptions);
  const socketMode =
    receiver instanceof SocketModeReceiver ? new SocketModeConnection(receiver, () => app.start(), logger) : undefined;

  const notifier = new SlackNotifier(app.client, logger, config.opsChannel, isSlackUrl);
  const sync = new MessageSync({ store, notifier, clock, logger, instanceId, lockMs: 2 * 60_000 });
  let devices: DeviceDirectory | undefined;
  const health = new DeviceHealth({
    store,
    notifier,
    clock,
    logger,
    nameOf: async (id) => (await devices?.find(id))?.name ?? id,
    onChange: () => devices?.invalidate(),
    telemetry: metrics,
  });
  devices = new DeviceDirectory(
    waping,
    clock,
    {
      configured: config.file.devices,
      defaultDeviceId: config.file.defaultDevice,
      cacheMs: config.timing.deviceCacheMs,
    },
    logger,
    health,
  );
  deliveries = new DeliveryService({
    store,
    sync,
    health,
    clock,
    logger,
    replyMode: (channelId) =>
      (Object.hasOwn(config.file.channels, channelId) ? config.file.channels[channelId]?.statusReplies : undefined) ??
      config.file.statusReplies,
    parkedEventsCap: overrides.parkedEventsCap,
    telemetry: metrics,
  });
  const sends = new SendService({
    store,
    waping,
    notifier,
    sync,
    clock,
    logger,
    instanceId,
    policy: { ...defaultSendPolicy, leaseMs: config.timing.sendLeaseMs, ...overrides.sendPolicy },
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
    onMessageKnown: (messageId) => (deliveries as DeliveryService).onMessageKnown(messageId),
    telemetry: metrics,
  });
  const groups = new SlackGroupDirectory(app.client, logger);
  const approvals = new ApprovalService({ store, sends, sync, notifier, groups, clock, logger, telemetry: metrics });
  const directory = devices;
  metrics.observe({
    backlog: () => sends.backlog(),
    pendingApprovals: () => approvals.pendingApprovals(),
    devices: () => directory.list(),
    now: () => clock.now(),
  });
  registerListeners(app, {
    sends,
    approvals,
    approvalPolicy: approvalPolicyOf(config),
    devices,
    notifier,
    access: config.file.access,
    groups,
    defaultCountry: config.defaultCountry as CountryCode | undefined,
    logger,
    storeProblem: () => readiness.check('store'),
  });

  // Neither waits for Slack: both keep trying in the background, and /readyz says when they succeeded.
  void slackAuth.start();
  void socketMode?.start();
  const server = socketMode ? undefined : ((await app.start(config.port, serverOptions())) as Server);
  if (server) limitServer(server);
  const port = server ? (server.address() as AddressInfo).port : config.port;
  sandbox?.setWebhookUrl(`http://127.0.0.1:${port}/waping/webhooks`);

  // The sweep: sends whose owner died, webhooks recorded but not applied, Slack messages left behind.
  const sweep = async () => {
    const started = performance.now();
    let ok = true;
    try {
      const resumed = await sends.resumeStale();
      const reapplied = await (deliveries as DeliveryService).resumeInbox();
      const behind = await sync.resumeBehind();
      const groupsMoved = await approvals.sweep();
      if (resumed + reapplied + behind + groupsMoved > 0) {
        logger.info({ resumed, reapplied, behind, groupsMoved }, 'sweep resumed work');
      }
    } catch (error) {
      ok = false;
      logger.error({ err: error }, 'sweep failed; trying again at the next interval');
    } finally {
      metrics.sweepFinished((performance.now() - started) / 1000, ok);
    }
  };
  let sweeping: Promise<void> | undefined;
  const tick = () => {
    // Never two sweeps at once in one process; a slow sweep makes the next tick skip.
    sweeping ??= sweep().finally(() => {
      sweeping = undefined;
      sweepBeat.beat();
    });
    return sweeping;
  };
  await tick();
  const sweeper = setInterval(tick, config.timing.sweepIntervalMs);
  sweeper.unref();
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
    for (let round = 0; round < 3; round++) {
      await sweeping;
      await approvals.idle();
      await sends.idle();
      await (deliveries as DeliveryService).idle();
      await sync.idle();
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
      clearInterval(sweeper);
      slackAuth.stop();
      socketMode?.stop();
      await app.stop();
      await idle();
      await waping.close();
      await sandbox?.close();
      await store.close();
    },
  };
}
