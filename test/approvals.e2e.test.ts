import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendGroup } from '../src/core/send-group.js';
import { groupIdForOrigin } from '../src/core/send-groups.js';
import {
  DEPLOYED_STORES,
  expectCleanLogs,
  type Harness,
  SIGNING_SECRET,
  startHarness,
  submitApprovalModal,
  submitSendModal,
  waitFor,
} from './support/bot-harness.js';
import { unique } from './support/ids.js';
import { blockAction } from './support/slack-requests.js';

const TEAM = 'T0TEAM';
const REQUESTER = 'U0ALICE';
const NUMBERS = Array.from({ length: 20 }, (_, i) => `+1415555${String(2600 + i).padStart(4, '0')}`);

const CONFIG = {
  defaultDevice: 'dev_sales',
  devices: [
    {
      id: 'dev_support',
      name: 'Support line',
      approval: { approvers: ['U0APPROVER', 'U0BOSS', 'S0LEADS'], minApprovals: 1 },
    },
    { id: 'dev_sales', name: 'Sales' },
  ],
  channels: { C0TWOKEYS: { approval: { approvers: ['U0APPROVER', 'U0BOSS'], minApprovals: 2 } } },
  approval: { teamSends: { approvers: ['U0APPROVER'], minApprovals: 1 } },
};

interface Request {
  group: SendGroup;
  channel: string;
  ts: string;
}

/** Submit the send modal for a team send and wait for its request message. */
async function requestApproval(
  h: Harness,
  values: { deviceId?: string; channel?: string; recipients?: string[] },
): Promise<Request> {
  const channel = values.channel ?? 'C0SUPPORT';
  const viewId = unique('V0APPR');
  const res = await submitSendModal(h, {
    viewId,
    deviceId: values.deviceId ?? 'dev_support',
    channel,
    recipient: (values.recipients ?? [NUMBERS[0] as string]).join('\n'),
    text: 'Team announcement',
    user: REQUESTER,
  });
  expect(res.body).toBe('');
  const groupId = groupIdForOrigin(TEAM, viewId);
  const message = await waitFor(
    () => h.slack.messages(channel).find((m) => JSON.stringify(m.blocks ?? []).includes(`"value":"${groupId}"`)),
    10_000,
    'the approval request message',
  );
  const group = await waitFor(() => h.bot.store.get<SendGroup>(`group:${groupId}`));
  return { group, channel: message.channel, ts: message.ts };
}

function click(
  h: Harness,
  request: Request,
  user: string,
  actionId: 'review_approval' | 'cancel_approval',
  responseId = unique('r'),
) {
  return blockAction(h.eventsUrl, SIGNING_SECRET, {
    user_id: user,
    channel_id: request.channel,
    message_ts: request.ts,
    response_url: h.slack.responseUrlFor(responseId),
    actions: [{ action_id: actionId, value: request.group.id }],
  }).then((res) => ({ res, responseId }));
}

/** Submit the approval modal as `user` with a decision. */
function decide(
  h: Pick<Harness, 'eventsUrl'>,
  request: Request,
  user: string,
  decision: 'approve' | 'reject',
  comment?: string,
) {
  return submitApprovalModal(h, { groupId: request.group.id, user, decision, comment });
}

const sendsOf = (h: Harness, request: Request) => request.group.keys.reduce((n, key) => n + h.waping.sendsFor(key), 0);

describe.each(DEPLOYED_STORES)('team sends and approvals on the %s store', (store) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ store, configFile: CONFIG });
    h.slack.setUsergroup('S0LEADS', ['U0LEAD']);
  });
  afterAll(async () => {
    expectCleanLogs(h.logs, ['Team announcement', ...NUMBERS]);
    await h.stop();
  });

  it('sends nothing on submit, then exactly once when an approver approves, showing who approved', async () => {
    const request = await requestApproval(h, {});
    await h.bot.idle();
    expect(sendsOf(h, request)).toBe(0);
    expect(h.waping.requests.filter((r) => request.group.keys.includes(r.key ?? ''))).toHaveLength(0);
    const review = await click(h, request, 'U0APPROVER', 'review_approval');
    expect(review.res.status).toBe(200);
    await waitFor(() => h.slack.callsTo('views.open').some((c) => c.args.view.callback_id === 'approval_modal'));
    const approved = await decide(h, request, 'U0APPROVER', 'approve', 'Looks good');
    expect(approved.body).toBe('');
    await waitFor(() => sendsOf(h, request) === 1, 10_000, 'the approved send');
    await h.bot.idle();
    const message = h.slack.message(request.channel, request.ts);
    expect(message?.text).toContain('approved');
    expect(JSON.stringify(message?.blocks)).toContain('Approved* by <@U0APPROVER>');
    expect(JSON.stringify(message?.blocks)).not.toContain('review_approval');
    const thread = h.slack.threadReplies(request.channel, request.ts).map((c) => String(c.args.text));
    expect(thread[0]).toContain('<@U0APPROVER> approved: “Looks good”');
  });

  it('lets a member of an approving user group approve', async () => {
    const request = await requestApproval(h, {});
    expect((await decide(h, request, 'U0LEAD', 'approve')).body).toBe('');
    await waitFor(() => sendsOf(h, request) === 1, 10_000, 'the approved send');
  });

  it('refuses the requester approving their own request, and anyone not listed', async () => {
    const request = await requestApproval(h, {});
    const own = await click(h, request, REQUESTER, 'review_approval');
    const ownNotice = await waitFor(() => h.slack.responses.find((r) => r.id === own.responseId));
    expect(ownNotice.body.text).toContain('someone else has to approve');
    const stranger = await click(h, request, 'U0MALLORY', 'review_approval');
    const strangerNotice = await waitFor(() => h.slack.responses.find((r) => r.id === stranger.responseId));
    expect(strangerNotice.body.text).toContain('Only the approvers');
    for (const user of [REQUESTER, 'U0MALLORY']) {
      const res = await decide(h, request, user, 'approve');
      expect(res.json).toMatchObject({ response_action: 'errors' });
    }
    await h.bot.idle();
    expect(sendsOf(h, request)).toBe(0);
    expect((await h.bot.store.get<SendGroup>(`group:${request.group.id}`))?.approval?.state).toBe('pending');
  });

  it('sends once when Approve is double-clicked', async () => {
    const request = await requestApproval(h, {});
    const answers = await Promise.all([
      decide(h, request, 'U0APPROVER', 'approve'),
      decide(h, request, 'U0APPROVER', 'approve'),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    await waitFor(() => sendsOf(h, request) === 1, 10_000, 'the send');
    await h.bot.idle();
    expect(sendsOf(h, request)).toBe(1);
    expect(h.waping.requests.filter((r) => r.key === request.group.keys[0])).toHaveLength(1);
  });

  it('has exactly one outcome when Approve and Reject race, and sends only if Approve won', async () => {
    for (let round = 0; round < 5; round++) {
      const request = await requestApproval(h, {});
      const [a, r] = await Promise.all([
        decide(h, request, 'U0APPROVER', 'approve'),
        decide(h, request, 'U0BOSS', 'reject', 'Not now'),
      ]);
      expect([a.body === '', r.body === ''].filter(Boolean)).toHaveLength(1);
      await h.bot.idle();
      const group = await h.bot.store.get<SendGroup>(`group:${request.group.id}`);
      expect(['approved', 'rejected']).toContain(group?.approval?.state);
      expect(sendsOf(h, request)).toBe(group?.approval?.state === 'approved' ? 1 : 0);
    }
  });

  it('tells the requester when a request is rejected, and sends nothing', async () => {
    const request = await requestApproval(h, {});
    expect((await decide(h, request, 'U0BOSS', 'reject', 'Wrong customer')).body).toBe('');
    await h.bot.idle();
    const told = h.slack.callsTo('chat.postEphemeral').find((c) => String(c.args.text).includes('rejected'));
    expect(told?.args.user).toBe(REQUESTER);
    expect(String(told?.args.text)).toContain('Wrong customer');
    expect(sendsOf(h, request)).toBe(0);
    expect(JSON.stringify(h.slack.message(request.channel, request.ts)?.blocks)).toContain('Rejected');
  });

  it('lets only the requester cancel, and sends nothing after a cancel', async () => {
    const request = await requestApproval(h, {});
    const other = await click(h, request, 'U0BOSS', 'cancel_approval');
    expect((await waitFor(() => h.slack.responses.find((r) => r.id === other.responseId))).body.text).toContain(
      'Only the person',
    );
    await click(h, request, REQUESTER, 'cancel_approval');
    await waitFor(
      async () => (await h.bot.store.get<SendGroup>(`group:${request.group.id}`))?.approval?.state === 'cancelled',
    );
    expect((await decide(h, request, 'U0APPROVER', 'approve')).json).toMatchObject({ response_action: 'errors' });
    await h.bot.idle();
    expect(sendsOf(h, request)).toBe(0);
  });

  it('needs two distinct approvers with minApprovals 2; the same approver twice counts once', async () => {
    const request = await requestApproval(h, { deviceId: 'dev_sales', channel: 'C0TWOKEYS' });
    expect((await decide(h, request, 'U0APPROVER', 'approve')).body).toBe('');
    const again = await decide(h, request, 'U0APPROVER', 'approve');
    expect(again.json).toMatchObject({
      response_action: 'errors',
      errors: { decision: expect.stringContaining('already approved') },
    });
    await h.bot.idle();
    expect(sendsOf(h, request)).toBe(0);
    expect(JSON.stringify(h.slack.message(request.channel, request.ts)?.blocks)).toContain('(1 of 2)');
    expect((await decide(h, request, 'U0BOSS', 'approve')).body).toBe('');
    await waitFor(() => sendsOf(h, request) === 1, 10_000, 'the send after the second approval');
  });

  it('sends a 20-recipient team send once per recipient with distinct keys, each status on its own line', async () => {
    const request = await requestApproval(h, { deviceId: 'dev_sales', recipients: NUMBERS });
    expect(request.group.recipients).toHaveLength(20);
    expect((await decide(h, request, 'U0APPROVER', 'approve')).body).toBe('');
    await waitFor(() => request.group.keys.every((key) => h.waping.sendsFor(key) === 1), 20_000, 'twenty sends');
    expect(new Set(request.group.keys).size).toBe(20);
    await h.bot.idle();
    const first = await h.bot.sends.get(request.group.keys[0] as string);
    await h.waping.emit('message.read', { messageId: first?.messageId, deviceId: 'dev_sales' });
    await waitFor(
      async () => {
        await h.bot.idle();
        return JSON.stringify(h.slack.message(request.channel, request.ts)?.blocks).includes('Read');
      },
      10_000,
      'the first line to show Read',
    );
    const text = JSON.stringify(h.slack.message(request.channel, request.ts)?.blocks);
    expect(text.match(/Queued/g)).toHaveLength(19);
    expect(text.match(/Read/g)).toHaveLength(1);
    expect(text).toContain('+1 415 555 2600');
    expect(text).toContain('+1 415 555 2619');
  });

  it('answers too many recipients and a bad line inline', async () => {
    const many = await submitSendModal(h, {
      viewId: unique('V0MANY'),
      recipient: Array.from({ length: 51 }, (_, i) => `+1415555${String(3000 + i)}`).join('\n'),
    });
    expect((many.json as { errors: Record<string, string> }).errors.recipient).toContain('At most 50');
    const bad = await submitSendModal(h, { viewId: unique('V0BAD'), recipient: `${NUMBERS[0]}\n+1555` });
    expect((bad.json as { errors: Record<string, string> }).errors.recipient).toContain('Line 2');
  });
});

describe('approvals across replicas and restarts', () => {
  it('sends once when two approvers approve at the same moment on two replicas', async () => {
    const a = await startHarness({ store: 'redis', configFile: CONFIG });
    const b = await startHarness({ store: 'redis', configFile: CONFIG, shareWith: a });
    try {
      for (let round = 0; round < 5; round++) {
        const request = await requestApproval(a, {});
        const answers = await Promise.all([
          decide(a, request, 'U0APPROVER', 'approve'),
          decide(b, request, 'U0BOSS', 'approve'),
        ]);
        expect(answers.map((r) => r.status)).toEqual([200, 200]);
        await waitFor(() => sendsOf(a, request) === 1, 10_000, 'the send');
        await Promise.all([a.bot.idle(), b.bot.idle()]);
        expect(sendsOf(a, request)).toBe(1);
        expect(a.waping.requests.filter((r) => r.key === request.group.keys[0])).toHaveLength(1);
      }
    } finally {
      await b.stop();
      await a.stop();
    }
  });

  it.each(DEPLOYED_STORES)(
    'expires on time on the %s store even when the app restarts before the deadline',
    async (store) => {
      const config = { ...CONFIG, approval: { ...CONFIG.approval, expiresAfter: '3s' } };
      const env = { SWEEP_INTERVAL_MS: '200' };
      const first = await startHarness({ store, configFile: config, env });
      const request = await requestApproval(first, {});
      const expiresAt = request.group.approval?.expiresAt ?? 0;
      await first.bot.stop(); // the process goes away before the deadline…
      const second = await startHarness({ store, configFile: config, env, shareWith: first }); // …and a new one starts
      try {
        const expired = await waitFor(
          async () => {
            const group = await second.bot.store.get<SendGroup>(`group:${request.group.id}`);
            return group?.approval?.state === 'expired' ? group : undefined;
          },
          10_000,
          'the request to expire',
        );
        expect(expired.approval?.decidedAt).toBeGreaterThanOrEqual(expiresAt);
        expect((expired.approval?.decidedAt ?? 0) - expiresAt).toBeLessThan(2_000);
        await second.bot.idle();
        expect(JSON.stringify(second.slack.message(request.channel, request.ts)?.blocks)).toContain('Expired');
        expect(second.slack.callsTo('chat.postEphemeral').some((c) => String(c.args.text).includes('expired'))).toBe(
          true,
        );
        expect((await decide(second, request, 'U0APPROVER', 'approve')).json).toMatchObject({
          response_action: 'errors',
        });
        expect(sendsOf(second, request)).toBe(0);
      } finally {
        await second.bot.stop();
        await first.stop();
      }
    },
  );
});

describe('several recipients without approval', () => {
  it('sends to each recipient once under one message when the count is within maxRecipientsWithoutApproval', async () => {
    const h = await startHarness({ store: 'memory', configFile: { maxRecipientsWithoutApproval: 3 } });
    try {
      const viewId = unique('V0FEW');
      const recipients = NUMBERS.slice(0, 3);
      const res = await submitSendModal(h, { viewId, recipient: `${recipients.join('\n')}\n${recipients[0]}` });
      expect(res.body).toBe('');
      const group = await waitFor(() => h.bot.store.get<SendGroup>(`group:${groupIdForOrigin(TEAM, viewId)}`));
      expect(group.approval).toBeUndefined();
      expect(group.recipients).toEqual(recipients);
      await waitFor(() => group.keys.every((key) => h.waping.sendsFor(key) === 1), 10_000, 'three sends');
      await h.bot.idle();
      expect(h.waping.totalSends()).toBe(3);
      expect(h.slack.callsTo('chat.postMessage')).toHaveLength(1);
      const blocks = JSON.stringify(h.slack.messages()[0]?.blocks);
      expect(blocks.match(/Queued/g)).toHaveLength(3);
    } finally {
      await h.stop();
    }
  });
});
