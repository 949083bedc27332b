/**
 * Unauthenticated clients cost bounded memory and sockets (adapters/http/limits.ts), measured on the compiled bot as a
 * child process so that its resident memory (VmRSS) is the bot's alone. Loopback only; every loop stops by itself.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_LIMITS, SLACK_BODY_LIMIT_BYTES } from '../src/adapters/http/limits.js';
import { type BotProcess, sandboxEnv, startBotProcess } from './support/bot-process.js';
import { type SlackFake, startSlackFake } from './support/slack-fake.js';
import { slashCommand } from './support/slack-requests.js';

const SECRET = sandboxEnv().SLACK_SIGNING_SECRET as string;
const MiB = 1024 * 1024;
const KiB = 1024;

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

/** Sample the process's RSS every 50 ms until stopped; returns the highest value seen. */
function sampleRss(pid: number) {
  let max = rssBytes(pid);
  const timer = setInterval(() => {
    try {
      max = Math.max(max, rssBytes(pid));
    } catch {
      // the process is gone; the last maximum stands
    }
  }, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return max;
    },
  };
}

interface StallingClient {
  socket: Socket;
  /** Resolves when the server has closed (or reset) the connection. */
  closed: Promise<void>;
  /** Resolves once everything meant to be sent was written (or the server cut the connection first). */
  written: Promise<void>;
}

/** A client that sends `head`, then `bodyBytes` bytes of body, then stalls without ending the request. */
function stallingClient(port: number, head: string, bodyBytes: number): StallingClient {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {}); // EPIPE / ECONNRESET when the server refuses mid-body is the point
  socket.resume(); // read and drop whatever the server answers
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const written = new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.once('connect', async () => {
      socket.write(head);
      const chunk = Buffer.alloc(64 * KiB, 'a');
      for (let sent = 0; sent < bodyBytes && !socket.destroyed; sent += chunk.length) {
        const piece = bodyBytes - sent < chunk.length ? chunk.subarray(0, bodyBytes - sent) : chunk;
        if (!socket.write(piece)) {
          await new Promise<void>((drained) => {
            socket.once('drain', drained);
            socket.once('close', drained);
          });
        }
      }
      resolve();
    });
  });
  return { socket, closed, written };
}

function slackEventsHead(port: number, contentLength: number): string {
  return (
    `POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
    `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${contentLength}\r\n` +
    `X-Slack-Request-Timestamp: ${Math.floor(Date.now() / 1000)}\r\nX-Slack-Signature: v0=${'0'.repeat(64)}\r\n\r\n`
  );
}

/** Resolves true if every promise settles before `ms`, false otherwise (the stragglers are not cancelled). */
async function allWithin(promises: Promise<unknown>[], ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([Promise.all(promises).then(() => true as const), late]);
  clearTimeout(timer);
  return result;
}

async function helpCommand(port: number) {
  return slashCommand(`http://127.0.0.1:${port}/slack/events`, SECRET, {
    text: 'help',
    user_id: 'U0ALICE',
    channel_id: 'C0SUPPORT',
  });
}

describe('an unauthenticated client costs bounded memory and sockets', () => {
  let bot: BotProcess | undefined;
  let clients: StallingClient[] = [];
  // Bolt checks the bot token with Slack before it answers anything: a loopback Slack fake stands in.
  let slack: SlackFake;
  beforeAll(async () => {
    slack = await startSlackFake();
  });
  afterAll(async () => {
    await slack.close();
  });
  afterEach(async () => {
    for (const client of clients) client.socket.destroy();
    clients = [];
    await bot?.stop('SIGKILL');
    bot = undefined;
  });

  async function started(): Promise<{ port: number; pid: number }> {
    bot = startBotProcess({ env: { ...sandboxEnv(), SLACK_API_URL: slack.apiUrl } });
    const port = await bot.port();
    // Let start-up allocations settle before the baseline is read.
    expect((await helpCommand(port)).status).toBe(200);
    return { port, pid: bot.child.pid as number };
  }

  it('stays within 100 MB, closes every socket within 30 s and answers a signed request while 100 clients stall 4 MiB bodies', async () => {
    const { port, pid } = await started();
    const before = rssBytes(pid);
    const rss = sampleRss(pid);
    const declared = 4 * MiB;
    clients = Array.from({ length: 100 }, () =>
      stallingClient(port, slackEventsHead(port, declared), declared - 64 * KiB),
    );
    await Promise.all(clients.map((c) => c.written));

    const help = await helpCommand(port);
    expect(help.status).toBe(200);
    expect(help.json).toMatchObject({ response_type: 'ephemeral' });

    expect(
      await allWithin(
        clients.map((c) => c.closed),
        30_000,
      ),
    ).toBe(true);
    const growth = rss.stop() - before;
    expect(growth).toBeLessThanOrEqual(100 * 1000 * 1000);
  }, 60_000);

  it('stays within 100 MB and closes every socket within 30 s when 100 clients stall bodies just under the limit', async () => {
    const { port, pid } = await started();
    const before = rssBytes(pid);
    const rss = sampleRss(pid);
    // Each body is under the per-request limit; together they are three times what may be held at once.
    clients = Array.from({ length: 100 }, () =>
      stallingClient(port, slackEventsHead(port, SLACK_BODY_LIMIT_BYTES), SLACK_BODY_LIMIT_BYTES - 64 * KiB),
    );
    await Promise.all(clients.map((c) => c.written));

    const help = await helpCommand(port);
    expect(help.status).toBe(200);

    expect(
      await allWithin(
        clients.map((c) => c.closed),
        30_000,
      ),
    ).toBe(true);
    const growth = rss.stop() - before;
    expect(growth).toBeLessThanOrEqual(100 * 1000 * 1000);
    expect(bot?.lines().some((l) => String(l.msg).includes('too many request bodies in flight'))).toBe(true);
  }, 60_000);

  it('closes connections that trickle their headers, or send nothing, within 30 s', async () => {
    const { port } = await started();
    const silent = connect(port, '127.0.0.1').on('error', () => {});
    const trickling = connect(port, '127.0.0.1').on('error', () => {});
    clients.push({ socket: silent, closed: Promise.resolve(), written: Promise.resolve() });
    clients.push({ socket: trickling, closed: Promise.resolve(), written: Promise.resolve() });
    const head = `POST /waping/webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\n${'X-Padding: a\r\n'.repeat(100)}`;
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < head.length && !trickling.destroyed) trickling.write(head[sent++] as string);
    }, 200);
    const closes = [silent, trickling].map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())));
    try {
      expect(await allWithin(closes, 30_000)).toBe(true);
    } finally {
      clearInterval(trickle);
    }
    // It was the time-out that closed it, not the end of the headers: they were still being sent.
    expect(sent).toBeLessThan(head.length);
  }, 60_000);

  it(`refuses connections beyond ${HTTP_LIMITS.maxConnections} while the first ones stay open`, async () => {
    const { port } = await started();
    const sockets: Socket[] = [];
    for (let i = 0; i < HTTP_LIMITS.maxConnections + 10; i++) {
      const socket = connect(port, '127.0.0.1').on('error', () => {});
      sockets.push(socket);
      clients.push({ socket, closed: Promise.resolve(), written: Promise.resolve() });
      // Open them one after another so that the server accepts them in this order.
      await new Promise<void>((resolve) => {
        socket.once('connect', () => resolve());
        socket.once('close', () => resolve());
      });
    }
    const extra = sockets.slice(HTTP_LIMITS.maxConnections);
    const extraClosed = extra.map(
      (s) => new Promise((resolve) => (s.destroyed ? resolve(0) : s.once('close', resolve))),
    );
    expect(await allWithin(extraClosed, 30_000)).toBe(true);
    // They were refused on accept, not timed out: the accepted ones (less the one the help request may still hold)
    // were all open when the last extra connection was closed.
    expect(sockets.filter((s) => !s.destroyed).length).toBeGreaterThanOrEqual(HTTP_LIMITS.maxConnections - 1);
  }, 60_000);
});
