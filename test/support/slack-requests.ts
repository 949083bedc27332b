/**
 * Real, signed Slack requests sent over HTTP to the app's `/slack/events` URL, built the way Slack builds them.
 *
 * Signing (https://docs.slack.dev/authentication/verifying-requests-from-slack): `x-slack-request-timestamp` is Unix
 * seconds; `x-slack-signature` is `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` keyed with the signing secret.
 * Slash commands arrive as `application/x-www-form-urlencoded` fields; interactivity payloads (block_actions,
 * view_submission, block_suggestion) as one form field `payload=<JSON>`.
 *
 * What Bolt 5.1's HTTPReceiver answers (read from receivers/HTTPReceiver.js and verify-request.js, and asserted in
 * test/slack-rig.test.ts):
 * - bad signature, missing signature/timestamp headers, or a timestamp older than 5 minutes → 401 with an empty body
 *   (it logs a warning "Failed to parse and verify the request data: …"). Only *old* timestamps are stale: Bolt does not
 *   reject timestamps in the future (the bot does, in front of Bolt: src/adapters/http/limits.ts);
 * - `content-type` must be exactly `application/x-www-form-urlencoded` (no `; charset`), otherwise Bolt JSON-parses the
 *   body and answers 400;
 * - `ack()` → 200 with an empty body; `ack('text')` → 200 with that text and no content-type; `ack({...})` → 200,
 *   `content-type: application/json`, the object as JSON (e.g. view_submission `response_action: 'errors'`);
 * - no listener acks within 3 s (`unhandledRequestTimeoutMillis`) → 404; a listener that throws before ack → 500;
 * - a non-POST or a path other than `/slack/events` → 404.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'undici';

export const DEFAULT_TEAM_ID = 'T0TEAM';
export const DEFAULT_TEAM_DOMAIN = 'fake-team';
export const DEFAULT_API_APP_ID = 'A0APP';
/** The deprecated verification token Slack still puts in every payload; Bolt ignores it. */
export const VERIFICATION_TOKEN = 'fake-verification-token';
/**
 * Where `response_url` points when a test does not pass one: a closed loopback port, so a stray `respond()` fails fast
 * and locally instead of reaching hooks.slack.com. Pass `fake.responseUrlFor(id)` to record responses.
 */
export const UNSET_RESPONSE_URL = 'http://127.0.0.1:9/response/unset';

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

export interface SignatureHeaders {
  'x-slack-request-timestamp': string;
  'x-slack-signature': string;
}

/** Exactly what was put on the wire, so a test can replay it byte for byte with `sendRaw`. */
export interface SentRequest {
  body: string;
  headers: Record<string, string>;
}

export interface SlackResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The response body as text ('' when Bolt answers with no body). */
  body: string;
  /** The body parsed, when the response is `application/json`; otherwise undefined. */
  json: unknown;
  sent: SentRequest;
}

export interface SendOptions {
  /** Unix seconds for `x-slack-request-timestamp` and the signature; defaults to now. */
  timestampSeconds?: number;
  /** Extra or overriding headers, e.g. `x-slack-retry-num`. */
  headers?: Record<string, string>;
}

// biome-ignore lint/suspicious/noExplicitAny: Slack payloads are open-ended JSON
type Json = Record<string, any>;

/** Sign a raw body the way Slack does; returns the two headers to send with it. */
export function signSlackRequest(
  secret: string,
  rawBody: string,
  timestampSeconds: number = Math.floor(Date.now() / 1000),
): SignatureHeaders {
  const timestamp = String(timestampSeconds);
  const digest = createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex');
  return { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': `v0=${digest}` };
}

/** POST a body with exactly these headers (replays, tampered signatures, wrong content types). */
export async function sendRaw(url: string, sent: SentRequest): Promise<SlackResponse> {
  const response = await request(url, { method: 'POST', headers: sent.headers, body: sent.body });
  const body = await response.body.text();
  const contentType = String(response.headers['content-type'] ?? '');
  return {
    status: response.statusCode,
    headers: response.headers,
    body,
    json: contentType.startsWith('application/json') && body !== '' ? JSON.parse(body) : undefined,
    sent,
  };
}

/** Sign and POST a form-encoded body. */
export async function sendSigned(
  url: string,
  secret: string,
  body: string,
  options: SendOptions = {},
): Promise<SlackResponse> {
  const headers = {
    'content-type': FORM_CONTENT_TYPE,
    ...signSlackRequest(secret, body, options.timestampSeconds),
    ...options.headers,
  };
  return sendRaw(url, { body, headers });
}

/** Sign and POST an interactivity payload as Slack does: `payload=<url-encoded JSON>`. */
export async function sendPayload(
  url: string,
  secret: string,
  payload: Json,
  options: SendOptions = {},
): Promise<SlackResponse> {
  return sendSigned(url, secret, new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), options);
}

export interface SlashCommandArgs {
  text: string;
  user_id: string;
  channel_id: string;
  team_id?: string;
  trigger_id?: string;
  command?: string;
  response_url?: string;
  user_name?: string;
  channel_name?: string;
}

/** A slash command invocation, form-encoded with Slack's field names and order. */
export function slashCommandBody(args: SlashCommandArgs): string {
  const teamId = args.team_id ?? DEFAULT_TEAM_ID;
  return new URLSearchParams({
    token: VERIFICATION_TOKEN,
    team_id: teamId,
    team_domain: DEFAULT_TEAM_DOMAIN,
    channel_id: args.channel_id,
    channel_name: args.channel_name ?? (args.channel_id.startsWith('D') ? 'directmessage' : 'general'),
    user_id: args.user_id,
    user_name: args.user_name ?? args.user_id.toLowerCase(),
    command: args.command ?? '/whatsapp',
    text: args.text,
    api_app_id: DEFAULT_API_APP_ID,
    is_enterprise_install: 'false',
    response_url: args.response_url ?? UNSET_RESPONSE_URL,
    trigger_id: args.trigger_id ?? newTriggerId(),
  }).toString();
}

export async function slashCommand(
  url: string,
  secret: string,
  args: SlashCommandArgs,
  options?: SendOptions,
): Promise<SlackResponse> {
  return sendSigned(url, secret, slashCommandBody(args), options);
}

export interface ViewSubmissionArgs {
  view: {
    id: string;
    callback_id: string;
    private_metadata?: string;
    state: { values: Json };
    hash?: string;
  } & Json;
  user_id: string;
  team_id?: string;
  trigger_id?: string;
  /** Present when the modal has `response_url_enabled` inputs. */
  response_urls?: Array<{ block_id: string; action_id: string; channel_id: string; response_url: string }>;
}

/** A `view_submission` payload: the modal's current state as Slack sends it on Submit. */
export function viewSubmissionPayload(args: ViewSubmissionArgs): Json {
  const teamId = args.team_id ?? DEFAULT_TEAM_ID;
  return {
    type: 'view_submission',
    team: { id: teamId, domain: DEFAULT_TEAM_DOMAIN },
    user: user(args.user_id, teamId),
    api_app_id: DEFAULT_API_APP_ID,
    token: VERIFICATION_TOKEN,
    trigger_id: args.trigger_id ?? newTriggerId(),
    view: modalView(args.view, teamId),
    response_urls: args.response_urls ?? [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export async function viewSubmission(
  url: string,
  secret: string,
  args: ViewSubmissionArgs,
  options?: SendOptions,
): Promise<SlackResponse> {
  return sendPayload(url, secret, viewSubmissionPayload(args), options);
}

export interface BlockActionArgs {
  user_id: string;
  /** The channel of the message holding the element; omit for an element inside a modal (`view`). */
  channel_id?: string;
  message_ts?: string;
  actions: Array<{ action_id: string; value?: string; block_id?: string; type?: string } & Json>;
  /** Defaults to the message container, or to the view container when `view` is given without a channel. */
  container?: Json;
  team_id?: string;
  trigger_id?: string;
  response_url?: string;
  /** Extra fields for `message` (e.g. its `blocks`/`text`). */
  message?: Json;
  /** The modal the element lives in, as in viewSubmission's `view`. */
  view?: ViewSubmissionArgs['view'];
  state?: { values: Json };
}

/** A `block_actions` payload: a user clicked a button (or chose a menu option) in a message or modal. */
export function blockActionPayload(args: BlockActionArgs): Json {
  const teamId = args.team_id ?? DEFAULT_TEAM_ID;
  const inMessage = args.channel_id !== undefined && args.message_ts !== undefined;
  if (!inMessage && args.view === undefined) {
    throw new Error('blockAction needs channel_id + message_ts (message) or view (modal)');
  }
  const actionTs = nowActionTs();
  const payload: Json = {
    type: 'block_actions',
    user: user(args.user_id, teamId),
    api_app_id: DEFAULT_API_APP_ID,
    token: VERIFICATION_TOKEN,
    container:
      args.container ??
      (inMessage
        ? { type: 'message', message_ts: args.message_ts, channel_id: args.channel_id, is_ephemeral: false }
        : { type: 'view', view_id: args.view?.id }),
    trigger_id: args.trigger_id ?? newTriggerId(),
    team: { id: teamId, domain: DEFAULT_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    state: args.state ?? args.view?.state ?? { values: {} },
    actions: args.actions.map((action) => ({
      type: 'button',
      block_id: 'actions',
      action_ts: actionTs,
      ...(action.type === undefined || action.type === 'button'
        ? { text: { type: 'plain_text', text: action.action_id, emoji: true } }
        : {}),
      ...action,
    })),
  };
  if (inMessage) {
    payload.channel = { id: args.channel_id, name: args.channel_id?.startsWith('D') ? 'directmessage' : 'general' };
    payload.message = {
      type: 'message',
      user: 'U0BOT',
      bot_id: 'B0BOT',
      app_id: DEFAULT_API_APP_ID,
      team: teamId,
      ts: args.message_ts,
      text: '',
      blocks: [],
      ...args.message,
    };
    payload.response_url = args.response_url ?? UNSET_RESPONSE_URL;
  } else if (args.response_url !== undefined) {
    payload.response_url = args.response_url;
  }
  if (args.view !== undefined) payload.view = modalView(args.view, teamId);
  return payload;
}

export async function blockAction(
  url: string,
  secret: string,
  args: BlockActionArgs,
  options?: SendOptions,
): Promise<SlackResponse> {
  return sendPayload(url, secret, blockActionPayload(args), options);
}

export interface BlockSuggestionArgs {
  action_id: string;
  block_id: string;
  /** What the user has typed so far. */
  value: string;
  user_id: string;
  team_id?: string;
  /** The modal holding the external select; a default one is used when omitted. */
  view?: ViewSubmissionArgs['view'];
}

/** A `block_suggestion` payload: an external_select asks the app for options matching `value`. */
export function blockSuggestionPayload(args: BlockSuggestionArgs): Json {
  const teamId = args.team_id ?? DEFAULT_TEAM_ID;
  const view = modalView(args.view ?? { id: 'V0SUGGEST', callback_id: '', state: { values: {} } }, teamId);
  return {
    type: 'block_suggestion',
    user: user(args.user_id, teamId),
    container: { type: 'view', view_id: view.id },
    api_app_id: DEFAULT_API_APP_ID,
    token: VERIFICATION_TOKEN,
    action_id: args.action_id,
    block_id: args.block_id,
    value: args.value,
    team: { id: teamId, domain: DEFAULT_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    view,
  };
}

export async function blockSuggestion(
  url: string,
  secret: string,
  args: BlockSuggestionArgs,
  options?: SendOptions,
): Promise<SlackResponse> {
  return sendPayload(url, secret, blockSuggestionPayload(args), options);
}

/**
 * An Events API request (`event_callback`) as Slack sends it: a JSON body, signed like the rest. Bolt acknowledges
 * events before their listener runs, so the answer is 200 whatever the listener does (except `function_executed`,
 * which its listener acknowledges).
 */
export async function eventCallback(
  url: string,
  secret: string,
  event: Json,
  options: SendOptions & { team_id?: string; event_id?: string } = {},
): Promise<SlackResponse> {
  const teamId = options.team_id ?? DEFAULT_TEAM_ID;
  const body = JSON.stringify({
    token: VERIFICATION_TOKEN,
    team_id: teamId,
    api_app_id: DEFAULT_API_APP_ID,
    event: { event_ts: nowActionTs(), ...event },
    type: 'event_callback',
    // Slack keeps an event's id on its redeliveries; a new one per event otherwise.
    event_id: options.event_id ?? `Ev${randomBytes(6).toString('hex').toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: teamId, user_id: 'U0BOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
  const headers = {
    'content-type': 'application/json',
    ...signSlackRequest(secret, body, options.timestampSeconds),
    ...options.headers,
  };
  return sendRaw(url, { body, headers });
}

/** `app_home_opened` for `user_id` on the Home tab (or the Messages tab). */
export function appHomeOpened(
  url: string,
  secret: string,
  args: { user_id: string; tab?: 'home' | 'messages' },
): Promise<SlackResponse> {
  return eventCallback(url, secret, {
    type: 'app_home_opened',
    user: args.user_id,
    channel: `D${args.user_id.slice(1)}`,
    tab: args.tab ?? 'home',
  });
}

export interface MessageShortcutArgs {
  callback_id: string;
  user_id: string;
  channel_id: string;
  /** The message the shortcut was chosen on: its text as Slack stores it (mrkdwn, escaped). */
  message: { text: string; user?: string; ts?: string } & Json;
  team_id?: string;
  trigger_id?: string;
  response_url?: string;
}

/** A message shortcut (`message_action`): someone chose the app's entry in a message's menu. */
export function messageShortcutPayload(args: MessageShortcutArgs): Json {
  const teamId = args.team_id ?? DEFAULT_TEAM_ID;
  const ts = args.message.ts ?? nowActionTs();
  return {
    type: 'message_action',
    token: VERIFICATION_TOKEN,
    action_ts: nowActionTs(),
    team: { id: teamId, domain: DEFAULT_TEAM_DOMAIN },
    user: user(args.user_id, teamId),
    channel: { id: args.channel_id, name: args.channel_id.startsWith('D') ? 'directmessage' : 'general' },
    is_enterprise_install: false,
    enterprise: null,
    callback_id: args.callback_id,
    trigger_id: args.trigger_id ?? newTriggerId(),
    response_url: args.response_url ?? UNSET_RESPONSE_URL,
    message_ts: ts,
    message: { type: 'message', user: 'U0SOMEONE', team: teamId, ...args.message, ts },
  };
}

export function messageShortcut(url: string, secret: string, args: MessageShortcutArgs): Promise<SlackResponse> {
  return sendPayload(url, secret, messageShortcutPayload(args));
}

export interface FunctionExecutedArgs {
  /** Slack's id for this run of the step (`Fx…`): the same on every redelivery of the event. */
  function_execution_id: string;
  callback_id: string;
  inputs: Json;
  team_id?: string;
  /** Slack keeps it on redeliveries: pass the same one to redeliver. */
  event_id?: string;
}

/**
 * `function_executed`: a workflow reached a step of this app. `bot_access_token` is the short-lived token Slack
 * issues for the run; `x-slack-retry-num` in `options.headers` marks a redelivery.
 */
export function functionExecuted(
  url: string,
  secret: string,
  args: FunctionExecutedArgs,
  options: SendOptions = {},
): Promise<SlackResponse> {
  const now = Math.floor(Date.now() / 1000);
  const event = {
    type: 'function_executed',
    function: {
      id: 'Fn0STEP',
      callback_id: args.callback_id,
      title: 'Send a WhatsApp message',
      type: 'app',
      app_id: DEFAULT_API_APP_ID,
      input_parameters: [],
      output_parameters: [],
      date_created: now,
      date_updated: now,
      date_deleted: 0,
    },
    inputs: args.inputs,
    function_execution_id: args.function_execution_id,
    workflow_execution_id: `Wx${args.function_execution_id}`,
    bot_access_token: 'xwfp-fake-workflow-token',
  };
  return eventCallback(url, secret, event, { ...options, team_id: args.team_id, event_id: args.event_id });
}

function user(id: string, teamId: string): Json {
  const name = id.toLowerCase();
  return { id, username: name, name, team_id: teamId };
}

function modalView(view: ViewSubmissionArgs['view'], teamId: string): Json {
  return {
    type: 'modal',
    blocks: [],
    private_metadata: '',
    title: { type: 'plain_text', text: 'WhatsApp', emoji: true },
    close: { type: 'plain_text', text: 'Cancel', emoji: true },
    submit: { type: 'plain_text', text: 'Send', emoji: true },
    clear_on_close: false,
    notify_on_close: false,
    previous_view_id: null,
    root_view_id: view.id,
    external_id: '',
    app_id: DEFAULT_API_APP_ID,
    app_installed_team_id: teamId,
    bot_id: 'B0BOT',
    hash: `${Math.floor(Date.now() / 1000)}.fakehash`,
    ...view,
    team_id: teamId,
  };
}

/** Shaped like Slack's trigger ids (`<number>.<number>.<hex>`); each one unique. */
function newTriggerId(): string {
  return `${Date.now()}.${Math.floor(Math.random() * 1e12)}.${randomBytes(16).toString('hex')}`;
}

function nowActionTs(): string {
  return (Date.now() / 1000).toFixed(6);
}
