import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../src/adapters/waping/webhook-signature.js';
import { keyForOrigin } from '../src/core/idempotency.js';
import { groupIdForOrigin } from '../src/core/send-groups.js';
import {
  DEPLOYED_STORES,
  type Harness,
  SIGNING_SECRET,
  startHarness,
  submitApprovalModal,
  submitSendModal,
  WEBHOOK_SECRET,
  waitFor,
} from './support/bot-harness.js';
import { unique } from './support/ids.js';
import { readable, unescapeMrkdwn } from './support/slack-reader.js';
import { blockAction, slashCommand } from './support/slack-requests.js';

/*
 * Strings the bot did not write (an approver's comment, WAPing's reasons and ids, device names, what a
 * user typed) are pushed through every message, modal and ephemeral the bot posts; then every recorded
 * Slack call is read back: no mention, broadcast or link may come out of them, and every text is bounded.
 */

const EVIL = 'nope <!channel> <!here> <https://evil.example|click> <@U123> <!subteam^S123>';
/** The markup in EVIL, each of which would ping or disguise a link if it reached mrkdwn raw. */
const MARKUP = ['<!channel>', '<!here>', '<https://evil.example', '<@U123>', '<!subteam^S123>'];
const TEAM = 'T0TEAM';
const CHANNEL = 'C0SUPPORT';
const REQUESTER = 'U0ALICE';
const APPROVER = 'U0APPROVER';
const CONFIG = {
  devices: [
    { id: 'dev_support', name: `Support ${EVIL}`, approval: { approvers: [APPROVER], minApprovals: 1 } },
    { id: 'dev_sales', name: `Sales ${EVIL}` },
  ],
};

async function deliver(url: string, type: string, data: object) {
  const id = unique('evt_');
  const timestamp = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
  const res = await request(`${url}/waping/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(WEBHOOK_SECRET, id, timestamp, body),
    },
    body,
  });
  await res.body.dump();
  return res.statusCode;
}

type Json = Record<string, unknown>;

/** Every mrkdwn string in a payload: top-level `text`, and mrkdwn text objects at any depth. */
function mrkdwnStrings(payload: unknown, topLevel = true): string[] {
  if (Array.isArray(payload)) return payload.flatMap((item) => mrkdwnStrings(item, false));
  if (!payload || typeof payload !== 'object') return [];
  const object = payload as Json;
  const own: string[] = [];
  if (topLevel && typeof object.text === 'string') own.push(object.text);
  if (object.type === 'mrkdwn' && typeof object.text === 'string') own.push(object.text);
  return [
    ...own,
    ...Object.entries(object)
      .filter(([key]) => !(topLevel && key === 'text'))
      .flatMap(([, value]) => mrkdwnStrings(value, false)),
  ];
}

/** Every rich text element at any depth. */
function richElements(payload: unknown): Json[] {
  if (Array.isArray(payload)) return payload.flatMap(richElements);
  if (!payload || typeof payload !== 'object') return [];
  const object = payload as Json;
  const own = ['broadcast', 'link', 'user', 'usergroup', 'channel'].includes(String(object.type)) ? [object] : [];
  return [...own, ...Object.values(object).flatMap(richElements)];
}

/** What the bot asked Slack to show: Web API calls that post or open something, response_url posts, and command acks. */
function everythingShown(h: Harness, acks: unknown[]): Array<{ where: string; payload: unknown }> {
  const methods = new Set(['chat.postMessage', 'chat.update', 'chat.postEphemeral', 'views.open', 'views.update']);
  return [
    ...h.slack.calls.filter((c) => methods.has(c.method)).map((c) => ({ where: c.method, payload: c.args })),
    ...h.slack.responses.map((r) => ({ where: 'response_url', payload: r.body })),
    ...acks.map((payload) => ({ where: 'ack', payload })),
  ];
}

describe.each(DEPLOYED_STORES)('strings the bot did not write, on the %s store', (store) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ store, configFile: CONFIG, env: { OPS_CHANNEL: 'C0OPS', SWEEP_INTERVAL_MS: '1000' } });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('shows them literally and bounded in every message, modal and ephemeral, never as a ping or a link', async () => {
    const acks: unknown[] = [];
    // A user's own words: an unknown subcommand, and the send form (device names from configuration).
    acks.push(
      (await slashCommand(h.eventsUrl, SIGNING_SECRET, { text: EVIL, user_id: REQUESTER, channel_id: CHANNEL })).json,
    );
    await slashCommand(h.eventsUrl, SIGNING_SECRET, { text: `send ${EVIL}`, user_id: REQUESTER, channel_id: CHANNEL });
    await waitFor(() => h.slack.callsTo('views.open').length > 0, 10_000, 'the send modal');

    // An approval request with the text, rejected with the comment.
    const viewId = unique('V0EVIL');
    expect((await submitSendModal(h, { viewId, deviceId: 'dev_support', text: EVIL, user: REQUESTER })).body).toBe('');
    const groupId = groupIdForOrigin(TEAM, viewId);
    const request = await waitFor(
      () => h.slack.messages(CHANNEL).find((m) => JSON.stringify(m.blocks ?? []).includes(`"value":"${groupId}"`)),
      10_000,
      'the approval request',
    );
    await blockAction(h.eventsUrl, SIGNING_SECRET, {
      user_id: APPROVER,
      channel_id: CHANNEL,
      message_ts: request.ts,
      response_url: h.slack.responseUrlFor(unique('r')),
      actions: [{ action_id: 'review_approval', value: groupId }],
    });
    await waitFor(() => h.slack.callsTo('views.open').some((c) => c.args.view.callback_id === 'approval_modal'));
    const rejected = await submitApprovalModal(h, { groupId, user: APPROVER, decision: 'reject', comment: EVIL });
    expect(rejected.body).toBe('');
    await h.bot.idle();

    // A single send that WAPing reports failed in its own (hostile) words; then the same form again.
    const sendView = unique('V0SEND');
    const responseUrl = h.slack.responseUrlFor(unique('dup'));
    await submitSendModal(h, { viewId: sendView, deviceId: 'dev_sales', text: EVIL, responseUrl });
    const key = keyForOrigin(TEAM, sendView);
    const send = await waitFor(async () => {
      const record = await h.bot.sends.get(key);
      return record?.messageId && record.parent ? record : undefined;
    });
    expect(
      await deliver(h.bot.url, 'message.failed', {
        messageId: send.messageId,
        deviceId: 'dev_sales',
        to: send.to,
        error: { code: 'UNDELIVERABLE', message: EVIL },
      }),
    ).toBe(200);
    await submitSendModal(h, { viewId: sendView, deviceId: 'dev_sales', text: EVIL, responseUrl });

    // WAPing's session news: a hostile device id and reason, and a 200 KB reason.
    expect(await deliver(h.bot.url, 'session.disconnected', { deviceId: EVIL, reason: EVIL })).toBe(200);
    expect(
      await deliver(h.bot.url, 'session.disconnected', { deviceId: 'dev_sales', reason: 'x'.repeat(200 * 1024) }),
    ).toBe(200);
    // The form refusing the now disconnected device names it (once the webhook is applied).
    await h.bot.idle();
    const refused = await waitFor(async () => {
      const res = await submitSendModal(h, { viewId: unique('V0DOWN'), deviceId: 'dev_sales', text: 'Hi' });
      return (res.json as { response_action?: string } | undefined)?.response_action === 'errors' ? res : undefined;
    });
    acks.push(refused.json);
    await h.bot.idle();
    const alerts = () => h.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0OPS');
    await waitFor(() => alerts().length >= 2, 20_000, 'the two ops alerts');
    await h.bot.idle();

    // They were shown: the comment in the thread, the request message and the requester's notice.
    const thread = h.slack.threadReplies(CHANNEL, request.ts);
    expect(thread.some((c) => readable(c.args.blocks).includes(`rejected: “${EVIL}”`))).toBe(true);
    expect(readable(h.slack.message(CHANNEL, request.ts)?.blocks)).toContain(EVIL);
    const notice = h.slack.callsTo('chat.postEphemeral').find((c) => c.args.user === REQUESTER);
    expect(readable(notice?.args.blocks)).toContain(`Reason: “${EVIL}”`);
    expect(unescapeMrkdwn(String(notice?.args.text))).toContain(EVIL);
    const shownAlerts = alerts().map((c) => readable(c.args.blocks));
    expect(shownAlerts.some((text) => text.includes(`(${EVIL})`))).toBe(true);
    expect(shownAlerts.some((text) => /\(x+…\(\d+ more characters\)\)/.test(text))).toBe(true);
    const failed = h.slack.message(send.parent?.channel ?? '', send.parent?.ts ?? '');
    expect(unescapeMrkdwn(String(failed?.text))).toContain(EVIL);
    expect(readable(failed?.blocks)).toContain(`Failed: WhatsApp could not deliver the message: ${EVIL}`);
    // The failure's thread reply shows WAPing's reason as rich text, where even mrkdwn's *_~ read as they are.
    const failedReply = h.slack
      .threadReplies(send.parent?.channel ?? '', send.parent?.ts ?? '')
      .find((c) => String(c.args.text).includes('Failed'));
    expect(readable(failedReply?.args.blocks)).toContain(`: WhatsApp could not deliver the message: ${EVIL}`);

    // …and nowhere as markup, and never unbounded.
    const shown = everythingShown(h, acks);
    expect(shown.length).toBeGreaterThan(10);
    for (const { where, payload } of shown) {
      for (const text of mrkdwnStrings(payload)) {
        for (const markup of MARKUP) expect(text, `${where} posts ${markup} raw`).not.toContain(markup);
        expect(text.length, `${where} text length`).toBeLessThanOrEqual(3_100);
      }
      for (const element of richElements(payload)) {
        expect(['user', 'usergroup'], `${where} has a ${String(element.type)} element`).toContain(element.type);
        expect([element.user_id, element.usergroup_id]).not.toContain('U123');
        expect([element.user_id, element.usergroup_id]).not.toContain('S123');
      }
      expect(JSON.stringify(payload).length, `${where} size`).toBeLessThan(30_000);
    }
  });
});
