import { threadNoteWords } from '../../src/adapters/slack/wording/approvals.js';
import { deviceAlertWords, noticeWords } from '../../src/adapters/slack/wording/notices.js';
import type { Words } from '../../src/adapters/slack/wording/words.js';
import type { ConversationNotifier, InboundMessage, InboundTarget } from '../../src/core/inbound.js';
import type { DeviceAlert, Notice, ThreadNote } from '../../src/core/notices.js';
import {
  type Clock,
  type Logger,
  MessageGoneError,
  type MessageRef,
  type Person,
  type SendNotifier,
} from '../../src/core/ports.js';
import type { SendGroup } from '../../src/core/send-group.js';
import type { SendPolicy } from '../../src/core/send-policy.js';
import type { DeliveryStatus, SendRecord } from '../../src/core/send-record.js';

/*
 * The in-memory stand-ins for the core's ports that unit and property tests share: a logger that stays quiet and a
 * Slack side that records what it was asked to show. test/adapters/slack/notifier.contract.test.ts holds the
 * recording notifier to the same contract as the real Slack adapter, so the two cannot drift apart.
 */

/** A send group to two recipients as `SendGroups.create` stores it (launched, without approval), with `overrides`. */
export function sendGroupFixture(overrides: Partial<SendGroup> = {}): SendGroup {
  return {
    id: 'group-contract',
    teamId: 'T0TEAM',
    requestedBy: 'U0ALICE',
    channelId: 'C0SUPPORT',
    deviceId: 'dev_support',
    deviceName: 'Support line',
    text: 'Your order is ready',
    recipients: ['+14155550123', '+14155550124'],
    keys: ['key-a', 'key-b'],
    launched: true,
    version: 1,
    renderedVersion: 0,
    createdAt: 1_700_000_000_000,
    ...overrides,
  };
}

/** A logger that prints nothing; errors are kept in `errors`, when given, so a test can insist there were none. */
export function quietLogger(errors?: unknown[]): Logger {
  return {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (fields) => {
      errors?.push(fields);
    },
  };
}

/** Words as a thread would read them: mentions as `<@U…>`, foreign parts as they are, emoji left out. */
export function asText(words: Words): string {
  return words
    .map((part) =>
      typeof part === 'string' ? part : 'user' in part ? `<@${part.user}>` : 'emoji' in part ? '' : part.foreign,
    )
    .join('');
}

/** One call the core made to the Slack side, with the send's key and state when it was about one send. */
export interface NotifierCall {
  method: keyof SendNotifier;
  key?: string;
  state?: string;
}

/** A message the recording notifier posted, and what it last showed. */
export interface RecordedMessage {
  ref: MessageRef;
  /** How often it was re-rendered. */
  refreshes: number;
  /** The status of the send it follows, as last rendered (sends only). */
  status?: DeliveryStatus;
  /** The group it follows, as last rendered (groups only). */
  group?: SendGroup;
  /** The status replies posted in its thread. */
  thread: DeliveryStatus[];
}

const refId = (ref: MessageRef) => `${ref.channel}/${ref.ts}`;

/**
 * The Slack side of the core, in memory: every method resolves, announcements post a message with a fresh
 * Slack-shaped ts in the send's channel, and everything asked is recorded. A message can be made to vanish
 * (`vanish`), after which updating or replying to it throws MessageGoneError, as the Slack adapter does.
 */
export class RecordingNotifier implements SendNotifier {
  /** Every call, in the order it was made (recorded when it starts). */
  readonly calls: NotifierCall[] = [];
  /** The messages posted, by `channel/ts`. */
  readonly messages = new Map<string, RecordedMessage>();
  /** The status replies posted in each send's thread, by send key. */
  readonly threads = new Map<string, DeliveryStatus[]>();
  /** What each send's message last showed, by send key. */
  readonly lastRefresh = new Map<string, DeliveryStatus | undefined>();
  /** The notes posted in threads by noteInThread (approval decisions), as text. */
  readonly threadLines: string[] = [];
  /** Who was told what privately. */
  readonly told: Array<{ userId: string; text: string }> = [];
  /** The ops alerts, as text. */
  readonly alerts: string[] = [];
  /** The group as its message last showed it. */
  lastGroup: SendGroup | undefined;

  readonly #gone = new Set<string>();
  #posted = 0;

  /** `latency` runs before each refresh and status reply, so that tests can let other work overtake them. */
  constructor(private readonly latency: () => Promise<void> = async () => {}) {}

  /** The message at `ref` is deleted (or its channel archived): it can no longer be updated or replied to. */
  vanish(ref: MessageRef): void {
    this.#gone.add(refId(ref));
  }

  /** The message posted at `ref`, unless it vanished. */
  message(ref: MessageRef): RecordedMessage | undefined {
    return this.#gone.has(refId(ref)) ? undefined : this.messages.get(refId(ref));
  }

  async announce(send: SendRecord): Promise<MessageRef> {
    this.calls.push({ method: 'announce', key: send.key, state: send.state });
    return this.#post(send.channelId, { status: send.status });
  }

  async refresh(send: SendRecord): Promise<void> {
    this.calls.push({ method: 'refresh', key: send.key, state: send.state });
    await this.latency();
    if (!send.parent) return;
    const message = this.#existing(send.parent);
    message.refreshes += 1;
    message.status = send.status;
    this.lastRefresh.set(send.key, send.status);
  }

  async announceGroup(group: SendGroup): Promise<MessageRef> {
    this.calls.push({ method: 'announceGroup' });
    return this.#post(group.channelId, { group });
  }

  async refreshGroup(group: SendGroup, _sends: SendRecord[]): Promise<void> {
    this.calls.push({ method: 'refreshGroup' });
    if (!group.parent) return;
    const message = this.#existing(group.parent);
    message.refreshes += 1;
    message.group = group;
    this.lastGroup = group;
  }

  async replyWithStatus(send: SendRecord, status: DeliveryStatus): Promise<void> {
    this.calls.push({ method: 'replyWithStatus', key: send.key, state: send.state });
    await this.latency();
    if (!send.parent) return;
    this.#existing(send.parent).thread.push(status);
    this.threads.set(send.key, [...(this.threads.get(send.key) ?? []), status]);
  }

  /** Notes, alerts and notices are kept as the Slack adapter words them (`adapters/slack/wording`), as text. */
  async noteInThread(_parent: MessageRef, note: ThreadNote): Promise<void> {
    this.calls.push({ method: 'noteInThread' });
    this.threadLines.push(asText(threadNoteWords(note)));
  }

  async alertOps(alert: DeviceAlert): Promise<void> {
    this.calls.push({ method: 'alertOps' });
    this.alerts.push(asText(deviceAlertWords(alert)));
  }

  async tell(person: Person, notice: Notice): Promise<void> {
    this.calls.push({ method: 'tell' });
    const said = noticeWords(notice);
    this.told.push({ userId: person.userId, text: typeof said === 'string' ? said : asText(said) });
  }

  #post(channel: string, shown: Pick<RecordedMessage, 'status' | 'group'>): MessageRef {
    const ref = { channel, ts: `1700000000.${String(++this.#posted).padStart(6, '0')}` };
    this.messages.set(refId(ref), { ref, refreshes: 0, thread: [], ...shown });
    return ref;
  }

  /** The message at `ref`; MessageGoneError when it vanished (a message never posted here is taken as it is). */
  #existing(ref: MessageRef): RecordedMessage {
    if (this.#gone.has(refId(ref))) throw new MessageGoneError('the message was deleted');
    const known = this.messages.get(refId(ref));
    if (known) return known;
    const adopted = { ref, refreshes: 0, thread: [] };
    this.messages.set(refId(ref), adopted);
    return adopted;
  }
}

/** Time that moves only when a test (or a backoff sleep) moves it, so nothing really waits. */
export class ManualClock implements Clock {
  constructor(public at = Date.now()) {}
  now(): number {
    return this.at;
  }
  async sleep(ms: number): Promise<void> {
    this.at += ms;
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

/** A send policy with short waits, so that a test's backoff and leases play out in a few steps of the clock. */
export const SHORT_SEND_POLICY: SendPolicy = {
  leaseMs: 10_000,
  attemptsPerRun: 3,
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  giveUpAfterMs: 60 * 60 * 1000,
};

/** The chat side of conversations, in memory: each customer's message it was asked to post, in order. */
export class RecordingConversationNotifier implements ConversationNotifier {
  readonly posted: Array<{ target: InboundTarget; message: InboundMessage }> = [];

  async postInbound(target: InboundTarget, message: InboundMessage): Promise<void> {
    this.posted.push({ target, message });
  }
}
