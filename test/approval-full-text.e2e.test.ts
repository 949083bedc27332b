import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalModal } from '../src/adapters/slack/blocks/approval-modal.js';
import { groupMessage } from '../src/adapters/slack/blocks/group-message.js';
import { WapingClient } from '../src/adapters/waping/client.js';
import { checkSendForm } from '../src/core/send-form.js';
import type { SendGroup } from '../src/core/send-group.js';
import { groupIdForOrigin, idempotencyKeyForGroupRecipient } from '../src/core/send-groups.js';
import {
  DEPLOYED_STORES,
  type Harness,
  SIGNING_SECRET,
  startHarness,
  submitApprovalModal,
  submitSendModal,
  waitFor,
} from './support/bot-harness.js';
import { unique } from './support/ids.js';
import { readable, readableMessageText } from './support/slack-reader.js';
import { blockAction } from './support/slack-requests.js';

/*
 * Four eyes: whatever WAPing receives is what the approver read, in full, in the request message and in
 * the Review modal. The text is read back from the blocks the bot sent to the Slack fake, the way Slack
 * shows them, and compared with the body the WAPing sandbox received.
 */

const TEAM = 'T0TEAM';
const REQUESTER = 'U0ALICE';
const APPROVER = 'U0APPROVER';
const NUMBER = '+14155550123';
const CONFIG = {
  devices: [{ id: 'dev_support', name: 'Support line', approval: { approvers: [APPROVER], minApprovals: 1 } }],
};
/** The reproduction of issue 7: ~3,050 characters whose `&`s grow past 2,900 when escaped for mrkdwn. */
const HIDDEN_TAIL_TEXT = `Pay ${'&'.repeat(700)} ${'a'.repeat(2300)} HIDDEN_TAIL pay to example.org/x`;

interface Seen {
  message: unknown[];
  modal: unknown[];
  body: string;
}

/** Ask for approval of `text`, read the request message and the Review modal, approve, and read what WAPing got. */
async function throughApproval(h: Harness, text: string, afterReading?: (seen: Omit<Seen, 'body'>) => void) {
  const viewId = unique('V0FULL');
  const submitted = await submitSendModal(h, {
    viewId,
    deviceId: 'dev_support',
    recipient: NUMBER,
    text,
    user: REQUESTER,
  });
  expect(submitted.body).toBe('');
  const groupId = groupIdForOrigin(TEAM, viewId);
  const request = await waitFor(
    () => h.slack.messages().find((m) => JSON.stringify(m.blocks ?? []).includes(`"value":"${groupId}"`)),
    10_000,
    'the approval request message',
  );
  const review = await blockAction(h.eventsUrl, SIGNING_SECRET, {
    user_id: APPROVER,
    channel_id: request.channel,
    message_ts: request.ts,
    response_url: h.slack.responseUrlFor(unique('r')),
    actions: [{ action_id: 'review_approval', value: groupId }],
  });
  expect(review.status).toBe(200);
  const opened = await waitFor(
    () =>
      h.slack
        .callsTo('views.open')
        .find(
          (c) =>
            c.args.view.callback_id === 'approval_modal' &&
            JSON.parse(c.args.view.private_metadata).groupId === groupId,
        ),
    10_000,
    'the Review modal',
  );
  const seen = { message: request.blocks as unknown[], modal: opened.args.view.blocks as unknown[] };
  afterReading?.(seen);
  const approved = await submitApprovalModal(h, { groupId, user: APPROVER, decision: 'approve' });
  expect(approved.body).toBe('');
  const key = idempotencyKeyForGroupRecipient(TEAM, groupId, NUMBER);
  const sent = await waitFor(
    () => h.waping.requests.find((r) => r.key === key && r.outcome === 'accepted'),
    10_000,
    'the approved send at WAPing',
  );
  const body = (JSON.parse(sent.body) as { text: { body: string } }).text.body;
  return { ...seen, body } satisfies Seen;
}

describe.each(DEPLOYED_STORES)('the approver reads the whole text on the %s store', (store) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ store, configFile: CONFIG });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('shows a text whose escaping would pass 2,900 characters in full, so nothing hidden reaches WhatsApp', async () => {
    const seen = await throughApproval(h, HIDDEN_TAIL_TEXT, ({ message, modal }) => {
      // Before the decision is possible: the tail is there for the approver to read.
      expect(readable(message)).toContain('HIDDEN_TAIL pay to example.org/x');
      expect(readable(modal)).toContain('HIDDEN_TAIL pay to example.org/x');
    });
    expect(seen.body).toContain('HIDDEN_TAIL');
    expect(readableMessageText(seen.message)).toBe(seen.body);
    expect(readableMessageText(seen.modal)).toBe(seen.body);
  });

  it('shows markup-looking text literally: no mention, link or formatting comes from it', async () => {
    const text = 'Hi <!channel> <@U123> <https://evil.example|click> *bold* _it_ ~s~ `code` &amp; 👩‍💻 \u202Eabc\u202C';
    const seen = await throughApproval(h, text);
    expect(seen.body).toBe(text);
    expect(readableMessageText(seen.message)).toBe(text);
    expect(readableMessageText(seen.modal)).toBe(text);
    for (const blocks of [seen.message, seen.modal]) {
      const json = JSON.stringify(blocks);
      expect(json).not.toMatch(/"type":"(broadcast|link|usergroup)"/);
      expect(json).not.toContain('"user_id":"U123"');
    }
  });
});

describe('a request that Slack could not show in full', () => {
  const manyApprovers = Array.from({ length: 250 }, (_, i) => `U0APPR${String(i).padStart(4, '0')}`);

  it('is refused at the send form with an inline error, and nothing is requested or sent', async () => {
    // 250 approvers do not fit in one line of the request: the request could not be shown as it is.
    const h = await startHarness({
      store: 'embedded',
      configFile: { devices: [{ id: 'dev_support', name: 'Support line', approval: { approvers: manyApprovers } }] },
    });
    try {
      const viewId = unique('V0TOOBIG');
      const res = await submitSendModal(h, { viewId, deviceId: 'dev_support', text: HIDDEN_TAIL_TEXT });
      expect(res.json).toMatchObject({
        response_action: 'errors',
        errors: { message: expect.stringContaining('too long for Slack to show in full') },
      });
      await h.bot.idle();
      expect(await h.bot.store.get(`group:${groupIdForOrigin(TEAM, viewId)}`)).toBeUndefined();
      expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
      expect(h.waping.totalSends()).toBe(0);
    } finally {
      await h.stop();
    }
  });

  it('cannot be approved when it was stored before the check existed, and nothing is sent', async () => {
    const h = await startHarness({ store: 'redis', configFile: CONFIG });
    try {
      const groupId = unique('g-legacy-');
      const recipients = Array.from({ length: 2_000 }, (_, i) => `+1415555${String(i).padStart(4, '0')}`);
      const group: SendGroup = {
        id: groupId,
        teamId: TEAM,
        requestedBy: REQUESTER,
        channelId: 'C0SUPPORT',
        deviceId: 'dev_support',
        deviceName: 'Support line',
        text: HIDDEN_TAIL_TEXT,
        recipients,
        keys: recipients.map((to) => idempotencyKeyForGroupRecipient(TEAM, groupId, to)),
        approval: {
          rule: { approvers: [APPROVER], minApprovals: 1 },
          state: 'pending',
          decisions: [],
          expiresAt: Date.now() + 60_000,
        },
        launched: false,
        parent: { channel: 'C0SUPPORT', ts: '1700000000.000100' },
        version: 1,
        renderedVersion: 1,
        createdAt: Date.now(),
      };
      await h.bot.store.set(`group:${groupId}`, group);
      const review = await blockAction(h.eventsUrl, SIGNING_SECRET, {
        user_id: APPROVER,
        channel_id: 'C0SUPPORT',
        message_ts: '1700000000.000100',
        response_url: h.slack.responseUrlFor('legacy-review'),
        actions: [{ action_id: 'review_approval', value: groupId }],
      });
      expect(review.status).toBe(200);
      const notice = await waitFor(() => h.slack.responses.find((r) => r.id === 'legacy-review'));
      expect(notice.body.text).toContain('cannot be reviewed');
      expect(h.slack.callsTo('views.open')).toHaveLength(0);
      const approved = await submitApprovalModal(h, { groupId, user: APPROVER, decision: 'approve' });
      expect(approved.json).toMatchObject({
        response_action: 'errors',
        errors: { decision: expect.stringContaining('cannot be approved') },
      });
      await h.bot.idle();
      expect((await h.bot.store.get<SendGroup>(`group:${groupId}`))?.approval?.state).toBe('pending');
      expect(h.waping.totalSends()).toBe(0);
    } finally {
      await h.stop();
    }
  });
});

/** Texts the send form accepts: any mix of Slack's control characters, mrkdwn, emoji, RTL marks and newlines, up to 4,096. */
const PIECES = [
  '&',
  '<',
  '>',
  '*',
  '_',
  '~',
  '`',
  '```',
  '>',
  '\n',
  ' ',
  '👍',
  '👩‍💻',
  '\u200F',
  '\u202E',
  '&amp;',
  '<!here>',
  ':smile:',
  'a',
  'é',
];
const acceptedText = fc
  .oneof(
    fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 1_200 }).map((parts) => parts.join('')),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 4_096 }),
    fc.string({ unit: 'grapheme', minLength: 2_900, maxLength: 4_096 }),
  )
  .map((text) => text.slice(0, 4_096))
  .filter(
    (text) =>
      checkSendForm({ recipient: NUMBER, deviceId: 'dev_support', text }, [
        { id: 'dev_support', name: 'Support line', connected: true },
      ]).ok,
  );

describe('what the approver reads equals what WAPing receives (fast-check)', () => {
  it('for any text the form accepts, renders the message and the modal so their readable text is the body byte for byte', () => {
    const waping = new WapingClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'unused' });
    fc.assert(
      fc.property(acceptedText, fc.integer({ min: 1, max: 50 }), (text, count) => {
        const recipients = Array.from({ length: count }, (_, i) => `+1415555${String(100 + i).padStart(4, '0')}`);
        const group: SendGroup = {
          id: 'g1',
          teamId: TEAM,
          requestedBy: REQUESTER,
          channelId: 'C0SUPPORT',
          deviceId: 'dev_support',
          deviceName: 'Support line',
          text,
          recipients,
          keys: [],
          approval: { rule: { approvers: [APPROVER], minApprovals: 1 }, state: 'pending', decisions: [], expiresAt: 0 },
          launched: false,
          version: 1,
          renderedVersion: 1,
          createdAt: 0,
        };
        // What the bot would send: the real adapter's request body, read back as WAPing would.
        const body = (
          JSON.parse(waping.textBody({ deviceId: 'dev_support', to: NUMBER, text })) as {
            text: { body: string };
          }
        ).text.body;
        const message = groupMessage(group, []).blocks;
        const modal = approvalModal(group).blocks;
        expect(readableMessageText(message)).toBe(body);
        expect(readableMessageText(modal)).toBe(body);
        expect(message.length).toBeLessThanOrEqual(50);
        expect(modal.length).toBeLessThanOrEqual(100);
        for (const to of ['+1 415 555 0100', `+1 415 555 ${String(99 + count).padStart(4, '0')}`]) {
          expect(readable(modal)).toContain(to);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('through the real bot: the sandbox receives exactly the text the approver read, for sampled accepted texts', async () => {
    const h = await startHarness({ store: 'embedded', configFile: CONFIG });
    try {
      await fc.assert(
        fc.asyncProperty(acceptedText, async (text) => {
          const seen = await throughApproval(h, text);
          expect(readableMessageText(seen.message)).toBe(seen.body);
          expect(readableMessageText(seen.modal)).toBe(seen.body);
          expect(seen.body).toBe(text);
        }),
        { numRuns: 12 },
      );
    } finally {
      await h.stop();
    }
  });
});
