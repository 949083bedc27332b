import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyForOrigin } from '../src/core/idempotency.js';
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
import { blockAction, slashCommand } from './support/slack-requests.js';

const TEAM = 'T0TEAM';
const NUMBER = '+14155550123';
const CAPTION = 'Invoice for order 1138';
/** The bot's public address as WAPing reaches it; the sandbox reaches it on loopback (no certificates in tests). */
const PUBLIC_URL = 'https://bot.example.test';
/** Somebody's file server, for links typed in the form. */
const FILES_URL = 'https://files.example.test';
const CONFIG = { defaultDevice: 'dev_support', devices: [], access: { users: [], userGroups: [], channels: [] } };
const HOUR = 3_600_000;

/** A file server on loopback: `/photo.jpg` answers these bytes; anything else 404. */
async function fileServer(bytes: Buffer): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/photo.jpg') {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(bytes);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Open the send form with /whatsapp send and return its blocks. */
async function openedForm(h: Harness): Promise<Array<{ block_id?: string } & Record<string, unknown>>> {
  const before = h.slack.callsTo('views.open').length;
  await slashCommand(h.eventsUrl, SIGNING_SECRET, { text: 'send', user_id: 'U0ALICE', channel_id: 'C0SUPPORT' });
  const open = await waitFor(() => h.slack.callsTo('views.open')[before], 10_000, 'the send form');
  return open.args.view.blocks;
}

/** The media part of the bodies the sandbox received for a send key. */
function bodiesFor(h: Harness, key: string) {
  return h.waping.requests.filter((r) => r.key === key);
}

describe.each(DEPLOYED_STORES)('media sends with PUBLIC_URL on the %s store', (store) => {
  let h: Harness;
  /** Moves the bot's clock forward, to expire links without waiting. */
  let clockOffset = 0;

  beforeAll(async () => {
    h = await startHarness({
      store,
      configFile: CONFIG,
      env: { PUBLIC_URL, MEDIA_SECRET: 'media-test-secret' },
      overrides: {
        clock: {
          now: () => Date.now() + clockOffset,
          sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        },
      },
    });
    h.waping.media.serveOrigin(PUBLIC_URL, h.bot.url);
  });
  afterEach(async () => {
    clockOffset = 0;
    await h.bot.idle();
  });
  afterAll(async () => {
    expectCleanLogs(h.logs, [NUMBER, CAPTION, '/media/', 'media-test-secret']);
    await h.stop();
  });

  async function sendFile(file: ReturnType<Harness['slack']['uploadFile']>, faults = false) {
    const viewId = unique('V0MEDIA');
    const key = keyForOrigin(TEAM, viewId);
    if (faults) h.waping.script({ status: 500 }, { drop: true });
    const res = await submitSendModal(h, { viewId, recipient: NUMBER, text: CAPTION, file });
    expect(res.status).toBe(200);
    expect(res.json).toBeUndefined();
    await waitFor(() => h.waping.sendsFor(key) === 1 || undefined, 10_000, 'the media send to be accepted');
    await h.bot.idle();
    return key;
  }

  it('offers one file and a link in the form', async () => {
    const blocks = await openedForm(h);
    expect(blocks).toContainEqual(
      expect.objectContaining({
        block_id: 'media_file',
        element: expect.objectContaining({ type: 'file_input', max_files: 1 }),
      }),
    );
    expect(blocks).toContainEqual(
      expect.objectContaining({ block_id: 'media_url', element: expect.objectContaining({ type: 'url_text_input' }) }),
    );
  });

  it('serves an attached file to the sandbox through /media/<token>: right bytes, once, same URL on retries', async () => {
    const bytes = randomBytes(48_000);
    const file = h.slack.uploadFile({ name: 'invoice 1138.pdf', mimetype: 'application/pdf', bytes });
    const key = await sendFile(file, true);

    const attempts = bodiesFor(h, key);
    expect(attempts.map((a) => a.outcome)).toEqual(['fault_status', 'fault_drop', 'accepted']);
    expect(new Set(attempts.map((a) => a.body)).size).toBe(1); // byte for byte, the link included
    const body = JSON.parse(attempts[0]?.body ?? '{}');
    expect(body).toMatchObject({
      deviceId: 'dev_support',
      to: NUMBER,
      type: 'document',
      document: { caption: CAPTION, filename: 'invoice 1138.pdf' },
    });
    const url: string = body.document.url;
    expect(url).toMatch(/^https:\/\/bot\.example\.test\/media\/[A-Za-z0-9_-]{40,}$/);
    expect(url).not.toContain(file.id);

    const fetches = h.waping.media.fetches.filter((f) => f.url === url);
    expect(fetches).toHaveLength(1);
    expect(fetches[0]?.status).toBe(200);
    expect(fetches[0]?.contentType).toBe('application/pdf');
    expect(fetches[0]?.bytes?.equals(bytes)).toBe(true);
    expect(h.slack.fileDownloads(file.id)).toBe(1);

    // Another send of the same file has its own link.
    const again = await sendFile(file);
    const otherUrl = JSON.parse(bodiesFor(h, again)[0]?.body ?? '{}').document.url;
    expect(otherUrl).not.toBe(url);
  });

  it('answers 404 to an unknown token and to an expired link, and serves a live one', async () => {
    const bytes = randomBytes(2_000);
    const file = h.slack.uploadFile({ name: 'delivery.jpg', mimetype: 'image/jpeg', bytes });
    const key = await sendFile(file);
    const body = JSON.parse(bodiesFor(h, key)[0]?.body ?? '{}');
    expect(body.type).toBe('image');
    expect(body.image).toEqual({ url: expect.any(String), caption: CAPTION }); // no filename but for documents
    const local = String(body.image.url).replace(PUBLIC_URL, h.bot.url);

    const live = await request(local);
    expect(live.statusCode).toBe(200);
    expect(Buffer.from(await live.body.arrayBuffer()).equals(bytes)).toBe(true);

    const unknown = await request(`${h.bot.url}/media/${'A'.repeat(43)}`);
    expect(unknown.statusCode).toBe(404);
    await unknown.body.dump();

    clockOffset = 25 * HOUR;
    const expired = await request(local);
    expect(expired.statusCode).toBe(404);
    await expired.body.dump();
  });

  it('refuses a too-large file and a forbidden type inline, and sends nothing', async () => {
    const big = h.slack.uploadFile({ name: 'scan.png', mimetype: 'image/png', bytes: Buffer.alloc(6 * 1024 * 1024) });
    const exe = h.slack.uploadFile({ name: 'setup.exe', mimetype: 'application/x-msdownload', bytes: randomBytes(10) });
    for (const [file, words] of [
      [big, 'This file is 6 MB; WhatsApp takes at most 5 MB for this type.'],
      [exe, 'WhatsApp does not take files of type application/x-msdownload.'],
    ] as const) {
      const viewId = unique('V0MEDIA');
      const res = await submitSendModal(h, { viewId, recipient: NUMBER, text: CAPTION, file });
      expect(res.status).toBe(200);
      const errors = (res.json as { response_action: string; errors: Record<string, string> }).errors;
      expect(Object.keys(errors)).toEqual(['media_file']);
      expect(errors.media_file).toContain(words);
      expect(h.waping.sendsFor(keyForOrigin(TEAM, viewId))).toBe(0);
    }
  });

  it('fails the send, in words, when WAPing cannot fetch the linked file', async () => {
    const files = await fileServer(randomBytes(10));
    h.waping.media.serveOrigin(FILES_URL, files.url);
    try {
      const viewId = unique('V0MEDIA');
      const key = keyForOrigin(TEAM, viewId);
      await submitSendModal(h, { viewId, recipient: NUMBER, text: CAPTION, mediaUrl: `${FILES_URL}/gone.pdf` });
      const failed = await waitFor(
        () => h.slack.messages('C0SUPPORT').find((m) => (m.text ?? '').includes('could not fetch the file')),
        10_000,
        'the send to show it failed',
      );
      expect(failed).toBeDefined();
      expect(bodiesFor(h, key).map((r) => r.outcome)).toEqual(['media_fetch_failed']);
      expect(h.waping.sendsFor(key)).toBe(0);
    } finally {
      files.server.close();
    }
  });
});

describe('media sends without PUBLIC_URL', () => {
  let h: Harness;
  let files: { url: string; server: Server };
  const photo = randomBytes(5_000);

  beforeAll(async () => {
    // The same-text warning on, as in production: it is for texts, and must not stop a media send.
    h = await startHarness({ store: 'embedded', configFile: CONFIG, overrides: { sameTextWindowMs: 10 * 60_000 } });
    files = await fileServer(photo);
    h.waping.media.serveOrigin(FILES_URL, files.url);
  });
  afterAll(async () => {
    files.server.close();
    expectCleanLogs(h.logs, [NUMBER, CAPTION]);
    await h.stop();
  });

  it('sends an https link: WAPing gets the link as given and fetches it once', async () => {
    const viewId = unique('V0MEDIA');
    const key = keyForOrigin(TEAM, viewId);
    const url = `${FILES_URL}/photo.jpg`;
    const res = await submitSendModal(h, { viewId, recipient: NUMBER, text: CAPTION, mediaUrl: url });
    expect(res.json).toBeUndefined();
    await waitFor(() => h.waping.sendsFor(key) === 1 || undefined, 10_000, 'the link send to be accepted');
    const body = JSON.parse(bodiesFor(h, key)[0]?.body ?? '{}');
    expect(body).toEqual({ deviceId: 'dev_support', to: NUMBER, type: 'image', image: { url, caption: CAPTION } });
    const fetched = h.waping.media.fetches.filter((f) => f.url === url);
    expect(fetched).toHaveLength(1);
    expect(fetched[0]?.bytes?.equals(photo)).toBe(true);
  });

  it('sends the same link and caption twice from two forms without the same-text question', async () => {
    const url = `${FILES_URL}/photo.jpg`;
    for (let i = 0; i < 2; i += 1) {
      const viewId = unique('V0MEDIA');
      const res = await submitSendModal(h, { viewId, recipient: NUMBER, text: CAPTION, mediaUrl: url });
      expect(res.json).toBeUndefined();
      const key = keyForOrigin(TEAM, viewId);
      await waitFor(() => h.waping.sendsFor(key) === 1 || undefined, 10_000, 'the link send to be accepted');
    }
  });

  it('offers no file field and says why; a file submitted anyway, or a plain http link, is refused inline', async () => {
    const blocks = await openedForm(h);
    expect(JSON.stringify(blocks)).not.toContain('file_input');
    expect(JSON.stringify(blocks.find((b) => b.block_id === 'media_file'))).toContain('public address (PUBLIC_URL)');
    expect(blocks).toContainEqual(expect.objectContaining({ block_id: 'media_url' }));
    const file = h.slack.uploadFile({ name: 'delivery.jpg', mimetype: 'image/jpeg', bytes: randomBytes(10) });
    const refused = await submitSendModal(h, { viewId: unique('V0MEDIA'), recipient: NUMBER, file });
    expect((refused.json as { errors: Record<string, string> }).errors.media_url).toContain('PUBLIC_URL');
    const plain = await submitSendModal(h, {
      viewId: unique('V0MEDIA'),
      recipient: NUMBER,
      mediaUrl: `${files.url}/photo.jpg`,
    });
    expect((plain.json as { errors: Record<string, string> }).errors.media_url).toContain('https://');
    const noRoute = await request(`${h.bot.url}/media/${'A'.repeat(43)}`);
    expect(noRoute.statusCode).toBe(404);
    await noRoute.body.dump();
  });
});

describe.each(DEPLOYED_STORES)('a file awaiting approval on the %s store', (store) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      store,
      configFile: {
        defaultDevice: 'dev_support',
        devices: [
          { id: 'dev_support', name: 'Support line', approval: { approvers: ['U0APPROVER'], minApprovals: 1 } },
        ],
      },
      env: { PUBLIC_URL },
    });
    h.waping.media.serveOrigin(PUBLIC_URL, h.bot.url);
  });
  afterAll(async () => {
    expectCleanLogs(h.logs, [NUMBER, CAPTION, '/media/']);
    await h.stop();
  });

  it('shows the file (name, type, size, link in Slack) beside the caption before approval, then sends it once', async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const file = h.slack.uploadFile({ name: 'Quote <Q-77>.pdf', mimetype: 'application/pdf', bytes });
    const viewId = unique('V0MEDIA');
    const res = await submitSendModal(h, { viewId, recipient: NUMBER, text: CAPTION, file, user: 'U0REQUESTER' });
    expect(res.body).toBe('');
    const groupId = groupIdForOrigin(TEAM, viewId);
    const message = await waitFor(
      () => h.slack.messages('C0SUPPORT').find((m) => JSON.stringify(m.blocks ?? []).includes(`"value":"${groupId}"`)),
      10_000,
      'the approval request message',
    );
    const shown = (blocks: unknown) => {
      const json = JSON.stringify(blocks);
      expect(json).toContain(JSON.stringify(CAPTION));
      expect(json).toContain('"text":"Quote <Q-77>.pdf"'); // literal, not markup
      expect(json).toContain('"text":"application/pdf"');
      expect(json).toContain('3 MB');
      expect(json).toContain(`"url":${JSON.stringify(file.permalink)}`);
    };
    shown(message.blocks);
    await h.bot.idle();
    const group = await waitFor(() => h.bot.store.get<SendGroup>(`group:${groupId}`));
    expect(h.waping.sendsFor(group.keys[0] as string)).toBe(0);
    expect(h.slack.fileDownloads(file.id)).toBe(0);

    await blockAction(h.eventsUrl, SIGNING_SECRET, {
      user_id: 'U0APPROVER',
      channel_id: message.channel,
      message_ts: message.ts,
      response_url: h.slack.responseUrlFor(unique('r')),
      actions: [{ action_id: 'review_approval', value: groupId }],
    });
    const modal = await waitFor(() =>
      h.slack.callsTo('views.open').find((c) => c.args.view.callback_id === 'approval_modal'),
    );
    shown(modal.args.view.blocks);

    expect((await submitApprovalModal(h, { groupId, user: 'U0APPROVER', decision: 'approve' })).body).toBe('');
    await waitFor(() => h.waping.sendsFor(group.keys[0] as string) === 1 || undefined, 10_000, 'the approved send');
    const body = JSON.parse(h.waping.requests.find((r) => r.key === group.keys[0])?.body ?? '{}');
    expect(body.document).toMatchObject({ caption: CAPTION, filename: 'Quote <Q-77>.pdf' });
    const fetched = h.waping.media.fetches.filter((f) => f.url === body.document.url);
    expect(fetched).toHaveLength(1);
    expect(fetched[0]?.bytes?.equals(bytes)).toBe(true);
  });
});
