import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { InboundOutcome } from '../../core/inbound.js';
import type { Device, Logger, Telemetry, WapingRequestOutcome, WebhookResult } from '../../core/ports.js';
import { withDeadline } from '../../deadline.js';

/** What a scrape reads from the shared state, so that every replica reports the same truth. */
export interface ObservedState {
  /** Sends WAPing has not answered for good, and when the oldest was claimed (ms). */
  backlog(): Promise<{ pending: number; oldestCreatedAt?: number }>;
  /** Approval requests waiting for a decision. */
  pendingApprovals(): Promise<number>;
  /** The devices offered, with their session state. */
  devices(): Promise<Device[]>;
  /** Now, in ms, on the clock the records were stamped with. */
  now(): number;
}

/** A scrape never waits longer than this for the store or WAPing's device list. */
const STATE_READ_TIMEOUT_MS = 5_000;

/**
 * The bot's metrics in Prometheus' text format (`GET /metrics`): Node's process defaults, counters
 * and histograms fed through the Telemetry port, and gauges read from the store at scrape time.
 * One Registry per bot, so that several bots in one process (tests) keep apart. Labels hold only
 * fixed words, Slack method names and error codes, and WAPing event types the bot knows.
 */
export class PrometheusMetrics implements Telemetry {
  readonly registry = new Registry();
  private state?: ObservedState;

  private readonly sends = new Counter({
    name: 'waping_bot_sends_total',
    help: 'Sends settled for good, by outcome: accepted by WAPing, or failed',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly wapingRequests = new Histogram({
    name: 'waping_bot_waping_request_duration_seconds',
    help: 'Duration of each HTTP exchange with WAPing, by operation and outcome',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly webhooks = new Counter({
    name: 'waping_bot_webhook_events_total',
    help: 'WAPing webhook deliveries answered, by event type and result',
    labelNames: ['type', 'result'] as const,
    registers: [this.registry],
  });
  private readonly approvalsRequested = new Counter({
    name: 'waping_bot_approvals_requested_total',
    help: 'Sends held for approval',
    registers: [this.registry],
  });
  private readonly approvalsDecided = new Counter({
    name: 'waping_bot_approvals_decided_total',
    help: 'Approval requests that reached an outcome, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly sessionChanges = new Counter({
    name: 'waping_bot_device_session_changes_total',
    help: 'Device session changes (a device disconnected or connected again), by the new state',
    labelNames: ['session'] as const,
    registers: [this.registry],
  });
  private readonly slackErrors = new Counter({
    name: 'waping_bot_slack_api_errors_total',
    help: 'Failed Slack Web API calls (each HTTP attempt), by method and error code',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
  });
  private readonly parkedDropped = new Counter({
    name: 'waping_bot_webhook_parked_dropped_total',
    help: 'Webhook events for unknown messages dropped unapplied because more than the cap were parked',
    registers: [this.registry],
  });
  private readonly inbound = new Counter({
    name: 'waping_bot_inbound_messages_total',
    help: "Customers' messages received, by outcome: posted in a send's thread or the inbox, a redelivery, or posted nowhere",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly sweeps = new Histogram({
    name: 'waping_bot_sweep_duration_seconds',
    help: 'Duration of each recovery sweep, by result',
    labelNames: ['result'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60],
    registers: [this.registry],
  });
  private readonly lastSweep = new Gauge({
    name: 'waping_bot_sweep_last_success_timestamp_seconds',
    help: 'When the last sweep that did not fail ended (Unix seconds)',
    registers: [this.registry],
  });
  private readonly pendingSends = new Gauge({
    name: 'waping_bot_pending_sends',
    help: 'Sends WAPing has not answered for good yet (the outbox), read from the store when scraped',
    registers: [this.registry],
  });
  private readonly oldestPending = new Gauge({
    name: 'waping_bot_oldest_pending_send_age_seconds',
    help: 'Age of the oldest pending send (0 when none), read from the store when scraped',
    registers: [this.registry],
  });
  private readonly approvalsPending = new Gauge({
    name: 'waping_bot_approvals_pending',
    help: 'Approval requests waiting for a decision, read from the store when scraped',
    registers: [this.registry],
  });
  private readonly devices = new Gauge({
    name: 'waping_bot_devices',
    help: 'Devices offered, by session state (unknown: WAPing could not be asked), read when scraped',
    labelNames: ['session'] as const,
    registers: [this.registry],
  });
  private readonly stateReadable = new Gauge({
    name: 'waping_bot_state_read_ok',
    help: '1 when this scrape could read the state gauges from the store, 0 when they are missing',
    registers: [this.registry],
  });

  constructor(private readonly logger: Logger) {
    collectDefaultMetrics({ register: this.registry });
    // Known label values start at 0, so that rate() and alerts see a series from the first scrape.
    for (const outcome of ['accepted', 'failed']) this.sends.inc({ outcome }, 0);
    for (const outcome of ['approved', 'rejected', 'cancelled', 'expired']) this.approvalsDecided.inc({ outcome }, 0);
    for (const session of ['connected', 'disconnected']) this.sessionChanges.inc({ session }, 0);
    this.approvalsRequested.inc(0);
  }

  /** Where the scrape-time gauges come from; set once the services exist. */
  observe(state: ObservedState): void {
    this.state = state;
  }

  sendSettled(outcome: 'accepted' | 'failed'): void {
    this.sends.inc({ outcome });
  }

  wapingRequest(operation: 'send' | 'list_devices', outcome: WapingRequestOutcome, seconds: number): void {
    this.wapingRequests.observe({ operation, outcome }, seconds);
  }

  webhookReceived(type: string, result: WebhookResult): void {
    this.webhooks.inc({ type, result });
  }

  approvalRequested(): void {
    this.approvalsRequested.inc();
  }

  approvalDecided(outcome: 'approved' | 'rejected' | 'cancelled' | 'expired'): void {
    this.approvalsDecided.inc({ outcome });
  }

  deviceSessionChanged(connected: boolean): void {
    this.sessionChanges.inc({ session: connected ? 'connected' : 'disconnected' });
  }

  slackApiError(method: string, code: string): void {
    this.slackErrors.inc({ method, code });
  }

  sweepFinished(seconds: number, ok: boolean): void {
    this.sweeps.observe({ result: ok ? 'ok' : 'failed' }, seconds);
    if (ok) this.lastSweep.setToCurrentTime();
  }

  parkedEventDropped(): void {
    this.parkedDropped.inc();
  }

  inboundMessage(outcome: InboundOutcome): void {
    this.inbound.inc({ outcome });
  }

  /** The exposition text, with the state gauges read now. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    await this.readState();
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /** `GET /metrics` for the bot's HTTP server. */
  handler() {
    return async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
      try {
        const { contentType, text } = await this.scrape();
        res.writeHead(200, { 'content-type': contentType });
        res.end(text);
      } catch (error) {
        this.logger.error({ err: error }, 'metrics could not be collected');
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('metrics could not be collected\n');
      }
    };
  }

  private stateGauges(): Array<{ name: string; metric: Gauge }> {
    return [
      { name: 'waping_bot_pending_sends', metric: this.pendingSends },
      { name: 'waping_bot_oldest_pending_send_age_seconds', metric: this.oldestPending },
      { name: 'waping_bot_approvals_pending', metric: this.approvalsPending },
      { name: 'waping_bot_devices', metric: this.devices as Gauge },
    ];
  }

  /**
   * Set the gauges that come from shared state. When the store (or the device list) cannot be read in
   * time, they are left out of this scrape rather than reporting stale numbers.
   */
  private async readState(): Promise<void> {
    const state = this.state;
    if (!state) return;
    try {
      const [backlog, approvals, devices] = await withDeadline(
        Promise.all([state.backlog(), state.pendingApprovals(), state.devices()]),
        STATE_READ_TIMEOUT_MS,
        () => new Error(`state not read within ${STATE_READ_TIMEOUT_MS} ms`),
      );
      this.pendingSends.set(backlog.pending);
      const oldestAgeMs = backlog.oldestCreatedAt === undefined ? 0 : state.now() - backlog.oldestCreatedAt;
      this.oldestPending.set(Math.max(0, oldestAgeMs) / 1000);
      this.approvalsPending.set(approvals);
      const bySession = { connected: 0, disconnected: 0, unknown: 0 };
      for (const device of devices) {
        bySession[device.known === false ? 'unknown' : device.connected ? 'connected' : 'disconnected']++;
      }
      for (const [session, count] of Object.entries(bySession)) this.devices.set({ session }, count);
      for (const gauge of this.stateGauges()) {
        if (!this.registry.getSingleMetric(gauge.name)) this.registry.registerMetric(gauge.metric);
      }
      this.stateReadable.set(1);
    } catch (error) {
      this.logger.warn({ err: error }, 'metrics: the state gauges could not be read; leaving them out of this scrape');
      // Unregistered rather than reset: a reset gauge without labels would report 0, which is not known.
      for (const gauge of this.stateGauges()) this.registry.removeSingleMetric(gauge.name);
      this.stateReadable.set(0);
    }
  }
}
