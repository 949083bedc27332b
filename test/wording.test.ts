import { describe, expect, it } from 'vitest';
import { outcomeWords, refusalText, threadNoteWords } from '../src/adapters/slack/wording/approvals.js';
import {
  ALREADY_SUBMITTED,
  deviceAlertWords,
  noticeWords,
  parentFallbackText,
} from '../src/adapters/slack/wording/notices.js';
import { pluralise, type Words } from '../src/adapters/slack/wording/words.js';
import { createStore } from '../src/adapters/store/create-store.js';
import { withApproverDecision, withCancellation } from '../src/core/approval-decisions.js';
import { ApprovalService } from '../src/core/approvals.js';
import { BackgroundWork } from '../src/core/background.js';
import { MessageSync } from '../src/core/message-sync.js';
import type { DecisionRefusal } from '../src/core/notices.js';
import type { Logger, MessageRef, SendNotifier, WapingPort } from '../src/core/ports.js';
import type { ApprovalState, SendGroup } from '../src/core/send-group.js';
import { SendGroups } from '../src/core/send-groups.js';
import type { SendRecord } from '../src/core/send-record.js';
import { defaultSendPolicy, SendService } from '../src/core/sends.js';

/*
 * The core speaks in codes and typed notices; the Slack adapter's wording turns them into what people read. These
 * pin both halves: which code each refused decision gives, and the words (plurals included) each notice becomes.
 */

const NOW = 1_700_000_000_000;
const REQUESTER = 'U0REQ';

function pendingGroup(overrides: Partial<SendGroup['approval']> = {}): SendGroup {
  return {
    id: 'g1',
    teamId: 'T1',
    requestedBy: REQUESTER,
    channelId: 'C1',
    deviceId: 'dev_1',
    deviceName: 'Support',
    text: 'Hello',
    recipients: ['+14155550101', '+14155550102'],
    keys: ['k1', 'k2'],
    approval: {
      rule: { approvers: ['U0A', 'U0B'], minApprovals: 2 },
      state: 'pending',
      decisions: [],
      expiresAt: NOW + 60_000,
      ...overrides,
    },
    launched: false,
    version: 1,
    renderedVersion: 1,
    createdAt: NOW,
  };
}

/** Words as a person reads them: mentions as `<@U…>`, emoji as `:name:`, foreign parts as they are. */
function plain(words: string | Words): string {
  if (typeof words === 'string') return words;
  return words
    .map((part) =>
      typeof part === 'string'
        ? part
        : 'user' in part
          ? `<@${part.user}>`
          : 'emoji' in part
            ? `:${part.emoji}:`
            : part.foreign,
    )
    .join('');
}

describe('decision refusals are codes in the core', () => {
  it('refuses a decision on a decided request with its outcome', () => {
    for (const state of ['approved', 'rejected', 'cancelled', 'expired'] as const) {
      const group = pendingGroup({ state });
      expect(withApproverDecision(group, { userId: 'U0A', decision: 'approve', now: NOW }).refusal).toEqual({
        code: 'already-decided',
        state,
      });
      expect(withCancellation(group, REQUESTER, NOW).refusal).toEqual({ code: 'already-decided', state });
    }
  });

  it('refuses a second approval by the same approver', () => {
    const once = withApproverDecision(pendingGroup(), { userId: 'U0A', decision: 'approve', now: NOW });
    expect(once.refusal).toBeUndefined();
    const twice = withApproverDecision(once.next as SendGroup, { userId: 'U0A', decision: 'approve', now: NOW + 1 });
    expect(twice).toEqual({ refusal: { code: 'approved-already' }, expired: false });
  });

  it("carries the adapter's own description of what keeps a group from being approved, and lets a reject through", () => {
    const unapprovable = () => '52 blocks (at most 50)';
    const group = pendingGroup();
    expect(withApproverDecision(group, { userId: 'U0A', decision: 'approve', now: NOW, unapprovable }).refusal).toEqual(
      { code: 'unapprovable', problem: '52 blocks (at most 50)' },
    );
    const rejected = withApproverDecision(group, { userId: 'U0A', decision: 'reject', now: NOW, unapprovable });
    expect(rejected.refusal).toBeUndefined();
    expect(rejected.next?.approval?.state).toBe('rejected');
  });

  it('lets only the requester cancel, and says so when the deadline had passed', () => {
    expect(withCancellation(pendingGroup(), 'U0A', NOW).refusal).toEqual({ code: 'not-the-requester' });
    const late = withCancellation(pendingGroup(), REQUESTER, NOW + 60_000);
    expect(late.refusal).toEqual({ code: 'expired-before-cancel' });
    expect(late.next?.approval?.state).toBe('expired');
  });

  it('expires a request an approver finds past its deadline, without a refusal (the service answers `expired`)', () => {
    const step = withApproverDecision(pendingGroup(), { userId: 'U0A', decision: 'approve', now: NOW + 60_000 });
    expect(step.expired).toBe(true);
    expect(step.refusal).toBeUndefined();
    expect(step.next?.approval?.state).toBe('expired');
  });
});

describe('ApprovalService answers refused decisions with codes', () => {
  const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  /** Slack as far as a request awaiting approval needs it: its message is posted, everything else is taken. */
  const notifier: SendNotifier = {
    announce: async () => undefined,
    refresh: async () => {},
    announceGroup: async (group): Promise<MessageRef> => ({ channel: 'C1', ts: `group.${group.id}` }),
    refreshGroup: async () => {},
    noteInThread: async () => {},
    replyWithStatus: async () => {},
    alertOps: async () => {},
    tell: async () => {},
  };
  /** No decision here gets as far as sending. */
  const waping: WapingPort = {
    textBody: (message) => JSON.stringify(message),
    sendMessage: async () => {
      throw new Error('nothing is sent while a request awaits approval');
    },
    listDevices: async () => [],
  };

  async function wired() {
    const time = { now: NOW };
    const clock = { now: () => time.now, sleep: async () => {} };
    const store = await createStore({ url: 'memory://', dataDir: '/nonexistent' });
    const background = new BackgroundWork(quiet);
    // What every service of one replica shares.
    const shared = { store, notifier, background, clock, logger: quiet, instanceId: 'bot' };
    const sync = new MessageSync({ ...shared, lockMs: 60_000 });
    const sends = new SendService({ ...shared, waping, sync, policy: defaultSendPolicy });
    const sendGroups = new SendGroups({ ...shared, sends, sync });
    const userGroups = { membersOf: async (id: string) => (id === 'S0OPS' ? ['U0B'] : []) };
    const approvals = new ApprovalService({ ...shared, sendGroups, sync, userGroups });
    const { id, teamId, requestedBy, channelId, deviceId, deviceName, text, recipients } = pendingGroup();
    await sendGroups.create(
      { id, teamId, requestedBy, channelId, deviceId, deviceName, text, recipients },
      { approvers: ['U0A', 'S0OPS'], minApprovals: 1 },
      60_000,
    );
    return { approvals, background, time, store };
  }

  it('gone, own request, not an approver; an approver of a user group may review', async () => {
    const { approvals, store } = await wired();
    expect(await approvals.mayReview('nope', 'U0A')).toEqual({ ok: false, error: { code: 'gone' } });
    expect(await approvals.mayReview('g1', REQUESTER)).toMatchObject({ ok: false, error: { code: 'own-request' } });
    expect(await approvals.mayReview('g1', 'U0X')).toMatchObject({ ok: false, error: { code: 'not-an-approver' } });
    expect(await approvals.mayReview('g1', 'U0B')).toMatchObject({ ok: true });
    await store.close();
  });

  it('expired when the click comes after the deadline; already decided afterwards', async () => {
    const { approvals, background, time, store } = await wired();
    time.now += 60_000;
    expect(await approvals.decide('g1', 'U0A', 'approve')).toMatchObject({ ok: false, error: { code: 'expired' } });
    await background.idle();
    expect(await approvals.decide('g1', 'U0A', 'approve')).toMatchObject({
      ok: false,
      error: { code: 'already-decided', state: 'expired' },
    });
    expect(await approvals.cancel('g1', REQUESTER)).toMatchObject({
      ok: false,
      error: { code: 'already-decided', state: 'expired' },
    });
    await store.close();
  });
});

describe('sync targets left behind', () => {
  it('are read from the JSON array an older version kept under sync:behind, and cleared once synced', async () => {
    const store = await createStore({ url: 'memory://', dataDir: '/nonexistent' });
    const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    const background = new BackgroundWork(quiet);
    const clock = { now: () => NOW, sleep: async () => {} };
    const notifier = {} as SendNotifier; // never reached: neither target has a record to show
    const sync = new MessageSync({
      store,
      notifier,
      background,
      clock,
      logger: quiet,
      instanceId: 'bot',
      lockMs: 1_000,
    });
    await store.set('sync:behind', ['send-key-1', 'group:g1']);
    expect(await sync.resumeBehind()).toBe(2);
    await background.idle();
    expect(await store.pendingList('sync:behind')).toEqual([]);
    expect(await store.get('sync:behind')).toEqual([]);
    await store.close();
  });
});

describe('the wording of refusals', () => {
  const cases: Array<[DecisionRefusal, string]> = [
    [{ code: 'gone' }, 'This approval request does not exist any more.'],
    [{ code: 'already-decided', state: 'rejected' }, 'This request is already rejected.'],
    [{ code: 'already-decided', state: 'pending' }, 'This request is already waiting for approval.'],
    [{ code: 'own-request' }, 'You asked for this send, so someone else has to approve it.'],
    [{ code: 'not-an-approver' }, 'Only the approvers listed on this request can review it.'],
    [{ code: 'expired' }, 'This request has expired, so nothing was sent.'],
    [{ code: 'expired-before-cancel' }, 'This request had already expired, so nothing was sent.'],
    [{ code: 'approved-already' }, 'You have already approved this request; it needs another approver.'],
    [{ code: 'not-the-requester' }, 'Only the person who asked for this send can cancel it.'],
    [
      { code: 'unapprovable', problem: 'a section too long' },
      'This request cannot be approved: Slack could not show its whole text and every recipient (a section too long). Reject it and ask for a shorter send.',
    ],
  ];
  it.each(cases)('words %j', (refusal, text) => {
    expect(refusalText(refusal)).toBe(text);
  });

  it('names every outcome', () => {
    const states: ApprovalState[] = ['pending', 'approved', 'rejected', 'cancelled', 'expired'];
    expect(states.map(outcomeWords)).toEqual(['waiting for approval', 'approved', 'rejected', 'cancelled', 'expired']);
  });
});

describe('the wording of notices', () => {
  it('pluralises a count unless it is one', () => {
    expect(pluralise(0, 'recipient')).toBe('0 recipients');
    expect(pluralise(1, 'recipient')).toBe('1 recipient');
    expect(pluralise(2, 'attempt')).toBe('2 attempts');
    expect(pluralise(3, 'reply', 'replies')).toBe('3 replies');
  });

  it('tells the requester a group ended, with the count in the right number and the comment literal', () => {
    expect(plain(noticeWords({ kind: 'group-ended', state: 'rejected', recipients: 1 }))).toBe(
      'Your WhatsApp send to 1 recipient was rejected, so nothing was sent.',
    );
    const words = noticeWords({ kind: 'group-ended', state: 'expired', recipients: 3, comment: '*not* <!here>' });
    expect(plain(words)).toBe(
      'Your WhatsApp send to 3 recipients was expired, so nothing was sent. Reason: “*not* <!here>”.',
    );
    expect(words).toContainEqual({ foreign: '*not* <!here>', max: 500 });
  });

  it('tells a second submission of a form that nothing was sent again, with the first send when there is one', () => {
    expect(noticeWords({ kind: 'already-submitted' })).toBe(ALREADY_SUBMITTED);
    const send = { state: 'accepted', status: 'queued', messageId: 'msg_1', attempts: 1 } as unknown as SendRecord;
    const said = noticeWords({ kind: 'already-submitted', send });
    expect(said).toMatch(/^This form was already submitted, so nothing was sent again\. That send: /);
    expect(said).not.toMatch(/:[a-z_]+:/); // no emoji in a private note
  });

  it('notes each decision in the thread: who, what, and the comment literal', () => {
    const note = (decision: Parameters<typeof threadNoteWords>[0]['decision']) =>
      plain(threadNoteWords({ kind: 'approval-decision', decision }));
    expect(note({ userId: 'U0A', decision: 'approve', at: NOW })).toBe('<@U0A> approved');
    expect(note({ userId: 'U0A', decision: 'reject', at: NOW, comment: 'no _way_' })).toBe(
      '<@U0A> rejected: “no _way_”',
    );
    expect(note({ userId: REQUESTER, decision: 'cancel', at: NOW })).toBe(`<@${REQUESTER}> cancelled`);
    expect(note({ userId: 'system', decision: 'expire', at: NOW })).toBe('The request expired');
  });

  it('alerts ops about a device session, with the device name bold and literal and the reason literal', () => {
    const down = deviceAlertWords({
      kind: 'device-session',
      deviceName: '*Support*',
      connected: false,
      reason: 'logged out',
    });
    expect(plain(down)).toBe(
      ':red_circle: WhatsApp device *Support* is disconnected (logged out): re-link it by QR code in WAPing. Sends from it are refused until then.',
    );
    expect(down).toContainEqual({ foreign: '*Support*', max: 100, bold: true });
    expect(plain(deviceAlertWords({ kind: 'device-session', deviceName: 'Support', connected: false }))).toBe(
      ':red_circle: WhatsApp device Support is disconnected: re-link it by QR code in WAPing. Sends from it are refused until then.',
    );
    expect(plain(deviceAlertWords({ kind: 'device-session', deviceName: 'Support', connected: true }))).toBe(
      ':large_green_circle: WhatsApp device Support is connected again.',
    );
  });

  it('says why the message that follows a send went to a DM, for a send, a group and an approval request', () => {
    expect(parentFallbackText('not_in_channel', true, undefined)).toBe(
      "I can't post in this channel (invite me with `/invite @WhatsApp` to follow sends here). Your message is being sent anyway; I'll keep you posted in a direct message.",
    );
    expect(parentFallbackText(undefined, false, { approval: false })).toBe(
      "Slack would not take the message that follows this send (no answer). Your messages are being sent anyway; I'll keep you posted in a direct message.",
    );
    expect(parentFallbackText('ratelimited', false, { approval: true })).toMatch(
      /\(ratelimited\)\. I've put the approval request in a direct message to you instead/,
    );
  });
});
