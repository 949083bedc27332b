import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { SEND_STEP_CALLBACK_ID, stepInputsSchema } from '../src/adapters/slack/functions/send-whatsapp-step.js';

/*
 * The workflow step as manifest.yml declares it (Slack's manifest schema is checked in manifest.test.ts), held to
 * what custom steps need and to the code: the inputs the listener reads and the outputs it completes with.
 */

const MANIFEST = parse(readFileSync(join(import.meta.dirname, '..', 'manifest.yml'), 'utf8'));

/** The parts read below, as they must be for a custom step (Slack's own rules are in manifest.test.ts). */
const parameters = z.object({
  properties: z.record(z.string(), z.object({ type: z.string() })),
  required: z.array(z.string()),
});

const manifestSchema = z.object({
  settings: z.object({
    // Slack requires org-ready apps for custom steps, run by the app itself (not on Slack's infrastructure).
    org_deploy_enabled: z.literal(true),
    function_runtime: z.literal('remote'),
    event_subscriptions: z.object({ bot_events: z.array(z.string()) }),
  }),
  functions: z.record(z.string(), z.object({ input_parameters: parameters, output_parameters: parameters })),
});

describe('the workflow step in manifest.yml', () => {
  const manifest = manifestSchema.parse(MANIFEST);
  const step = manifest.functions[SEND_STEP_CALLBACK_ID];

  it('declares the step under the callback id the listener answers, with function_executed subscribed', () => {
    expect(Object.keys(manifest.functions)).toEqual([SEND_STEP_CALLBACK_ID]);
    expect(manifest.settings.event_subscriptions.bot_events).toContain('function_executed');
  });

  it('declares exactly the inputs the listener reads, required where the listener needs them', () => {
    const read = stepInputsSchema.shape;
    expect(Object.keys(step?.input_parameters.properties ?? {}).sort()).toEqual(Object.keys(read).sort());
    const needed = Object.entries(read)
      .filter(([, schema]) => !schema.safeParse(undefined).success)
      .map(([name]) => name);
    expect([...(step?.input_parameters.required ?? [])].sort()).toEqual(needed.sort());
    expect(step?.input_parameters.properties.sent_by?.type).toBe('slack#/types/user_id');
    expect(step?.input_parameters.properties.channel?.type).toBe('slack#/types/channel_id');
  });

  it('declares the outputs the step completes with: the WAPing message id and the status', () => {
    expect(step?.output_parameters.required.sort()).toEqual(['message_id', 'status']);
    expect(Object.keys(step?.output_parameters.properties ?? {}).sort()).toEqual(['message_id', 'status']);
  });

  it('needs what custom steps need: every required parameter declared, the org-ready opt-in, the remote runtime', () => {
    const required = [...(step?.input_parameters.required ?? []), ...(step?.output_parameters.required ?? [])];
    const declared = { ...step?.input_parameters.properties, ...step?.output_parameters.properties };
    expect(required.filter((name) => !Object.hasOwn(declared, name))).toEqual([]);
    const notOrgReady = structuredClone(MANIFEST);
    notOrgReady.settings.org_deploy_enabled = false;
    expect(manifestSchema.safeParse(notOrgReady).success).toBe(false);
  });
});
