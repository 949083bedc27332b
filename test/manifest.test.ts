import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { SEND_SHORTCUT, SEND_SHORTCUT_NAME } from '../src/adapters/slack/shortcuts/send-on-whatsapp.js';

/*
 * manifest.yml against Slack's app manifest schema: the parts of the published JSON schema (slackapi/manifest-schema,
 * manifest.schema.json; version 2, which `_metadata.major_version` selects, as custom steps' `functions` need) that
 * this manifest uses, written out as zod with the same rules: the same required keys, lengths, patterns and enums,
 * and no unknown key anywhere (the schema's `additionalProperties: false`), so a typo or a field Slack does not know
 * fails here rather than at "Create New App". The sections the manifest does not use (workflows, datastores,
 * app_directory, …) are left out, and so refused if they appear.
 */
const url = z
  .string()
  .regex(/^https?:\/\//)
  .max(3500);
const scope = z.string().max(50);

/** A function's input or output parameters: each named one has a type (other keys are Slack's to read). */
const functionParameters = z
  .object({
    properties: z
      .record(
        z.string(),
        z.looseObject({
          type: z.string(),
          title: z.string().optional(),
          description: z.string().optional(),
          is_required: z.boolean().optional(),
          is_hidden: z.boolean().optional(),
          hint: z.string().optional(),
        }),
      )
      .refine((properties) => Object.keys(properties).length <= 50, 'at most 50 parameters'),
    required: z.array(z.string()).optional(),
  })
  .strict();

const manifestSchema = z
  .object({
    _metadata: z
      .object({ major_version: z.number().int(), minor_version: z.number().int() })
      .partial()
      .strict()
      .optional(),
    display_information: z
      .object({
        name: z.string().min(1).max(35),
        description: z.string().min(1).max(140).optional(),
        background_color: z
          .string()
          .regex(/^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/)
          .optional(),
        long_description: z.string().min(175).max(4000).optional(),
      })
      .strict(),
    features: z
      .object({
        app_home: z
          .object({
            home_tab_enabled: z.boolean(),
            messages_tab_enabled: z.boolean(),
            messages_tab_read_only_enabled: z.boolean(),
          })
          .partial()
          .strict()
          .optional(),
        bot_user: z
          .object({ display_name: z.string().min(1).max(80), always_online: z.boolean().optional() })
          .strict()
          .optional(),
        shortcuts: z
          .array(
            z
              .object({
                name: z.string().min(1).max(24),
                type: z.enum(['message', 'global']),
                callback_id: z.string().min(1).max(255),
                description: z.string().min(1).max(150),
              })
              .strict(),
          )
          .min(1)
          .max(10)
          .optional(),
        slash_commands: z
          .array(
            z
              .object({
                command: z.string().min(2).max(32).regex(/^\//),
                url: url.max(3000).optional(),
                description: z.string().min(1).max(2000),
                usage_hint: z.string().min(1).max(1000).optional(),
                should_escape: z.boolean().optional(),
              })
              .strict(),
          )
          .min(1)
          .max(50)
          .optional(),
      })
      .strict()
      .optional(),
    oauth_config: z
      .object({
        scopes: z
          .object({ bot: z.array(scope).max(255), user: z.array(scope).max(255) })
          .partial()
          .strict()
          .optional(),
        redirect_urls: z.array(z.string().max(2500)).max(1000).optional(),
        token_management_enabled: z.boolean().optional(),
      })
      .strict()
      .optional(),
    settings: z
      .object({
        event_subscriptions: z
          .object({
            request_url: url.optional(),
            bot_events: z.array(z.string().max(50)).max(100).optional(),
            user_events: z.array(z.string().max(50)).max(100).optional(),
          })
          .strict()
          .optional(),
        interactivity: z
          .object({ is_enabled: z.boolean(), request_url: url.optional(), message_menu_options_url: url.optional() })
          .strict()
          .optional(),
        function_runtime: z.string().optional(),
        org_deploy_enabled: z.boolean().optional(),
        socket_mode_enabled: z.boolean().optional(),
        token_rotation_enabled: z.boolean().optional(),
      })
      .strict()
      .optional(),
    functions: z
      .record(
        z.string(),
        z
          .object({
            title: z.string(),
            description: z.string(),
            input_parameters: functionParameters,
            output_parameters: functionParameters,
          })
          .strict(),
      )
      .refine((functions) => Object.keys(functions).length <= 50, 'at most 50 functions')
      .optional(),
  })
  .strict();

const manifest = parse(readFileSync(join(import.meta.dirname, '..', 'manifest.yml'), 'utf8'));

describe('manifest.yml', () => {
  it("validates against Slack's manifest schema", () => {
    const parsed = manifestSchema.safeParse(manifest);
    expect(parsed.success, parsed.error ? z.prettifyError(parsed.error) : '').toBe(true);
  });

  it('refuses what Slack refuses, so the check above is not vacuous', () => {
    const tooLong = structuredClone(manifest);
    tooLong.features.shortcuts[0].name = 'Send this message on WhatsApp now';
    expect(manifestSchema.safeParse(tooLong).success).toBe(false);
    const unknownKey = structuredClone(manifest);
    unknownKey.features.app_home.home_tab = true;
    expect(manifestSchema.safeParse(unknownKey).success).toBe(false);
    const untypedInput = structuredClone(manifest);
    delete untypedInput.functions.send_whatsapp_message.input_parameters.properties.recipient.type;
    expect(manifestSchema.safeParse(untypedInput).success).toBe(false);
  });

  it('declares the Home tab, the app_home_opened event and the message shortcut the bot listens for', () => {
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions.bot_events).toContain('app_home_opened');
    expect(manifest.features.shortcuts).toEqual([
      expect.objectContaining({ type: 'message', callback_id: SEND_SHORTCUT, name: SEND_SHORTCUT_NAME }),
    ]);
    // users:read names the people mentioned in a shortcut's message.
    expect(manifest.oauth_config.scopes.bot).toContain('users:read');
  });

  it("asks for files:read, which the form's file field needs, and no other files scope", () => {
    const scopes: string[] = manifest.oauth_config.scopes.bot;
    expect(scopes).toContain('files:read');
    expect(scopes.filter((scope) => scope.startsWith('files:'))).toEqual(['files:read']);
  });

  it('sends every request to the one events URL', () => {
    const urls = [
      manifest.settings.event_subscriptions.request_url,
      manifest.settings.interactivity.request_url,
      ...manifest.features.slash_commands.map((command: { url: string }) => command.url),
    ];
    expect(new Set(urls)).toEqual(new Set(['https://bot.example.com/slack/events']));
  });
});
