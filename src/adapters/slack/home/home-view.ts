import type { HomeView, KnownBlock, RichTextElement } from '@slack/types';
import type { HomeDevice, HomeItem, HomeSnapshot } from '../../../core/home-feed.js';
import { displayNumber } from '../../../core/recipient.js';
import { approvalsSoFar, type SendGroup } from '../../../core/send-group.js';
import { hasFailed, type SendRecord } from '../../../core/send-record.js';
import { reviewButton } from '../blocks/group-message.js';
import { type LinePart, MAX_MODAL_BLOCKS, mrkdwn, wordsBlock } from '../blocks/literal.js';
import { statusWords } from '../blocks/send-message.js';
import { SEND_SHORTCUT_NAME } from '../shortcuts/send-on-whatsapp.js';
import { pluralise } from '../wording/words.js';

/*
 * Each list is bounded so that the whole Home stays within Slack's 100 blocks: a header and one rich_text line per
 * send (20), two blocks per request waiting for me (10), one line per open item for admins (10 + 10), two blocks of
 * devices, and a few headers: about 75 at most.
 */
const WAITING_SHOWN = 10;
const EVERYONE_SHOWN = 10;
const DEVICE_LINES_PER_BLOCK = 25;
const DEVICE_BLOCKS = 2;
/** How much of a message's text one line of the Home shows (the rest is counted, not shown). */
const TEXT_EXCERPT = 150;
const REASON_MAX = 120;

const emoji = (name: string): RichTextElement => ({ type: 'emoji', name });

/** A time Slack shows in each reader's own time zone. */
function when(at: number): RichTextElement {
  return {
    type: 'date',
    timestamp: Math.floor(at / 1000),
    format: '{date_short_pretty} {time}',
    fallback: `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  };
}

const header = (text: string): KnownBlock => ({ type: 'header', text: { type: 'plain_text', text, emoji: false } });

/** To whom, via which device, when, and the start of the text: the line under each send or request. */
function about(to: string, deviceName: string, at: number, text: string): LinePart[] {
  return [
    ` · to ${to} via `,
    { foreign: deviceName, max: 100, bold: true },
    ' · ',
    when(at),
    '\n',
    { foreign: text, max: TEXT_EXCERPT },
  ];
}

const recipientsOf = (group: SendGroup): string =>
  group.recipients.length === 1
    ? displayNumber(group.recipients[0] as string)
    : pluralise(group.recipients.length, 'recipient');

/** Where a group stands: its approval while undecided or refused, else how its sends are doing. */
function groupWords(group: SendGroup, sends: SendRecord[]): LinePart[] {
  const approval = group.approval;
  if (approval && approval.state === 'pending') {
    return [
      emoji('hourglass_flowing_sand'),
      ` Waiting for approval (${approvalsSoFar(approval)} of ${approval.rule.minApprovals})`,
    ];
  }
  if (approval && approval.state !== 'approved')
    return [emoji('no_entry'), ` ${capitalised(approval.state)}: nothing was sent`];
  if (!group.launched) return [emoji('hourglass_flowing_sand'), ' Starting…'];
  const counts = new Map<string, number>();
  for (const send of sends) {
    const state = hasFailed(send) ? 'failed' : send.state === 'pending' ? 'sending' : (send.status ?? 'queued');
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  const read = sends.length < group.recipients.length ? ` (of the first ${sends.length})` : '';
  const summary = [...counts].map(([state, n]) => `${n} ${state}`).join(', ');
  return [emoji(counts.has('failed') ? 'warning' : 'outbox_tray'), ` ${summary || 'Sending…'}${read}`];
}

function capitalised(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function sendLine(send: SendRecord, withRequester = false): KnownBlock {
  return wordsBlock([
    ...statusWords(send, REASON_MAX),
    ...(withRequester ? [' · by ', { user: send.requestedBy }] : []),
    ...about(displayNumber(send.to), send.deviceName, send.createdAt, send.text),
  ]);
}

function groupLine(group: SendGroup, sends: SendRecord[], withRequester = false): KnownBlock {
  return wordsBlock([
    ...groupWords(group, sends),
    ...(withRequester ? [' · by ', { user: group.requestedBy }] : []),
    ...about(recipientsOf(group), group.deviceName, group.createdAt, group.text),
  ]);
}

function itemLine(item: HomeItem): KnownBlock {
  return item.kind === 'send' ? sendLine(item.send) : groupLine(item.group, item.sends);
}

/** A request waiting for me: what it is, and Review, the same button (and modal) as on the request message. */
function waitingBlocks(group: SendGroup): KnownBlock[] {
  return [groupLine(group, [], true), { type: 'actions', elements: [reviewButton(group.id)] }];
}

function deviceLine({ device, since }: HomeDevice): LinePart[] {
  const state = device.known === false ? 'state unknown' : device.connected ? 'connected' : 'disconnected';
  const dot = device.known === false ? 'white_circle' : device.connected ? 'large_green_circle' : 'red_circle';
  return [
    emoji(dot),
    ' ',
    { foreign: device.name, max: 100, bold: true },
    ` ${state}`,
    ...(since === undefined ? [] : [' since ', when(since)]),
  ];
}

function deviceBlocks(devices: HomeDevice[] | undefined): KnownBlock[] {
  if (!devices) return [{ type: 'context', elements: [mrkdwn('The devices could not be listed just now.')] }];
  if (devices.length === 0) {
    return [
      { type: 'context', elements: [mrkdwn('No WhatsApp device is linked yet: link one by QR code in WAPing.')] },
    ];
  }
  const blocks: KnownBlock[] = [];
  const shown = devices.slice(0, DEVICE_LINES_PER_BLOCK * DEVICE_BLOCKS);
  for (let i = 0; i < shown.length; i += DEVICE_LINES_PER_BLOCK) {
    const lines = shown.slice(i, i + DEVICE_LINES_PER_BLOCK).map(deviceLine);
    blocks.push(wordsBlock(lines.flatMap((line, n) => (n > 0 ? ['\n', ...line] : line))));
  }
  if (devices.length > shown.length) blocks.push(more(devices.length - shown.length, 'devices'));
  return blocks;
}

const more = (n: number, what: string): KnownBlock => ({
  type: 'context',
  elements: [mrkdwn(`…and ${n} more ${what}.`)],
});

const EMPTY_STATE =
  "*Welcome!* You haven't sent a WhatsApp message from Slack yet.\n" +
  'Type `/whatsapp send` in a channel to open the form (recipient, device, message), or `/whatsapp send +14155552671 Your order is ready` to have it filled in. ' +
  `You can also choose *${SEND_SHORTCUT_NAME}* in the menu of any message to send its text. Every send then shows up here with its live status.`;

/** The App Home tab for one person (see HomeFeed): at most Slack's 100 blocks. */
export function homeView(home: HomeSnapshot): HomeView {
  const blocks: KnownBlock[] = [header('WhatsApp')];
  if (home.mine.length === 0 && home.waiting.length === 0) {
    blocks.push({ type: 'section', text: mrkdwn(EMPTY_STATE) });
  } else {
    blocks.push({
      type: 'context',
      elements: [mrkdwn(`Send with \`/whatsapp send\`, or *${SEND_SHORTCUT_NAME}* on any message.`)],
    });
  }
  if (home.waiting.length > 0) {
    blocks.push(header('Waiting for your approval'));
    for (const group of home.waiting.slice(0, WAITING_SHOWN)) blocks.push(...waitingBlocks(group));
    if (home.waiting.length > WAITING_SHOWN) blocks.push(more(home.waiting.length - WAITING_SHOWN, 'requests'));
  }
  if (home.mine.length > 0) {
    blocks.push(header('Your recent sends'));
    blocks.push(...home.mine.map(itemLine));
  }
  if (home.everyone) {
    const { sends, approvals } = home.everyone;
    blocks.push(header("Everyone's open sends and requests"));
    if (sends.length === 0 && approvals.length === 0) {
      blocks.push({ type: 'context', elements: [mrkdwn('Nothing is pending.')] });
    }
    blocks.push(...sends.slice(0, EVERYONE_SHOWN).map((send) => sendLine(send, true)));
    if (sends.length > EVERYONE_SHOWN) blocks.push(more(sends.length - EVERYONE_SHOWN, 'pending sends'));
    blocks.push(...approvals.slice(0, EVERYONE_SHOWN).map((group) => groupLine(group, [], true)));
    if (approvals.length > EVERYONE_SHOWN) blocks.push(more(approvals.length - EVERYONE_SHOWN, 'requests'));
  }
  blocks.push(header('Devices'), ...deviceBlocks(home.devices));
  return { type: 'home', blocks: blocks.slice(0, MAX_MODAL_BLOCKS) };
}
