import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { SEND_STEP_CALLBACK_ID, stepInputsSchema } from '../src/adapters/slack/functions/send-whatsapp-step.js';

/*
 * The workflow step as manifest.yml declares it, held to the rules of Slack's manifest schema (version 2, which
 * declares a function's parameters as `properties` and `required`) for the parts custom steps need, and to the code:
 * the inputs the listener reads and the outputs it completes with.
 */

const MANIFEST = parse(readFileSync(join(import.meta.dirname, '..', 'manifest.yml'), 'utf8'));

/** Slack's types a parameter may have here: primitives, and the Slack types this step uses. */
const parameter = z
  .object({
    type: z.enum(['string', 'integer', 'number', 'boolean', 'slack#/types/user_id', 'slack#/types/channel_id']),
    title: z.string().min(1),
    description: z.string().min(1),
    hint: z.string().min(1).optional(),
  })
  .strict();

const parameters = z
  .object({ properties: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), parameter), required: z.array(z.string()) })
  .strict()
  .refine((p) => p.required.every((name) => Object.hasOwn(p.properties, name)), 'a required parameter is not declared');

const functionSchema = z
  .object({
    title: z.string().min(1),
    description: z.string().min(1),
    input_parameters: parameters,
    output_parameters: parameters,
  })
  .strict();

const manifestSchema = z.object({
  _metadata: z.object({ major_version: z.literal(2), minor_version: z.number().int().min(0) }).strict(),
  settings: z.object({
    // Slack requires org-ready apps for custom steps, run by the app itself (not on Slack's infrastructure).
    org_deploy_enabled: z.literal(true),
    function_runtime: z.literal('remote'),
    event_subscriptions: z.object({ request_url: z.url(), bot_events: z.array(z.string()) }).strict(),
    interactivity: z.object({ is_enabled: z.literal(true), request_url: z.url() }).strict(),
  }),
  functions: z.record(z.string(), functionSchema),
});

describe('the workflow step in manifest.yml', () => {
  const manifest = manifestSchema.parse(MANIFEST);
  const step = manifest.functions[SEND_STEP_CALLBACK_ID];

  it('declares the step under the callback id the listener answers, with function_executed subscribed', () => {
    expect(Object.keys(manifest.functions)).toEqual([SEND_STEP_CALLBACK_ID]);
    expect(manifest.settings.event_subscriptions.bot_events).toContain('function_executed');
    // Events and interactions reach the same endpoint.
    expect(manifest.settings.event_subscriptions.request_url).toBe(manifest.settings.interactivity.request_url);
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
  });

  it('refuses what Slack refuses: an undeclared required parameter, an unknown key, no org-ready opt-in', () => {
    const broken = structuredClone(MANIFEST);
    broken.functions[SEND_STEP_CALLBACK_ID].input_parameters.required.push('nowhere');
    expect(manifestSchema.safeParse(broken).success).toBe(false);
    const unknownKey = structuredClone(MANIFEST);
    unknownKey.functions[SEND_STEP_CALLBACK_ID].inputs = {};
    expect(manifestSchema.safeParse(unknownKey).success).toBe(false);
    const notOrgReady = structuredClone(MANIFEST);
    notOrgReady.settings.org_deploy_enabled = false;
    expect(manifestSchema.safeParse(notOrgReady).success).toBe(false);
  });
});
