import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SlackNotifier } from '../../../src/adapters/slack/notifier.js';
import { MessageGoneError, type MessageRef, type SendNotifier } from '../../../src/core/ports.js';
import type { SendRecord } from '../../../src/core/send-record.js';
import { newSendRecord } from '../../../src/core/send-records.js';
import { quietLogger, RecordingNotifier, sendGroupFixture } from '../../support/fakes.js';
import { type SlackFake, startSlackFake } from '../../support/slack-fake.js';

/*
 * One contract for the Slack side of the core (the SendNotifier port): the recording notifier the core's tests run
 * on, and the real Slack adapter posting to the recording Slack Web API fake. What the core relies on (a posted
 * message can be found again, re-rendered and replied to, and one gone for good says so with MessageGoneError) must
 * hold for both, so the core's tests cannot pass on a Slack side that behaves as the real one never would.
 */

const OPS_CHANNEL = 'C0OPS';
let slack: SlackFake;

beforeAll(async () => {
  slack = await startSlackFake();
});
afterAll(() => slack.close());

/** One SendNotifier under test, and how a test looks at what it did. */
interface Subject {
  notifier: SendNotifier;
  /** How often the message at `ref` was re-rendered; undefined when there is no message there. */
  edits(ref: MessageRef): number | undefined;
  /** How many replies were posted in the thread of the message at `ref`. */
  threadReplies(ref: MessageRef): number;
  /** How many messages were posted at all. */
  posted(): number;
  /** The message's channel is archived (or the message deleted): it can never be updated or replied to again. */
  lose(ref: MessageRef): void;
  /** How often `userId` was told something privately. */
  toldTo(userId: string): number;
  /** How many alerts reached the ops channel. */
  opsAlerts(): number;
}

const subjects: Array<{ name: string; start(): Subject }> = [
  {
    name: 'the recording notifier (test/support/fakes.ts)',
    start: () => {
      const notifier = new RecordingNotifier();
      return {
        notifier,
        edits: (ref) => notifier.message(ref)?.refreshes,
        threadReplies: (ref) => notifier.message(ref)?.thread.length ?? 0,
        posted: () => notifier.messages.size,
        lose: (ref) => notifier.vanish(ref),
        toldTo: (userId) => notifier.told.filter((told) => told.userId === userId).length,
        opsAlerts: () => notifier.alerts.length,
      };
    },
  },
  {
    name: 'SlackNotifier against the Slack Web API fake',
    start: () => {
      slack.reset();
      const client = new WebClient('xoxb-contract-token', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
      return {
        notifier: new SlackNotifier(client, quietLogger(), OPS_CHANNEL),
        edits: (ref) => slack.message(ref.channel, ref.ts)?.edits,
        threadReplies: (ref) => slack.threadReplies(ref.channel, ref.ts).length,
        posted: () => slack.callsTo('chat.postMessage').length,
        lose: (ref) => slack.failChannel(ref.channel, 'is_archived'),
        toldTo: (userId) =>
          slack.callsTo('chat.postEphemeral').filter((call) => call.args.user === userId).length +
          slack.callsTo('chat.postMessage').filter((call) => call.args.channel === userId).length,
        opsAlerts: () => slack.messages(OPS_CHANNEL).length,
      };
    },
  },
];

const NOW = 1_700_000_000_000;

/** A send to one recipient, as SendService claims it. */
function send(overrides: Partial<SendRecord> = {}): SendRecord {
  return {
    ...newSendRecord(
      {
        key: 'key-contract',
        teamId: 'T0TEAM',
        requestedBy: 'U0ALICE',
        channelId: 'C0SUPPORT',
        origin: { kind: 'view', viewId: 'V0CONTRACT' },
        deviceId: 'dev_support',
        deviceName: 'Support line',
        to: '+14155550123',
        text: 'Your order is ready',
      },
      '{}',
      { now: NOW, owner: 'bot-1', leaseUntil: NOW + 60_000 },
    ),
    ...overrides,
  };
}

/** A send WAPing accepted, whose message was posted at `parent`. */
const queued = (parent: MessageRef): SendRecord =>
  send({ parent, state: 'accepted', status: 'queued', messageId: 'msg_1', owner: '', attempts: 1 });

/** A team send to two recipients, launched without approval. */
const group = sendGroupFixture;

describe.each(subjects)('SendNotifier: $name', ({ start }) => {
  let subject: Subject;
  let notifier: SendNotifier;

  beforeEach(() => {
    subject = start();
    notifier = subject.notifier;
  });

  it("posts a send's message in the send's channel and says where it is", async () => {
    const ref = await notifier.announce(send());
    expect(ref).toEqual({ channel: 'C0SUPPORT', ts: expect.stringMatching(/^\d+\.\d+$/) });
    expect(subject.edits(ref as MessageRef)).toBe(0);
  });

  it('posts each send its own message', async () => {
    const first = await notifier.announce(send());
    const second = await notifier.announce(send({ key: 'key-other' }));
    expect(first?.ts).not.toBe(second?.ts);
    expect(subject.posted()).toBe(2);
  });

  it("re-renders the send's message where it was posted, each time it is asked", async () => {
    const ref = (await notifier.announce(send())) as MessageRef;
    await notifier.refresh(queued(ref));
    expect(subject.edits(ref)).toBe(1);
    await notifier.refresh({ ...queued(ref), status: 'delivered' });
    expect(subject.edits(ref)).toBe(2);
  });

  it("posts each status reply in the thread of the send's message", async () => {
    const ref = (await notifier.announce(send())) as MessageRef;
    await notifier.replyWithStatus(queued(ref), 'sent');
    await notifier.replyWithStatus(queued(ref), 'delivered');
    expect(subject.threadReplies(ref)).toBe(2);
    expect(subject.edits(ref)).toBe(0);
  });

  it('does nothing for a send whose message was never posted', async () => {
    await notifier.refresh(send());
    await notifier.replyWithStatus(send(), 'sent');
    expect(subject.posted()).toBe(0);
  });

  it("posts a group's message in its channel and re-renders it with its sends", async () => {
    const ref = (await notifier.announceGroup(group())) as MessageRef;
    expect(ref).toEqual({ channel: 'C0SUPPORT', ts: expect.stringMatching(/^\d+\.\d+$/) });
    await notifier.refreshGroup(group({ parent: ref, version: 2 }), [queued(ref)]);
    expect(subject.edits(ref)).toBe(1);
  });

  it('says MessageGoneError when a message can never be updated or replied to again', async () => {
    const ref = (await notifier.announce(send())) as MessageRef;
    const groupRef = (await notifier.announceGroup(group())) as MessageRef;
    subject.lose(ref);
    subject.lose(groupRef);
    await expect(notifier.refresh(queued(ref))).rejects.toBeInstanceOf(MessageGoneError);
    await expect(notifier.replyWithStatus(queued(ref), 'sent')).rejects.toBeInstanceOf(MessageGoneError);
    await expect(notifier.refreshGroup(group({ parent: groupRef }), [])).rejects.toBeInstanceOf(MessageGoneError);
  });

  // The two private channels of the port, kept apart: they take typed notices, worded by the adapter.
  it('tells one person something privately', async () => {
    await notifier.tell({ userId: 'U0BOB', channelId: 'C0SUPPORT' }, { kind: 'already-submitted' });
    expect(subject.toldTo('U0BOB')).toBe(1);
    expect(subject.toldTo('U0ALICE')).toBe(0);
  });

  it('alerts the ops channel', async () => {
    await notifier.alertOps({ kind: 'device-session', deviceName: 'Support line', connected: false });
    expect(subject.opsAlerts()).toBe(1);
  });
});
