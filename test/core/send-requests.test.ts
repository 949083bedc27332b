import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/adapters/store/create-store.js';
import type { AccessPolicy } from '../../src/core/access.js';
import type { ApprovalPolicy } from '../../src/core/approval-policy.js';
import { DeviceDirectory } from '../../src/core/devices.js';
import { keyForOrigin } from '../../src/core/idempotency.js';
import type { Store } from '../../src/core/ports.js';
import { RecentSends } from '../../src/core/recent-sends.js';
import type { SendGroup } from '../../src/core/send-group.js';
import { groupIdForOrigin } from '../../src/core/send-groups.js';
import {
  type SendRequestDeps,
  type SendRequestInput,
  type SendRequestOutcome,
  SendRequests,
} from '../../src/core/send-requests.js';
import type { SendService } from '../../src/core/sends.js';
import { claimSubmission } from '../../src/core/submissions.js';
import type { Services } from '../../src/wiring/services.js';
import { FakeWaping, WAPING_RESULTS } from '../support/fake-waping.js';
import { ManualClock, quietLogger, RecordingNotifier, SHORT_SEND_POLICY } from '../support/fakes.js';
import { wireTestServices } from '../support/services.js';
import { notingCalls } from '../support/store-calls.js';

/*
 * The send use case on its own, over the memory store and the core's real services (sends, approvals, the device
 * list): one test per outcome code, and that nothing is claimed before the checks pass.
 */

const TEAM = 'T0TEAM';
const NUMBERS = ['+14155550101', '+14155550102', '+14155550103', '+14155550104'];
const TEXT = 'Your order is ready';
const OPEN: AccessPolicy = { users: [], userGroups: [], channels: [] };
const POLICY: ApprovalPolicy = {
  devices: { dev_shared: { approvers: ['U0BOB'], minApprovals: 1 } },
  channels: {},
  maxRecipients: 50,
  maxRecipientsWithoutApproval: 3,
  expiresAfterMs: 60 * 60 * 1000,
};

describe('SendRequests, the send use case', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'waping-requests-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  let store: Store;
  let clock: ManualClock;
  let waping: FakeWaping;
  let services: Services;
  let sends: SendService;
  /** The groups the show-in-full check was asked about. */
  let shown: SendGroup[];
  let forms = 0;
  /** Each store call, in order (see `notingCalls`). */
  let storeCalls: string[];

  beforeEach(async () => {
    storeCalls = [];
    store = notingCalls(await createStore({ url: 'memory://', dataDir }), storeCalls);
    clock = new ManualClock();
    waping = new FakeWaping({ clock });
    services = wireTestServices({
      store,
      waping,
      notifier: new RecordingNotifier(),
      clock,
      sendPolicy: SHORT_SEND_POLICY,
    });
    sends = services.sends;
    shown = [];
  });
  afterEach(async () => {
    await services.idle();
    await store.close();
  });

  function requests(overrides: Partial<SendRequestDeps> = {}): SendRequests {
    const devices = new DeviceDirectory(
      waping,
      clock,
      {
        configured: [
          { id: 'dev_support', name: 'Support line' },
          { id: 'dev_shared', name: 'Shared phone' },
        ],
        cacheMs: 60_000,
      },
      quietLogger(),
    );
    return new SendRequests({
      store,
      recent: new RecentSends(store, clock),
      delivery: sends.delivery,
      sendGroups: services.sendGroups,
      devices,
      access: OPEN,
      userGroups: { membersOf: async () => [] },
      approvalPolicy: POLICY,
      cannotShowInFull: (group) => {
        shown.push(group);
        return undefined;
      },
      ...overrides,
    });
  }

  /** A filled-in form from a new origin (a new modal), unless `originId` says which. */
  function input(form: Partial<SendRequestInput['form']> = {}, originId = `V0FORM${++forms}`): SendRequestInput {
    return {
      form: { recipient: NUMBERS[0] as string, deviceId: 'dev_support', text: TEXT, ...form },
      teamId: TEAM,
      requestedBy: 'U0ALICE',
      channelId: 'C0SUPPORT',
      originId,
    };
  }

  /** Whether anything was claimed for a form: its submission fingerprint, its send or its group. */
  async function claimedFor(originId: string): Promise<boolean> {
    const send = await store.get(`send:${keyForOrigin(TEAM, originId)}`);
    const group = await store.get(`group:${groupIdForOrigin(TEAM, originId)}`);
    return send !== undefined || group !== undefined;
  }

  it('answers a form with errors as codes per field, and claims nothing', async () => {
    const form = input({ recipient: '415 555 0101', deviceId: undefined, text: '  ' });
    expect(await requests().submit(form)).toEqual({
      kind: 'invalid',
      errors: {
        recipient: { code: 'needs-country-code' },
        device: { code: 'no-device-chosen' },
        message: { code: 'empty-message' },
      },
    } satisfies SendRequestOutcome);
    expect(await claimedFor(form.originId)).toBe(false);
  });

  it('reports each refused line of several recipients, numbered, and too many recipients with the limit', async () => {
    const lines = await requests().submit(input({ recipient: `${NUMBERS[0]}\n+1415555\n${NUMBERS[1]}\nabc` }));
    expect(lines).toEqual({
      kind: 'invalid',
      errors: {
        recipient: {
          code: 'bad-lines',
          lines: [
            { line: 2, problem: 'invalid-number' },
            { line: 4, problem: 'needs-country-code' },
          ],
        },
      },
    });
    const many = await requests({ approvalPolicy: { ...POLICY, maxRecipients: 3 } }).submit(
      input({ recipient: NUMBERS.join('\n') }),
    );
    expect(many).toEqual({ kind: 'invalid', errors: { recipient: { code: 'too-many-recipients', max: 3, got: 4 } } });
  });

  it('refuses someone the access rules leave out, and claims nothing', async () => {
    const form = input();
    const outcome = await requests({ access: { ...OPEN, users: ['U0BOB'] } }).submit(form);
    expect(outcome).toEqual({ kind: 'refused' });
    expect(await claimedFor(form.originId)).toBe(false);
  });

  it('says an approver is needed, with the limit, past maxRecipientsWithoutApproval when nobody approves team sends', async () => {
    const form = input({ recipient: NUMBERS.join('\n') });
    expect(await requests().submit(form)).toEqual({ kind: 'needs-approver', limit: 3 });
    expect(await claimedFor(form.originId)).toBe(false);
  });

  it('refuses what the chat platform could not show in full, with its words, before claiming', async () => {
    const form = input({ recipient: NUMBERS.slice(0, 2).join('\n') });
    const outcome = await requests({ cannotShowInFull: () => '51 blocks, at most 50' }).submit(form);
    expect(outcome).toEqual({
      kind: 'too-long-to-show',
      problem: '51 blocks, at most 50',
      recipients: 2,
      approvalNeeded: false,
    });
    expect(await claimedFor(form.originId)).toBe(false);
  });

  it('asks the show-in-full check about groups only, with the whole text, every recipient and the approval rule', async () => {
    await requests().submit(input());
    expect(shown).toEqual([]);
    await requests().submit(input({ recipient: NUMBERS[0], deviceId: 'dev_shared' }));
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({
      text: TEXT,
      recipients: [NUMBERS[0]],
      deviceName: 'Shared phone',
      approval: { rule: { approvers: ['U0BOB'], minApprovals: 1 }, state: 'pending' },
    });
  });

  it('claims one recipient without approval as a send under the form key, and delivers it only on carryOn', async () => {
    const use = requests();
    const form = input();
    const outcome = await use.submit(form);
    expect(outcome).toMatchObject({
      kind: 'sending',
      send: {
        key: keyForOrigin(TEAM, form.originId),
        origin: { kind: 'form', originId: form.originId },
        to: NUMBERS[0],
        deviceName: 'Support line',
        state: 'pending',
      },
    });
    await services.idle();
    expect(waping.attempts).toHaveLength(0);
    use.carryOn(outcome);
    await services.idle();
    expect(waping.attempts).toHaveLength(1);
    expect((await sends.get(keyForOrigin(TEAM, form.originId)))?.state).toBe('accepted');
  });

  it('reports the same form submitted again as a duplicate of its send, and sends it once', async () => {
    const use = requests();
    const first = await use.submit(input({}, 'V0TWICE'));
    use.carryOn(first);
    const again = await use.submit(input({}, 'V0TWICE'));
    expect(again).toMatchObject({ kind: 'duplicate', send: { key: keyForOrigin(TEAM, 'V0TWICE') } });
    use.carryOn(again);
    await services.idle();
    expect(waping.attempts).toHaveLength(1);
  });

  it('refuses the same form resubmitted for something else, and claims nothing new', async () => {
    const use = requests();
    await use.submit(input({}, 'V0EDITED'));
    expect(await use.submit(input({ text: 'Something else' }, 'V0EDITED'))).toEqual({
      kind: 'different-resubmission',
    });
    expect((await sends.get(keyForOrigin(TEAM, 'V0EDITED')))?.text).toBe(TEXT);
  });

  it("claims a first submission's form claim, send and outbox entry in one store call", async () => {
    const use = requests();
    await use.submit(input()); // the outbox's first use looks for an older version's list once
    await services.idle();
    storeCalls.length = 0;
    const form = input({ recipient: NUMBERS[1] });
    const outcome = await use.submit(form);
    expect(outcome).toMatchObject({
      kind: 'sending',
      send: { key: keyForOrigin(TEAM, form.originId), state: 'pending' },
    });
    // Besides the same-text check (a read first) and the person's Home (a view, listed after the answer), the claim
    // is one store call.
    expect(storeCalls.filter((call) => !call.includes(' home:') && !call.includes(' recent:'))).toEqual(['claimAll']);
    expect(await store.pendingList('outbox:pending')).toContain(keyForOrigin(TEAM, form.originId));
  });

  it("sends a form whose own claim alone was written (an older version crashed before the send's claim)", async () => {
    const form = input();
    const asked = { to: [NUMBERS[0]], device: 'dev_support', text: TEXT, approval: false };
    expect(await claimSubmission(store, TEAM, form.originId, asked)).toBe('new');
    const outcome = await requests().submit(form);
    expect(outcome).toMatchObject({ kind: 'sending', send: { key: keyForOrigin(TEAM, form.originId) } });
    expect(await store.pendingList('outbox:pending')).toEqual([keyForOrigin(TEAM, form.originId)]);
  });

  it('claims several recipients as one group under the form, accepted once, started only on carryOn', async () => {
    const use = requests();
    const form = input({ recipient: NUMBERS.slice(0, 2).join('\n') }, 'V0GROUP');
    const outcome = await use.submit(form);
    expect(outcome).toMatchObject({
      kind: 'group',
      accepted: true,
      group: { id: groupIdForOrigin(TEAM, 'V0GROUP'), recipients: NUMBERS.slice(0, 2), launched: false },
    });
    expect(outcome.kind === 'group' && outcome.group.approval).toBeUndefined();
    expect(await use.submit(form)).toMatchObject({ kind: 'group', accepted: false });
    use.carryOn(outcome);
    await services.idle();
    expect(waping.attempts).toHaveLength(2);
  });

  it('claims a send on a device that needs approval as a pending group, and sends nothing yet', async () => {
    const use = requests();
    const outcome = await use.submit(input({ deviceId: 'dev_shared' }));
    expect(outcome).toMatchObject({
      kind: 'group',
      accepted: true,
      group: { approval: { state: 'pending', rule: { approvers: ['U0BOB'] } } },
    });
    use.carryOn(outcome);
    await services.idle();
    expect(waping.attempts).toHaveLength(0);
  });

  describe('the same text to the same number within ten minutes, from a new form', () => {
    it('asks first, naming the number, when and by whom, and claims nothing; sends once confirmed', async () => {
      const use = requests();
      const first = await use.submit({ ...input({}, 'V0FIRST'), requestedBy: 'U0ALICE' });
      use.carryOn(first);
      await services.idle();
      const sentAt = clock.now();
      clock.advance(4 * 60_000);

      const again = { ...input({}, 'V0AGAIN'), requestedBy: 'U0BOB' };
      expect(await use.submit(again)).toEqual({
        kind: 'recently-sent',
        sends: [{ to: NUMBERS[0], at: sentAt, by: 'U0ALICE' }],
      } satisfies SendRequestOutcome);
      expect(await claimedFor('V0AGAIN')).toBe(false);
      // The first form submitted again is its own send: a duplicate, never a warning.
      expect(await use.submit(input({}, 'V0FIRST'))).toMatchObject({ kind: 'duplicate' });

      const confirmed = await use.submit({ ...again, sendAgain: true });
      expect(confirmed).toMatchObject({ kind: 'sending', send: { key: keyForOrigin(TEAM, 'V0AGAIN') } });
      use.carryOn(confirmed);
      await services.idle();
      expect(waping.attempts).toHaveLength(2);
    });

    it('checks each recipient of a team send and names only those the text went to', async () => {
      const use = requests();
      use.carryOn(await use.submit(input({ recipient: NUMBERS[1] })));
      await services.idle();
      const outcome = await use.submit(input({ recipient: NUMBERS.slice(0, 3).join('\n') }));
      expect(outcome).toMatchObject({ kind: 'recently-sent', sends: [{ to: NUMBERS[1] }] });
      expect(outcome.kind === 'recently-sent' && outcome.sends).toHaveLength(1);
    });

    it('reads what was sent lately while the device list is still being read, side by side', async () => {
      const use = requests();
      use.carryOn(await use.submit(input()));
      await services.idle();
      // The device list (each device's reported state is a store read) answers only when told to.
      let answerDevices: () => void = () => {};
      const listed = new Promise<void>((resolve) => {
        answerDevices = resolve;
      });
      const devices = {
        list: async () => {
          await listed;
          return [{ id: 'dev_support', name: 'Support line', connected: true }];
        },
      };
      const asked = storeCalls.length;
      const submitted = requests({ devices }).submit(input());
      await new Promise((resolve) => setImmediate(resolve));
      expect(storeCalls.slice(asked).filter((call) => call.startsWith('get recent:'))).toHaveLength(1);
      answerDevices();
      expect(await submitted).toMatchObject({ kind: 'recently-sent', sends: [{ to: NUMBERS[0] }] });
      // Read once: the check uses what was read beside the device list.
      expect(storeCalls.slice(asked).filter((call) => call.startsWith('get recent:'))).toHaveLength(1);
    });

    it('does not ask after ten minutes, for another text, or about a send that failed for good', async () => {
      const use = requests();
      use.carryOn(await use.submit(input()));
      await services.idle();
      expect(await use.submit(input({ text: 'Another text' }))).toMatchObject({ kind: 'sending' });
      clock.advance(10 * 60_000);
      expect(await use.submit(input())).toMatchObject({ kind: 'sending' });

      waping.answer(WAPING_RESULTS.sessionDisconnected);
      const failed = await use.submit(input({ recipient: NUMBERS[3] }));
      use.carryOn(failed);
      await services.idle();
      expect((await sends.get(failed.kind === 'sending' ? failed.send.key : ''))?.state).toBe('failed');
      expect(await use.submit(input({ recipient: NUMBERS[3] }))).toMatchObject({ kind: 'sending' });
    });
  });
});
