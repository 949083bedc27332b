import type { CustomRoute } from '@slack/bolt';
import { type MediaRouteDeps, mediaHandler } from '../adapters/http/media-route.js';
import type { PrometheusMetrics } from '../adapters/metrics/prometheus.js';
import { webhookHandler } from '../adapters/waping/webhook-route.js';
import type { Conversations } from '../core/conversations.js';
import type { DeliveryService } from '../core/deliveries.js';
import type { Clock, Logger } from '../core/ports.js';
import type { Readiness } from '../readiness.js';
import type { WapingSandbox } from '../sandbox/waping-sandbox.js';

/**
 * The HTTP routes the bot serves beside Slack's: liveness, readiness, WAPing's webhooks and metrics; and, in
 * with PUBLIC_URL, `/media/<token>` (attached files for WAPing); in sandbox mode only, `/sandbox/inbound`, where the sandbox's customer sends any message.
 */
export function httpRoutes(parts: {
  readiness: Readiness;
  metrics: PrometheusMetrics;
  deliveries: DeliveryService;
  conversations: Conversations;
  sandbox?: WapingSandbox;
  webhookSecrets: string[];
  clock: Clock;
  logger: Logger;
  /** Serves attached files to WAPing (`GET /media/<token>`); given only with PUBLIC_URL. */
  media?: Omit<MediaRouteDeps, 'clock' | 'logger'>;
}): CustomRoute[] {
  const { readiness, metrics, deliveries, conversations, sandbox, webhookSecrets, clock, logger, media } = parts;
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
        deliveries,
        inbound: conversations,
      }),
    },
    { path: '/metrics', method: ['GET'], handler: metrics.handler() },
  ];
  if (media) {
    routes.push({ path: '/media/:token', method: ['GET'], handler: mediaHandler({ ...media, clock, logger }) });
  }
  if (sandbox) {
    const { customer } = sandbox;
    routes.push({ path: '/sandbox/inbound', method: ['POST'], handler: (req, res) => customer.handle(req, res) });
  }
  return routes;
}
