/**
 * Signed but malformed requests into the real bot over HTTP: non-object payloads, timestamps from the future, Slack
 * ids named like object members, and response_url values that point away from Slack.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DEPLOYED_STORES,
  type Harness,
  SIGNING_SECRET,
  startHarness,
  submitSendModal,
  waitFor,
} from './support/bot-harness.js';
import { blockAction, sendRaw, sendSigned, signSlackRequest, slashCommand } from './support/slack-requests.js';

const NUMBER = '+14155550142';
let views = 0;
const nextViewId = () => `V0ODD${++views}${Math.random().toString(36).slice(2, 8).toUpperCase()}`;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

describe.each(DEPLOYED_STORES)('signed but malformed Slack requests on the %s store', (store) => {
  let h: Harness;

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    h = await startHarness({
      store,
      configFile: {
        defaultDevice: 'dev_support',
        devices: [
          { id: 'dev_support', name: 'Support line' },
          { id: 'constructor', name: 'Constructor' },
          { id: 'toString', name: 'To string' },
          { id: '__proto__', name: 'Proto' },
        ],
        channels: { C0GUARDED: { approval: { approvers: ['U0BOSS'], minApprovals: 1 } } },
      },
    });
  });
  afterEach(async () => {
    await h.bot.idle();
    h.slack.reset();
    expect(unhandled).toEqual([]);
  });
  afterAll(async () => {
    await h.stop();
    process.off('unhandledRejection', onUnhandled);
  });

  it('answers 400 at once to payload=null and to every other payload that is not a JSON object', async () => {
    const sendsBefore = h.waping.requests.length;
    const bodies = ['payload=null', 'payload=5', 'payload=%22text%22', 'payload=%5B%5D', 'payload=true'];
    for (const body of bodies) {
      const res = await sendSigned(h.eventsUrl, SIGNING_SECRET, body);
      expect(res.status, body).toBe(400);
      expect(res.json, body).toMatchObject({ error: expect.stringContaining('JSON object') });
    }
    for (const body of ['null', '42', '[1,2]', '"x"']) {
      const res = await sendRaw(h.eventsUrl, {
        body,
        headers: { 'content-type': 'application/json', ...signSlackRequest(SIGNING_SECRET, body) },
      });
      expect(res.status, body).toBe(400);
    }
    expect(h.waping.requests).toHaveLength(sendsBefore);
  });

  it('answers 400, not 500, to signed payloads Bolt itself cannot read', async () => {
    const click = {
      type: 'block_actions',
      user: { id: 'U0ALICE' },
      actions: [{ action_id: 'retry_send', value: 'x' }],
    };
    for (const payload of [
      { ...click, channel: null },
      { ...click, team: { id: 'constructor' } },
      { ...click, team: { id: '__proto__' } },
    ]) {
      const res = await sendSigned(
        h.eventsUrl,
        SIGNING_SECRET,
        new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
      );
      expect(res.status, JSON.stringify(payload)).toBe(400);
    }
  });

  it('refuses a timestamp more than 5 minutes in the future as it refuses a stale one', async () => {
    const now = Math.floor(Date.now() / 1000);
    const args = { text: 'help', user_id: 'U0ALICE', channel_id: 'C0SUPPORT' };
    const future = await slashCommand(h.eventsUrl, SIGNING_SECRET, args, { timestampSeconds: now + 301 + 5 });
    expect(future.status).toBe(401);
    const stale = await slashCommand(h.eventsUrl, SIGNING_SECRET, args, { timestampSeconds: now - 301 - 5 });
    expect(stale.status).toBe(401);
    // A clock a minute ahead of ours is within the window, as it is for stale ones.
    const skewed = await slashCommand(h.eventsUrl, SIGNING_SECRET, args, { timestampSeconds: now + 60 });
    expect(skewed.status).toBe(200);
    expect(skewed.json).toMatchObject({ response_type: 'ephemeral' });
  });

  for (const id of ['constructor', '__proto__', 'toString']) {
    it(`treats channel, user and device ids named ${id} as plain keys and sends without asking for approval`, async () => {
      const viewId = nextViewId();
      const res = await submitSendModal(h, { viewId, channel: id, user: id, deviceId: id, recipient: NUMBER });
      expect(res.status).toBe(200);
      expect(res.body).toBe('');
      await waitFor(
        () => h.waping.requests.find((r) => JSON.parse(r.body).deviceId === id),
        10_000,
        `a WAPing send through device ${id}`,
      );
      // No approval request was posted: the channel and device have no rule.
      expect(h.slack.messages().some((m) => JSON.stringify(m.blocks ?? []).includes('approve'))).toBe(false);
    });
  }

  it('still asks for approval in a channel that has a rule', async () => {
    const sendsBefore = h.waping.requests.length;
    const res = await submitSendModal(h, { viewId: nextViewId(), channel: 'C0GUARDED', recipient: NUMBER });
    expect(res.status).toBe(200);
    await waitFor(() => h.slack.messages('C0GUARDED').length > 0, 10_000, 'the approval request');
    await h.bot.idle();
    expect(h.waping.requests).toHaveLength(sendsBefore);
  });

  it('follows a response_url only to the Slack API origin it was configured with', async () => {
    // The retry button answers through Bolt's respond(): to the fake's origin (standing in for hooks.slack.com) it goes.
    const allowed = await blockAction(h.eventsUrl, SIGNING_SECRET, {
      user_id: 'U0ALICE',
      channel_id: 'C0SUPPORT',
      message_ts: '1700000000.000100',
      response_url: h.slack.responseUrlFor('allowed'),
      actions: [{ action_id: 'retry_send', value: 'no-such-send' }],
    });
    expect(allowed.status).toBe(200);
    await waitFor(() => h.slack.responses.find((r) => r.id === 'allowed'), 10_000, 'the reply to the allowed URL');

    // Anywhere else (here: a loopback server that is not the Slack API) it is not followed.
    const elsewhere = await startRecorder();
    try {
      const refused = await blockAction(h.eventsUrl, SIGNING_SECRET, {
        user_id: 'U0ALICE',
        channel_id: 'C0SUPPORT',
        message_ts: '1700000000.000200',
        response_url: `${elsewhere.url}/hook`,
        actions: [{ action_id: 'retry_send', value: 'no-such-send' }],
      });
      expect(refused.status).toBe(200);
      await h.bot.idle();
      await waitFor(() => h.logs.lines().some((l) => JSON.stringify(l).includes('outside Slack')), 5_000, 'a log line');
      expect(elsewhere.hits).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });

  it('tells the requester through Slack, not through a stored response_url that points elsewhere', async () => {
    const elsewhere = await startRecorder();
    try {
      // A resubmitted form is answered through the response_url kept with it (here: not Slack's) or, failing that,
      // an ephemeral message.
      const viewId = nextViewId();
      const values = { viewId, recipient: NUMBER, responseUrl: `${elsewhere.url}/stored` };
      expect((await submitSendModal(h, values)).status).toBe(200);
      await h.bot.idle();
      expect((await submitSendModal(h, values)).status).toBe(200);
      await waitFor(() => h.slack.callsTo('chat.postEphemeral').length > 0, 10_000, 'the ephemeral fallback');
      expect(elsewhere.hits).toEqual([]);

      // The same resubmission with Slack's response_url does use it.
      const allowedView = nextViewId();
      const allowed = { viewId: allowedView, recipient: NUMBER, responseUrl: h.slack.responseUrlFor(allowedView) };
      expect((await submitSendModal(h, allowed)).status).toBe(200);
      await h.bot.idle();
      expect((await submitSendModal(h, allowed)).status).toBe(200);
      await waitFor(() => h.slack.responses.find((r) => r.id === allowedView), 10_000, 'the reply to response_url');
    } finally {
      await elsewhere.close();
    }
  });
});

/** A loopback HTTP server that records the paths posted to it. */
async function startRecorder() {
  const { createServer } = await import('node:http');
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
