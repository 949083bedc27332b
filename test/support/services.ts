import { cannotShowInFull } from '../../src/adapters/slack/blocks/approval-modal.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { StepEnd, WorkflowStepPort } from '../../src/core/step-completions.js';
import { noTelemetry } from '../../src/core/telemetry.js';
import { type ServiceParts, type Services, wireServices } from '../../src/wiring/services.js';
import { quietLogger, RecordingConversationNotifier } from './fakes.js';

/** The configuration of a bot with no CONFIG_FILE (every default, and `env` on top), as the core services read it. */
export function defaultConfig(env: Record<string, string> = {}): Readonly<Config> {
  return loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-unit-test',
    SLACK_SIGNING_SECRET: 'unit-test',
    WAPING_SANDBOX: 'true',
    ...env,
  });
}

/** The parts a test must give; the rest default to a bot with no CONFIG_FILE, quiet, without metrics. */
export type TestServiceParts = Pick<ServiceParts, 'store' | 'waping' | 'notifier' | 'clock'> & Partial<ServiceParts>;

/**
 * The core services of one replica, built exactly as the bot builds them (`wireServices`, which `startBot` calls),
 * over the test's store, WAPing, Slack side (customers' messages recorded unless given) and clock (and Slack's own limits on what it can show in full).
 */
export function wireTestServices(parts: TestServiceParts): Services {
  return wireServices({
    config: defaultConfig(),
    userGroups: { membersOf: async () => [] },
    // No Home is open in these suites: nothing is shown (the e2e suites publish real ones to the Slack fake).
    homeSurface: { show: async () => {} },
    logger: quietLogger(),
    telemetry: noTelemetry,
    instanceId: 'bot-1',
    workflowSteps: new RecordingStepPort(),
    ...parts,
    conversationNotifier: parts.conversationNotifier ?? new RecordingConversationNotifier(),
    cannotShowInFull: parts.cannotShowInFull ?? cannotShowInFull,
  });
}

/** A workflow step port that records each completion, as the platform would be told it. */
export class RecordingStepPort implements WorkflowStepPort {
  readonly completed: Array<{ executionId: string; end: StepEnd }> = [];

  async complete(executionId: string, end: StepEnd): Promise<void> {
    this.completed.push({ executionId, end });
  }
}
