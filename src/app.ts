import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { App, type CustomRoute, HTTPReceiver, LogLevel } from '@slack/bolt';
import type { CountryCode } from 'libphonenumber-js';
import type { Logger as Pino } from 'pino';
import { SlackGroupDirectory } from './adapters/slack/group-directory.js';
import { SlackNotifier } from './adapters/slack/notifier.js';
import { registerListeners } from './adapters/slack/register.js';
import { createStore } from './adapters/store/create-store.js';
import { WapingClient } from './adapters/waping/client.js';
import type { Config } from './config.js';
import { DeviceDirectory } from './core/devices.js';
import { type Clock, type Store, systemClock } from './core/ports.js';
import { defaultSendPolicy, type SendPolicy, SendService } from './core/sends.js';
import { boltLogger, createLogger } from './logger.js';
import { createWapingSandbox, type WapingSandbox } from './sandbox/waping-sandbox.js';

/** What tests and embedders may replace; production uses the defaults. */
export interface BotOverrides {
  logger?: Pino;
  clock?: Clock;
  instanceId?: string;
  storeNamespace?: string;
  sendPolicy?: Partial<SendPolicy>;
}

export interface Bot {
  /** The bound HTTP port (useful with PORT=0). */
  port: number;
  url: string;
  store: Store;
  sends: SendService;
  sandbox?: WapingSandbox;
  stop(): Promise<void>;
}

/** The composition root: builds the store, WAPing, Slack and core services from the config, wires them, starts. */
export async function startBot(config: Readonly<Config>, overrides: BotOverrides = {}): Promise<Bot> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const instanceId = overrides.instanceId ?? randomUUID();
  const store = await createStore({
    url: config.store.url,
    dataDir: config.store.dataDir,
    namespace: overrides.storeNamespace,
    logger,
  });

  let sandbox: WapingSandbox | undefined;
  let waping: WapingClient;
  if (config.waping.sandbox) {
    sandbox = createWapingSandbox({ apiKey: 'sandbox-key', webhookSecret: config.waping.webhookSecrets[0] });
    await sandbox.listen(0);
    waping = new WapingClient({ baseUrl: sandbox.url, apiKey: 'sandbox-key', timeoutMs: config.waping.timeoutMs });
    logger.warn(
      { sandboxUrl: sandbox.url },
      'WAPING_SANDBOX=true: messages go to the built-in simulator, not to WhatsApp',
    );
  } else {
    waping = new WapingClient({
      baseUrl: config.waping.apiUrl as string,
      apiKey: config.waping.apiKey as string,
      timeoutMs: config.waping.timeoutMs,
    });
  }

  const healthRoute: CustomRoute = {
    path: '/healthz',
    method: ['GET'],
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true }));
    },
  };
  const customRoutes = [healthRoute];
  const slackLogger = boltLogger(logger);
  const clientOptions = { slackApiUrl: config.slack.apiUrl, logger: slackLogger, logLevel: LogLevel.INFO };
  const app = config.slack.appToken
    ? new App({
        token: config.slack.botToken,
        appToken: config.slack.appToken,
        socketMode: true,
        customRoutes,
        installerOptions: { port: config.port },
        logger: slackLogger,
        clientOptions,
      })
    : new App({
        token: config.slack.botToken,
        logger: slackLogger,
        clientOptions,
        receiver: new HTTPReceiver({
          signingSecret: config.slack.signingSecret as string,
          customRoutes,
          logger: slackLogger,
        }),
      });

  const notifier = new SlackNotifier(app.client, logger);
  const devices = new DeviceDirectory(
    waping,
    clock,
    {
      configured: config.file.devices,
      defaultDeviceId: config.file.defaultDevice,
      cacheMs: config.timing.deviceCacheMs,
    },
    logger,
  );
  const sends = new SendService({
    store,
    waping,
    notifier,
    clock,
    logger,
    instanceId,
    policy: { ...defaultSendPolicy, leaseMs: config.timing.sendLeaseMs, ...overrides.sendPolicy },
    onSessionDisconnected: async () => devices.invalidate(),
  });
  registerListeners(app, {
    sends,
    devices,
    notifier,
    access: config.file.access,
    groups: new SlackGroupDirectory(app.client, logger),
    defaultCountry: config.defaultCountry as CountryCode | undefined,
    logger,
  });

  const server = await app.start(config.port);
  const port = config.slack.appToken ? config.port : (server as { address(): AddressInfo }).address().port;
  const sweep = async () => {
    try {
      const resumed = await sends.resumeStale();
      if (resumed > 0) logger.info({ resumed }, 'resumed pending sends');
    } catch (error) {
      logger.error({ err: error }, 'outbox sweep failed; trying again at the next interval');
    }
  };
  await sweep();
  const sweeper = setInterval(sweep, config.timing.sweepIntervalMs);
  sweeper.unref();
  logger.info(
    {
      port,
      store: config.store.url ? new URL(config.store.url).protocol : 'embedded',
      socketMode: Boolean(config.slack.appToken),
    },
    'bot started',
  );

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    store,
    sends,
    sandbox,
    async stop() {
      clearInterval(sweeper);
      await app.stop();
      await sends.idle();
      await waping.close();
      await sandbox?.close();
      await store.close();
    },
  };
}
