/**
 * A local stand-in for Slack's Web API (`https://slack.com/api/`) and for `response_url` endpoints.
 *
 * Point the bot at it with `new App({ clientOptions: { slackApiUrl: fake.apiUrl } })`. Every call is recorded with its
 * arguments parsed the way Slack reads them, so tests assert on what the bot asked Slack to do, not on mocks.
 *
 * What @slack/web-api 7 sends (read from its WebClient source, not assumed):
 * - always `POST <slackApiUrl><method>`, body `application/x-www-form-urlencoded` (multipart only when an argument is a
 *   Buffer); non-scalar arguments (`blocks`, `view`, `attachments`, `metadata`…) are JSON strings inside the form;
 * - the token as `Authorization: Bearer xoxb-…` (and also as a `token` form field when a call passes `token`);
 * - clients built by Bolt for a listener add `team_id` from the authorization to every call.
 * Slack's Web API also accepts JSON bodies, so the fake parses those too.
 *
 * Rate limits: on HTTP 429 with a numeric `Retry-After`, WebClient sleeps that many seconds, pauses its queue and retries
 * through p-retry with its `retryConfig` (default: 10 retries over about 30 minutes). In tests give the client
 * `retryConfig: { retries: 0 }` (fail fast), `webApi.retryPolicies.rapidRetryPolicy` (retry at once), or
 * `rejectRateLimitedCalls: true` (throw `slack_webapi_rate_limited_error` carrying `retryAfter`), and inject
 * `retryAfterSeconds: 0` so no test sleeps.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_TEAM_ID = 'T0TEAM';
export const FAKE_BOT_USER_ID = 'U0BOT';
export const FAKE_BOT_ID = 'B0BOT';
export const FAKE_APP_ID = 'A0APP';

/** Form fields that carry JSON text; every other form field stays the string Slack would see. */
const JSON_FORM_FIELDS = new Set([
  'attachments',
  'blocks',
  'metadata',
  'options',
  'option_groups',
  'unfurls',
  'user_auth_blocks',
  'view',
]);

/** Methods whose `channel` argument can be made to fail with `failChannel`. */
const CHANNEL_FAILURE_METHODS = new Set(['chat.postMessage', 'chat.update', 'chat.postEphemeral']);

// biome-ignore lint/suspicious/noExplicitAny: Web API arguments are whatever JSON the bot sent
export type SlackArgs = Record<string, any>;

/** One request the bot made to the fake Web API. */
export interface SlackApiCall {
  method: string;
  /** The arguments as Slack reads them: form strings, with JSON fields (blocks, view, …) parsed; `token` removed. */
  args: SlackArgs;
  /** The token from `Authorization: Bearer` or from a `token` field. */
  token: string | undefined;
  /** `Date.now()` when the request arrived. */
  at: number;
  /** True when the fake answered HTTP 429 (see `rateLimit`) instead of running the method. */
  rateLimited?: boolean;
}

/** One JSON payload posted to a `response_url` (`responseUrlFor(id)`). */
export interface ResponseUrlPost {
  id: string;
  // biome-ignore lint/suspicious/noExplicitAny: response_url payloads are any message JSON
  body: any;
  at: number;
}

/** The current state of a message the bot posted: created by chat.postMessage, replaced by chat.update. */
export interface FakeMessage {
  channel: string;
  ts: string;
  text: string | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON
  blocks: any[] | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: legacy attachments JSON
  attachments: any[] | undefined;
  thread_ts: string | undefined;
  metadata: unknown;
  /** How many chat.update calls changed this message. */
  edits: number;
}

/** The current state of a modal opened with views.open / views.push and changed with views.update. */
export interface FakeView extends SlackArgs {
  id: string;
  hash: string;
}

/** A user as users.info returns it; only `id` is required when configuring. */
export interface FakeUser extends SlackArgs {
  id: string;
}

export interface SlackFakeOptions {
  /** usergroups.users.list membership: usergroup id (`S…`) → user ids. */
  usergroups?: Record<string, string[]>;
  /** users.info answers, merged over a generated default profile. */
  users?: FakeUser[];
  /** Listen on this port (e.g. one a bot was pointed at before Slack "came back"); OS-chosen by default. */
  port?: number;
}

export interface SlackFake {
  /** `http://127.0.0.1:PORT/api/`, for `clientOptions.slackApiUrl`. */
  readonly apiUrl: string;
  /** `http://127.0.0.1:PORT`. */
  readonly baseUrl: string;
  /** Every Web API call in arrival order, including 429-answered and unknown ones. */
  readonly calls: SlackApiCall[];
  /** Every payload posted to a `responseUrlFor(id)` URL. */
  readonly responses: ResponseUrlPost[];
  /** The recorded calls to one method, in arrival order. */
  callsTo(method: string): SlackApiCall[];
  /** The current messages, optionally only those in one channel, in the order they were posted. */
  messages(channel?: string): FakeMessage[];
  /** The current state of one message, or undefined if it was never posted or was deleted. */
  message(channel: string, ts: string): FakeMessage | undefined;
  /** The chat.postMessage calls that asked to reply in the thread of `ts` in `channel` (429-answered attempts left out). */
  threadReplies(channel: string, ts: string): SlackApiCall[];
  /** The current state of a view opened through the fake. */
  view(id: string): FakeView | undefined;
  /** The modals opened so far (views.open / views.push), oldest first, as they are now. */
  openedViews(): FakeView[];
  /** The Home tab last published (views.publish) for a user, or undefined if none was. */
  homeOf(userId: string): FakeView | undefined;
  /** The DM channel id conversations.open returns for a user (stable: `D` + the user id without its first letter). */
  dmChannelFor(userId: string): string;
  /** Make chat.postMessage / chat.update / chat.postEphemeral to `channel` answer `{ ok: false, error }`. */
  failChannel(channel: string, error: string): void;
  /** Answer the next `times` calls to `method` with HTTP 429 and `Retry-After: retryAfterSeconds`. */
  rateLimit(method: string, limit: { times: number; retryAfterSeconds: number }): void;
  /** Replace the members usergroups.users.list returns for a usergroup. */
  setUsergroup(usergroupId: string, userIds: string[]): void;
  /** Add or replace the users.info answer for a user. */
  setUser(user: FakeUser): void;
  /**
   * A file as if someone uploaded it with a form's file_input: what the view's state carries for it. It is served
   * at its `url_private_download` to the bot token only, as Slack serves private files.
   */
  uploadFile(file: { name: string; mimetype: string; bytes: Buffer }): FakeFile;
  /** How many times a file was downloaded with a token. */
  fileDownloads(id: string): number;
  /** A URL that records JSON posted to it in `responses` with this id, for `response_url` fields. */
  responseUrlFor(id: string): string;
  /** Forget recorded calls, responses, messages, views and injected failures; keeps users and usergroups. */
  reset(): void;
  close(): Promise<void>;
}

/** A file as a view_submission's file_input state carries it (the fields the bot reads). */
export interface FakeFile {
  id: string;
  name: string;
  mimetype: string;
  size: number;
  url_private: string;
  url_private_download: string;
  permalink: string;
}

interface MethodResult {
  status?: number;
  headers?: Record<string, string>;
  body: SlackArgs;
}

class SlackFakeServer {
  readonly calls: SlackApiCall[] = [];
  readonly responses: ResponseUrlPost[] = [];
  private readonly messageState = new Map<string, FakeMessage>();
  private readonly views = new Map<string, FakeView>();
  private readonly homes = new Map<string, FakeView>();
  private readonly openedDms = new Set<string>();
  /** Function executions completed (functions.completeSuccess / completeError). */
  private readonly completedFunctions = new Set<string>();
  private readonly channelFailures = new Map<string, string>();
  private readonly rateLimits = new Map<string, { remaining: number; retryAfterSeconds: number }>();
  private readonly usergroups: Map<string, string[]>;
  readonly files = new Map<string, { bytes: Buffer; mimetype: string; downloads: number }>();
  private readonly users: Map<string, FakeUser>;
  // Counters survive reset() so a ts or view id is never handed out twice by one fake.
  private tsCounter = 0;
  private viewCounter = 0;

  constructor(options: SlackFakeOptions) {
    this.usergroups = new Map(Object.entries(options.usergroups ?? {}));
    this.users = new Map((options.users ?? []).map((user) => [user.id, user]));
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (req.method === 'POST' && path.startsWith('/api/')) {
      const method = decodeURIComponent(path.slice('/api/'.length));
      const result = await this.apiCall(method, req, raw);
      writeJson(res, result.status ?? 200, result.body, result.headers);
      return;
    }
    if (req.method === 'GET' && path.startsWith('/files-pri/')) {
      const file = this.files.get(decodeURIComponent(path.split('/')[2] ?? ''));
      if (!file || req.headers.authorization === undefined || !req.headers.authorization.startsWith('Bearer xoxb-')) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        return;
      }
      file.downloads += 1;
      res.writeHead(200, { 'content-type': file.mimetype, 'content-length': String(file.bytes.length) });
      res.end(file.bytes);
      return;
    }
    if (req.method === 'POST' && path.startsWith('/response/')) {
      const id = decodeURIComponent(path.slice('/response/'.length));
      this.responses.push({ id, body: parseJsonOrText(raw.toString('utf8')), at: Date.now() });
      // Slack's response_url answers a plain-text "ok".
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    writeJson(res, 404, { ok: false, error: 'not_found' });
  }

  private async apiCall(method: string, req: IncomingMessage, raw: Buffer): Promise<MethodResult> {
    const parsed = await parseArgs(req, raw);
    const authorization = req.headers.authorization;
    const bearer = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : undefined;
    const { token: bodyToken, ...args } = parsed;
    const call: SlackApiCall = {
      method,
      args,
      token: bearer ?? (typeof bodyToken === 'string' ? bodyToken : undefined),
      at: Date.now(),
    };
    this.calls.push(call);

    const limit = this.rateLimits.get(method);
    if (limit !== undefined && limit.remaining > 0) {
      limit.remaining -= 1;
      call.rateLimited = true;
      return {
        status: 429,
        headers: { 'retry-after': String(limit.retryAfterSeconds) },
        body: { ok: false, error: 'ratelimited' },
      };
    }
    if (call.token === undefined || call.token === '') {
      return { body: { ok: false, error: 'not_authed' } };
    }
    return { body: this.run(method, args) };
  }

  private run(method: string, args: SlackArgs): SlackArgs {
    if (CHANNEL_FAILURE_METHODS.has(method)) {
      const failure = this.channelFailures.get(String(args.channel));
      if (failure !== undefined) return { ok: false, error: failure };
    }
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://fake-team.slack.com/',
          team: 'Fake Team',
          user: 'whatsapp_bot',
          team_id: FAKE_TEAM_ID,
          user_id: FAKE_BOT_USER_ID,
          bot_id: FAKE_BOT_ID,
          is_enterprise_install: false,
        };
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update':
        return this.updateMessage(args);
      case 'chat.postEphemeral':
        return this.postEphemeral(args);
      case 'chat.delete':
        return this.deleteMessage(args);
      case 'views.open':
      case 'views.push':
        return this.openView(method, args);
      case 'views.update':
        return this.updateView(args);
      case 'views.publish':
        return this.publishView(args);
      case 'conversations.open':
        return this.openConversation(args);
      case 'users.info':
        return this.userInfo(args);
      case 'functions.completeSuccess':
      case 'functions.completeError':
        return this.completeFunction(args);
      case 'usergroups.users.list': {
        const users = this.usergroups.get(String(args.usergroup));
        return users === undefined ? { ok: false, error: 'no_such_subteam' } : { ok: true, users: [...users] };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  /** A workflow step ends once, as on Slack: a second completion of the same execution is refused. */
  private completeFunction(args: SlackArgs): SlackArgs {
    const id = String(args.function_execution_id ?? '');
    if (!id) return { ok: false, error: 'invalid_arguments' };
    if (this.completedFunctions.has(id)) return { ok: false, error: 'execution_not_in_running_state' };
    this.completedFunctions.add(id);
    return { ok: true };
  }

  private postMessage(args: SlackArgs): SlackArgs {
    if (!args.channel) return { ok: false, error: 'channel_not_found' };
    if (!hasContent(args)) return { ok: false, error: 'no_text' };
    // Slack accepts a user id as channel and posts in the bot's DM with that user.
    const channel = isUserId(args.channel) ? this.dmChannelFor(args.channel) : String(args.channel);
    const ts = this.nextTs();
    const message: FakeMessage = {
      channel,
      ts,
      text: args.text,
      blocks: args.blocks,
      attachments: args.attachments,
      thread_ts: args.thread_ts,
      metadata: args.metadata,
      edits: 0,
    };
    this.messageState.set(messageKey(channel, ts), message);
    return { ok: true, channel, ts, message: renderMessage(message) };
  }

  private updateMessage(args: SlackArgs): SlackArgs {
    const channel = String(args.channel ?? '');
    const message = this.messageState.get(messageKey(channel, String(args.ts ?? '')));
    if (message === undefined) return { ok: false, error: 'message_not_found' };
    if (!hasContent(args)) return { ok: false, error: 'no_text' };
    // Slack keeps the previous blocks/attachments when chat.update omits them; text is always replaced.
    message.text = args.text;
    if (args.blocks !== undefined) message.blocks = args.blocks;
    if (args.attachments !== undefined) message.attachments = args.attachments;
    if (args.metadata !== undefined) message.metadata = args.metadata;
    message.edits += 1;
    return { ok: true, channel, ts: message.ts, text: message.text ?? '', message: renderMessage(message) };
  }

  private postEphemeral(args: SlackArgs): SlackArgs {
    if (!args.channel) return { ok: false, error: 'channel_not_found' };
    if (!args.user) return { ok: false, error: 'user_not_found' };
    if (!hasContent(args)) return { ok: false, error: 'no_text' };
    return { ok: true, message_ts: this.nextTs() };
  }

  private deleteMessage(args: SlackArgs): SlackArgs {
    const channel = String(args.channel ?? '');
    const ts = String(args.ts ?? '');
    if (!this.messageState.delete(messageKey(channel, ts))) return { ok: false, error: 'message_not_found' };
    return { ok: true, channel, ts };
  }

  private openView(method: string, args: SlackArgs): SlackArgs {
    if (!args.trigger_id) return { ok: false, error: 'invalid_trigger_id' };
    if (!isObject(args.view)) return { ok: false, error: 'invalid_arguments' };
    this.viewCounter += 1;
    const id = `V${String(this.viewCounter).padStart(8, '0')}`;
    const view = this.renderView(id, args.view, method === 'views.push' ? String(args.view_id ?? '') : null);
    this.views.set(id, view);
    return { ok: true, view };
  }

  private updateView(args: SlackArgs): SlackArgs {
    if (!isObject(args.view)) return { ok: false, error: 'invalid_arguments' };
    const byExternalId = (view: FakeView) => Boolean(args.external_id) && view.external_id === args.external_id;
    const current =
      args.view_id !== undefined ? this.views.get(String(args.view_id)) : [...this.views.values()].find(byExternalId);
    if (current === undefined) return { ok: false, error: 'not_found' };
    if (args.hash !== undefined && args.hash !== current.hash) return { ok: false, error: 'hash_conflict' };
    const view = this.renderView(current.id, args.view, current.previous_view_id ?? null);
    this.views.set(current.id, view);
    return { ok: true, view };
  }

  private renderView(id: string, definition: SlackArgs, previousViewId: string | null): FakeView {
    return {
      type: 'modal',
      callback_id: '',
      private_metadata: '',
      external_id: '',
      blocks: [],
      close: null,
      submit: null,
      clear_on_close: false,
      notify_on_close: false,
      ...definition,
      id,
      team_id: FAKE_TEAM_ID,
      app_id: FAKE_APP_ID,
      bot_id: FAKE_BOT_ID,
      app_installed_team_id: FAKE_TEAM_ID,
      state: { values: {} },
      // A fresh hash per render, so a views.update carrying a stale hash gets hash_conflict as on Slack.
      hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      root_view_id: id,
      previous_view_id: previousViewId || null,
    };
  }

  /** Slack keeps one Home view per user (and app), replaced by each publish; `hash`, when given, must be current. */
  private publishView(args: SlackArgs): SlackArgs {
    const userId = String(args.user_id ?? '');
    if (!isUserId(userId)) return { ok: false, error: 'invalid_arguments' };
    if (!isObject(args.view) || args.view.type !== 'home') return { ok: false, error: 'invalid_arguments' };
    if (Array.isArray(args.view.blocks) && args.view.blocks.length > 100) return { ok: false, error: 'invalid_blocks' };
    const current = this.homes.get(userId);
    if (args.hash !== undefined && current !== undefined && args.hash !== current.hash) {
      return { ok: false, error: 'hash_conflict' };
    }
    this.viewCounter += 1;
    const id = current?.id ?? `V${String(this.viewCounter).padStart(8, '0')}`;
    const view = { ...this.renderView(id, args.view, null), type: 'home' };
    this.homes.set(userId, view);
    return { ok: true, view };
  }

  openedViews(): FakeView[] {
    return [...this.views.values()];
  }

  homeOf(userId: string): FakeView | undefined {
    return this.homes.get(userId);
  }

  private openConversation(args: SlackArgs): SlackArgs {
    const users = String(args.users ?? '')
      .split(',')
      .filter(Boolean);
    if (users.length !== 1) return { ok: false, error: users.length === 0 ? 'users_list_not_supplied' : 'not_im' };
    const [user] = users as [string];
    const id = this.dmChannelFor(user);
    const alreadyOpen = this.openedDms.has(id);
    this.openedDms.add(id);
    return { ok: true, ...(alreadyOpen ? { no_op: true, already_open: true } : {}), channel: { id } };
  }

  private userInfo(args: SlackArgs): SlackArgs {
    const id = String(args.user ?? '');
    const configured = this.users.get(id);
    if (configured === undefined && !isUserId(id)) return { ok: false, error: 'user_not_found' };
    const name = id.toLowerCase();
    return {
      ok: true,
      user: {
        id,
        team_id: FAKE_TEAM_ID,
        name,
        real_name: `User ${id}`,
        deleted: false,
        is_bot: false,
        is_admin: false,
        is_restricted: false,
        is_ultra_restricted: false,
        tz: 'Europe/Berlin',
        tz_offset: 3600,
        profile: { real_name: `User ${id}`, display_name: name, team: FAKE_TEAM_ID },
        ...configured,
      },
    };
  }

  dmChannelFor(userId: string): string {
    return `D${userId.slice(1)}`;
  }

  private nextTs(): string {
    this.tsCounter += 1;
    const micros = this.tsCounter * 100;
    const seconds = 1_700_000_000 + Math.floor(micros / 1_000_000);
    return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  messages(channel?: string): FakeMessage[] {
    return [...this.messageState.values()].filter((message) => channel === undefined || message.channel === channel);
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.messageState.get(messageKey(channel, ts));
  }

  view(id: string): FakeView | undefined {
    return this.views.get(id);
  }

  failChannel(channel: string, error: string): void {
    this.channelFailures.set(channel, error);
  }

  rateLimit(method: string, limit: { times: number; retryAfterSeconds: number }): void {
    this.rateLimits.set(method, { remaining: limit.times, retryAfterSeconds: limit.retryAfterSeconds });
  }

  setUsergroup(usergroupId: string, userIds: string[]): void {
    this.usergroups.set(usergroupId, [...userIds]);
  }

  setUser(user: FakeUser): void {
    this.users.set(user.id, user);
  }

  reset(): void {
    this.calls.length = 0;
    this.responses.length = 0;
    this.messageState.clear();
    this.views.clear();
    this.homes.clear();
    this.openedDms.clear();
    this.completedFunctions.clear();
    this.channelFailures.clear();
    this.rateLimits.clear();
  }
}

/** Start a fake Slack Web API on 127.0.0.1 and an OS-chosen port (or `options.port`). */
export async function startSlackFake(options: SlackFakeOptions = {}): Promise<SlackFake> {
  const fake = new SlackFakeServer(options);
  const server = createServer((req, res) => {
    fake.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) writeJson(res, 500, { ok: false, error: 'fake_internal_error', detail: String(error) });
      else res.destroy();
    });
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    apiUrl: `${baseUrl}/api/`,
    baseUrl,
    calls: fake.calls,
    responses: fake.responses,
    callsTo: (method) => fake.calls.filter((call) => call.method === method),
    messages: (channel) => fake.messages(channel),
    message: (channel, ts) => fake.message(channel, ts),
    threadReplies: (channel, ts) =>
      fake.calls.filter(
        (call) =>
          call.method === 'chat.postMessage' &&
          !call.rateLimited &&
          call.args.channel === channel &&
          call.args.thread_ts === ts,
      ),
    view: (id) => fake.view(id),
    homeOf: (userId) => fake.homeOf(userId),
    openedViews: () => fake.openedViews(),
    dmChannelFor: (userId) => fake.dmChannelFor(userId),
    failChannel: (channel, error) => fake.failChannel(channel, error),
    rateLimit: (method, limit) => fake.rateLimit(method, limit),
    setUsergroup: (usergroupId, userIds) => fake.setUsergroup(usergroupId, userIds),
    setUser: (user) => fake.setUser(user),
    uploadFile: ({ name, mimetype, bytes }) => {
      const id = `F${String(fake.files.size + 1).padStart(8, '0')}`;
      fake.files.set(id, { bytes, mimetype, downloads: 0 });
      const url = `${baseUrl}/files-pri/${id}/${encodeURIComponent(name)}`;
      return {
        id,
        name,
        mimetype,
        size: bytes.length,
        url_private: url,
        url_private_download: `${url}?download=1`,
        permalink: `https://fake-team.slack.com/files/${FAKE_BOT_USER_ID}/${id}/${encodeURIComponent(name)}`,
      };
    },
    fileDownloads: (id) => fake.files.get(id)?.downloads ?? 0,
    responseUrlFor: (id) => `${baseUrl}/response/${encodeURIComponent(id)}`,
    reset: () => fake.reset(),
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      // Keep-alive sockets from WebClient's fetch would otherwise hold close() open.
      server.closeAllConnections();
      await closed;
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function parseArgs(req: IncomingMessage, raw: Buffer): Promise<SlackArgs> {
  const contentType = req.headers['content-type'] ?? '';
  if (raw.length === 0) return {};
  if (contentType.startsWith('application/json')) {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    return isObject(parsed) ? parsed : {};
  }
  if (contentType.startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    const args: SlackArgs = {};
    for (const [key, value] of form) args[key] = typeof value === 'string' ? parseFormField(key, value) : value;
    return args;
  }
  const args: SlackArgs = {};
  for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) args[key] = parseFormField(key, value);
  return args;
}

function parseFormField(key: string, value: string): unknown {
  if (!JSON_FORM_FIELDS.has(key)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function renderMessage(message: FakeMessage): SlackArgs {
  return {
    type: 'message',
    user: FAKE_BOT_USER_ID,
    bot_id: FAKE_BOT_ID,
    app_id: FAKE_APP_ID,
    team: FAKE_TEAM_ID,
    ts: message.ts,
    text: message.text ?? '',
    ...(message.blocks !== undefined ? { blocks: message.blocks } : {}),
    ...(message.attachments !== undefined ? { attachments: message.attachments } : {}),
    ...(message.thread_ts !== undefined ? { thread_ts: message.thread_ts } : {}),
    ...(message.metadata !== undefined ? { metadata: message.metadata } : {}),
  };
}

function hasContent(args: SlackArgs): boolean {
  return Boolean(args.text) || Array.isArray(args.blocks) || Array.isArray(args.attachments);
}

function isUserId(value: unknown): value is string {
  return typeof value === 'string' && /^[UW][A-Z0-9]+$/.test(value);
}

function isObject(value: unknown): value is SlackArgs {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function messageKey(channel: string, ts: string): string {
  return `${channel}/${ts}`;
}
