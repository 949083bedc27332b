import type { CustomRoute } from '@slack/bolt';
import type { PrometheusMetrics } from '../adapters/metrics/prometheus.js';
import { webhookHandler } from '../adapters/waping/webhook-route.js';
import type { DeliveryService } from '../core/deliveries.js';
import type { Clock, Logger } from '../core/ports.js';
import type { Readiness } from '../readiness.js';

/** The HTTP routes the bot serves beside Slack's: liveness, readiness, WAPing's webhooks and metrics. */
export function httpRoutes(parts: {
  readiness: Readiness;
  metrics: PrometheusMetrics;
  deliveries: DeliveryService;
  webhookSecrets: string[];
  clock: Clock;
  logger: Logger;
}): CustomRoute[] {
  const { readiness, metrics, deliveries, webhookSecrets, clock, logger } = parts;
  return [
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
      handler: webhookHandler({ secrets: webhookSecrets, clock, logger, telemetry: metrics, deliveries }),
    },
    { path: '/metrics', method: ['GET'], handler: metrics.handler() },
  ];
}
