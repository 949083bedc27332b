import type { Server } from 'node:http';
import { App, type CustomRoute, HTTPReceiver, LogLevel, SocketModeReceiver } from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { Logger as Pino } from 'pino';
import { exactRoutes } from '../adapters/http/exact-routes.js';
import {
  answerUnreadableEvents,
  limitServer,
  SLACK_BODY_LIMIT_BYTES,
  slackRequestGuard,
} from '../adapters/http/limits.js';
import type { PrometheusMetrics } from '../adapters/metrics/prometheus.js';
import { fetchReportingSlackErrors } from '../adapters/slack/api-errors.js';
import type { SlackAuth } from '../adapters/slack/auth.js';
import { bufferedFetch } from '../adapters/slack/buffered-fetch.js';
import { fetchNamingFailedCalls } from '../adapters/slack/fetch-naming-calls.js';
import { slackOnlyFetch, slackUrlPolicy } from '../adapters/slack/slack-urls.js';
import { SocketModeConnection } from '../adapters/slack/socket-mode.js';
import type { Config } from '../config.js';
import type { Clock } from '../core/ports.js';
import { boltLogger } from '../logger.js';

/** How the bot talks to Slack's Web API: one set of options, and the client the bot posts with. */
export interface SlackWebApi {
  clientOptions: WebClientOptions;
  /** The bot token's client: the notifier, the group directory and Bolt's `app.client` share it. */
  client: WebClient;
  /** Which URLs are Slack's: a response_url anywhere else is never followed. */
  isSlackUrl: (url: string) => boolean;
}

/**
 * Bounded Slack calls: the client's default retries a failing call for ~30 minutes, which would hold a send's
 * lease and the sweep hostage to a Slack outage. Work left undone is resumed by the sweep.
 */
export function slackWebApi(config: Readonly<Config>, metrics: PrometheusMetrics, logger: Pino): SlackWebApi {
  const isSlackUrl = slackUrlPolicy(config.slack.apiUrl);
  const clientOptions: WebClientOptions = {
    slackApiUrl: config.slack.apiUrl,
    logger: boltLogger(logger),
    logLevel: LogLevel.INFO,
    // Each call is bounded to 10 s by bufferedFetch below (the WebClient's own `timeout` costs a timer per call).
    timeout: 0,
    retryConfig: { retries: 4, factor: 2, minTimeout: 500, maxTimeout: 8_000, maxRetryTime: 45_000 },
    // Bolt's respond() shares this fetch: a response_url outside Slack is never followed; a failed call's error
    // names its method and host; failed Web API calls are counted by method for /metrics. Answers are read whole
    // (bufferedFetch: Slack's are small JSON), without the global fetch's stream machinery.
    fetch: fetchReportingSlackErrors(
      metrics,
      fetchNamingFailedCalls(slackOnlyFetch(isSlackUrl, bufferedFetch({ timeoutMs: 10_000 }))),
    ),
  };
  return { clientOptions, client: new WebClient(config.slack.botToken, clientOptions), isSlackUrl };
}

export interface SlackApp {
  app: App;
  /** In Socket Mode, the connection kept open in the background; undefined over HTTP. */
  socketMode?: SocketModeConnection;
}

/**
 * The Bolt app and its receiver: Socket Mode when an app token is configured, else HTTP. Both receivers' servers
 * get the bounds of adapters/http/limits.ts: time-outs, a connection cap and, on /slack/events, a body limit and
 * checks Bolt lacks (see slackRequestGuard). Our own authorize replaces `token`: Bolt's keeps a failed auth.test
 * for good (see SlackAuth).
 */
export function createSlackApp(parts: {
  config: Readonly<Config>;
  web: SlackWebApi;
  auth: SlackAuth;
  routes: CustomRoute[];
  clock: Clock;
  logger: Pino;
}): SlackApp {
  const { config, web, routes, clock, logger } = parts;
  const slackLogger = boltLogger(logger);
  let receiver: SocketModeReceiver | HTTPReceiver;
  if (config.slack.appToken) {
    receiver = new SocketModeReceiver({
      appToken: config.slack.appToken,
      customRoutes: routes,
      installerOptions: { port: config.port, clientOptions: web.clientOptions },
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
    // Fixed-path routes are served by a look-up before Bolt (see exactRoutes); Slack's endpoint passes the guard.
    const guarded = slackRequestGuard({
      next: httpReceiver.requestListener,
      signingSecret: config.slack.signingSecret as string,
      clock,
      logger,
    });
    httpReceiver.requestListener = exactRoutes(routes, guarded);
    receiver = httpReceiver;
  }
  const app = new App({
    authorize: parts.auth.authorize,
    receiver,
    logger: slackLogger,
    clientOptions: web.clientOptions,
  });
  // With `authorize`, Bolt's public client has no token; the bot's own client posts as the bot.
  app.client = web.client;
  const socketMode =
    receiver instanceof SocketModeReceiver ? new SocketModeConnection(receiver, () => app.start(), logger) : undefined;
  return { app, socketMode };
}
