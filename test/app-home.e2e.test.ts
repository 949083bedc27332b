import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
import type { FakeView } from './support/slack-fake.js';
import { readable } from './support/slack-reader.js';
import { appHomeOpened, blockAction } from './support/slack-requests.js';

/*
 * The App Home tab, end to end: signed `app_home_opened` events and block actions into the real Bolt app, the Home
 * published to the recording Slack fake (views.publish), sends through the WAPing sandbox.
 */

const TEAM = 'T0TEAM';
const NUMBER = '+14155550123';
/** Markup that would ping, bold and link if it were read as mrkdwn: the Home must show it literally. */
const TEXT = '*Your order* <!channel> is ready & <https://evil.example|click>';
const TEAM_TEXT = 'Team announcement for the Home';

const CONFIG = {
  defaultDevice: 'dev_sales',
  devices: [
    { id: 'dev_support', name: 'Support line', approval: { approvers: ['U0APPROVER', 'S0LEADS'], minApprovals: 1 } },
    { id: 'dev_sales', name: 'Sales' },
  ],
  admins: ['U0ADMIN'],
};

const viewId = () => unique('V0HOME');

/** What a person reads in the Home, as Slack shows it (the shared reader). */
const shown = (view: FakeView | undefined): string => readable(view?.blocks);

/** The rich_text `text` elements of the Home: where foreign strings are shown as they are. */
function literalTexts(view: FakeView | undefined): string[] {
  return (
    JSON.stringify(view?.blocks ?? [])
      .match(/"type":"text","text":"(?:[^"\\]|\\.)*"/g)
      ?.map((raw) => JSON.parse(`{${raw}}`).text) ?? []
  );
}

describe.each(DEPLOYED_STORES)('the App Home on the %s store', (store) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ store, configFile: CONFIG });
    h.slack.setUsergroup('S0LEADS', ['U0LEAD']);
  });
  afterEach(async () => {
    await h.bot.idle();
  });
  afterAll(async () => {
    expectCleanLogs(h.logs, [NUMBER, TEXT, TEAM_TEXT]);
    await h.stop();
  });

  /** Open the Home tab as `user` and wait for the view Slack would show. */
  async function openHome(user: string): Promise<FakeView> {
    const before = h.slack.callsTo('views.publish').length;
    const res = await appHomeOpened(h.eventsUrl, SIGNING_SECRET, { user_id: user });
    expect(res.status).toBe(200);
    await waitFor(
      () =>
        h.slack
          .callsTo('views.publish')
          .slice(before)
          .some((call) => call.args.user_id === user),
      10_000,
      `the Home of ${user}`,
    );
    return h.slack.homeOf(user) as FakeView;
  }

  it('welcomes a first visit with how to send, and shows the devices', async () => {
    const home = await openHome('U0NEWBIE');
    const text = shown(home);
    expect(home.type).toBe('home');
    expect(text).toContain("You haven't sent a WhatsApp message");
    expect(text).toContain('/whatsapp send');
    expect(text).toContain('Send on WhatsApp…');
    expect(text).toContain('Support line connected');
    expect(text).toContain('Sales connected');
    expect(text).not.toContain('Waiting for your approval');
    expect(text).not.toContain("Everyone's open");
  });

  it('publishes nothing when the Messages tab is opened', async () => {
    const before = h.slack.callsTo('views.publish').length;
    const res = await appHomeOpened(h.eventsUrl, SIGNING_SECRET, { user_id: 'U0MSGTAB', tab: 'messages' });
    expect(res.status).toBe(200);
    await h.bot.idle();
    expect(h.slack.callsTo('views.publish').slice(before)).toHaveLength(0);
  });

  it('lists my send with its live status, the text shown literally, and updates it while the tab is open', async () => {
    const id = viewId();
    expect((await submitSendModal(h, { viewId: id, deviceId: 'dev_sales', recipient: NUMBER, text: TEXT })).body).toBe(
      '',
    );
    const sent = await waitFor(() => h.waping.messages().find((m) => m.text === TEXT));
    await h.bot.idle();
    const home = await openHome('U0ALICE');
    expect(shown(home)).toContain('Your recent sends');
    expect(shown(home)).toContain('Queued');
    expect(shown(home)).toContain('+1 415 555 0123');
    expect(literalTexts(home)).toContain(TEXT); // a rich text element: no mrkdwn, no ping, no link
    expect(shown(home)).not.toContain("You haven't sent");

    // WAPing reports it read: the Home, opened a moment ago, is published again with the new status.
    expect(await h.waping.emit('message.read', { messageId: sent.id, deviceId: 'dev_sales' })).toBe(200);
    await waitFor(() => shown(h.slack.homeOf('U0ALICE')).includes('Read'), 10_000, 'the Home to show Read');
    // Someone else's Home does not list it.
    expect(literalTexts(await openHome('U0NEWBIE'))).not.toContain(TEXT);
  });

  it("shows an approver the request waiting for them, with a Review button that opens the approval modal, and an admin everyone's", async () => {
    // An approver whose Home is open sees a new request come in without opening it again.
    expect(shown(await openHome('U0APPROVER'))).not.toContain('Waiting for your approval');
    const id = viewId();
    const recipients = [NUMBER, '+14155550124'];
    const submitted = await submitSendModal(h, {
      viewId: id,
      deviceId: 'dev_support',
      recipient: recipients.join('\n'),
      text: TEAM_TEXT,
      user: 'U0ALICE',
    });
    expect(submitted.body).toBe('');
    const groupId = groupIdForOrigin(TEAM, id);
    await waitFor(() => h.bot.store.get<SendGroup>(`group:${groupId}`));
    await waitFor(
      () => shown(h.slack.homeOf('U0APPROVER')).includes('Waiting for your approval'),
      10_000,
      "the new request in the approver's open Home",
    );
    await h.bot.idle();

    // The requester sees it waiting, without a Review button of their own.
    const mine = await openHome('U0ALICE');
    expect(shown(mine)).toContain('Waiting for approval (0 of 1)');
    expect(JSON.stringify(mine.blocks)).not.toContain('review_approval');

    // The approver (named directly) and a member of the approving user group each get the request and Review.
    for (const approver of ['U0APPROVER', 'U0LEAD']) {
      const home = await openHome(approver);
      expect(shown(home)).toContain('Waiting for your approval');
      expect(shown(home)).toContain('2 recipients via Support line');
      expect(literalTexts(home)).toContain(TEAM_TEXT);
      expect(JSON.stringify(home.blocks)).toContain(`"action_id":"review_approval"`);
      expect(JSON.stringify(home.blocks)).toContain(`"value":"${groupId}"`);
    }
    // Nobody else does; an admin sees it among everyone's open requests, without deciding it.
    expect(shown(await openHome('U0NEWBIE'))).not.toContain(TEAM_TEXT);
    const admin = await openHome('U0ADMIN');
    expect(shown(admin)).toContain("Everyone's open sends and requests");
    expect(literalTexts(admin)).toContain(TEAM_TEXT);
    expect(JSON.stringify(admin.blocks)).not.toContain('review_approval');

    // Review in the Home: a block action from the Home view (container `view`, no response_url) opens the same modal.
    const approverHome = h.slack.homeOf('U0APPROVER') as FakeView;
    const opened = h.slack.callsTo('views.open').length;
    const click = await blockAction(h.eventsUrl, SIGNING_SECRET, {
      user_id: 'U0APPROVER',
      view: { ...approverHome, id: approverHome.id, callback_id: '', type: 'home', state: { values: {} } },
      actions: [{ action_id: 'review_approval', value: groupId, block_id: 'home_review' }],
    });
    expect(click.status).toBe(200);
    const modal = await waitFor(() =>
      h.slack
        .callsTo('views.open')
        .slice(opened)
        .find((call) => call.args.view.callback_id === 'approval_modal'),
    );
    expect(JSON.parse(modal.args.view.private_metadata).groupId).toBe(groupId);

    // Someone not listed who presses it (a stale Home) is told why in a modal, since there is no message to answer.
    const refused = await blockAction(h.eventsUrl, SIGNING_SECRET, {
      user_id: 'U0MALLORY',
      view: { ...approverHome, id: approverHome.id, callback_id: '', type: 'home', state: { values: {} } },
      actions: [{ action_id: 'review_approval', value: groupId }],
    });
    expect(refused.status).toBe(200);
    await waitFor(() =>
      h.slack
        .callsTo('views.open')
        .some((call) => JSON.stringify(call.args.view).includes('Only the approvers listed on this request')),
    );

    // Approving sends each recipient once, and the approver's open Home drops the request.
    expect((await submitApprovalModal(h, { groupId, user: 'U0APPROVER', decision: 'approve' })).body).toBe('');
    const group = await waitFor(() =>
      h.bot.store.get<SendGroup>(`group:${groupId}`).then((g) => (g?.launched ? g : undefined)),
    );
    await waitFor(() => group.keys.every((key) => h.waping.sendsFor(key) === 1), 10_000, 'both sends');
    await waitFor(
      () => !shown(h.slack.homeOf('U0APPROVER')).includes('Waiting for your approval'),
      10_000,
      "the approver's Home to drop the request",
    );
    await h.bot.idle();
    expect(group.keys.map((key) => h.waping.sendsFor(key))).toEqual([1, 1]);
  });

  it('shows a dropped device as disconnected, and since when', async () => {
    expect(await h.waping.emit('session.disconnected', { deviceId: 'dev_sales', reason: 'phone offline' })).toBe(200);
    await h.bot.idle();
    const home = await openHome('U0NEWBIE');
    expect(shown(home)).toContain('Sales disconnected since ');
    expect(JSON.stringify(home.blocks)).toMatch(/"type":"date","timestamp":\d+/);
    expect(await h.waping.emit('session.connected', { deviceId: 'dev_sales' })).toBe(200);
    await h.bot.idle();
  });

  it('keeps the latest 20 sends of a person', async () => {
    for (let i = 0; i < 22; i++) {
      const res = await submitSendModal(h, {
        viewId: viewId(),
        deviceId: 'dev_sales',
        recipient: NUMBER,
        text: `Batch ${i}`,
        user: 'U0BUSY',
      });
      expect(res.body).toBe('');
    }
    await h.bot.idle();
    const home = await openHome('U0BUSY');
    const texts = literalTexts(home);
    expect(texts.filter((t) => t.startsWith('Batch '))).toHaveLength(20);
    expect(texts).toContain('Batch 21');
    expect(texts).not.toContain('Batch 0');
    expect(texts).not.toContain('Batch 1');
    expect(home.blocks.length).toBeLessThanOrEqual(100);
  });
});
