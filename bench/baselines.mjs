/*
 * The baselines `bench/compare.ts` measures the bot against, each run as its own process (plain JS under node, as the
 * compiled bot is), printing `{"msg":"bot started","port":N}` once listening:
 *
 * - `node bench/baselines.mjs floor`: a bare Bolt app that only acks and makes the unavoidable calls. `/whatsapp`:
 *   ack, then `views.open`. The send modal's view_submission: ack, then one `chat.postMessage`, then one
 *   `POST /v1/messages` to WAPing. No store, no checks, no logging.
 * - `node bench/baselines.mjs ceiling`: a bare node:http server that verifies a Standard Webhooks HMAC (as
 *   src/adapters/waping/webhook-signature.ts does: `<id>.<timestamp>.<body>`, key = base64 after `whsec_`, constant-time
 *   compare) and answers 204 (401 when it does not match).
 *
 * Environment: SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL, WAPING_API_URL, WAPING_API_KEY (floor);
 * WAPING_WEBHOOK_SECRET (ceiling); PORT (0 for any).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const mode = process.argv[2];
const port = Number(process.env.PORT ?? 0);

function started(actualPort) {
  process.stdout.write(`${JSON.stringify({ msg: 'bot started', port: actualPort, baseline: mode })}\n`);
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));

if (mode === 'ceiling') {
  const secret = process.env.WAPING_WEBHOOK_SECRET ?? '';
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const id = String(req.headers['webhook-id'] ?? '');
      const timestamp = String(req.headers['webhook-timestamp'] ?? '');
      const header = String(req.headers['webhook-signature'] ?? '');
      const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300;
      const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest();
      const ok =
        fresh &&
        header.split(' ').some((entry) => {
          if (!entry.startsWith('v1,')) return false;
          const given = Buffer.from(entry.slice(3), 'base64');
          return given.length === expected.length && timingSafeEqual(given, expected);
        });
      res.writeHead(ok ? 204 : 401);
      res.end();
    });
  });
  server.listen(port, '127.0.0.1', () => started(server.address().port));
} else if (mode === 'floor') {
  const { App, LogLevel } = await import('@slack/bolt');
  const { Pool } = await import('undici');
  const waping = new URL(process.env.WAPING_API_URL ?? '');
  const pool = new Pool(waping.origin, { connections: 16, keepAliveTimeout: 30_000 });
  const app = new App({
    signingSecret: process.env.SLACK_SIGNING_SECRET,
    token: process.env.SLACK_BOT_TOKEN,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
  });
  app.command('/whatsapp', async ({ ack, client, command }) => {
    await ack();
    await client.views.open({
      trigger_id: command.trigger_id,
      view: { type: 'modal', callback_id: 'send_modal', title: { type: 'plain_text', text: 'WhatsApp' }, blocks: [] },
    });
  });
  app.view('send_modal', async ({ ack, client, view }) => {
    await ack();
    const values = view.state.values;
    const to = values.recipient?.recipient_input?.value ?? '';
    const text = values.message?.message_input?.value ?? '';
    const deviceId = values.device?.device_select?.selected_option?.value ?? '';
    const channel = JSON.parse(view.private_metadata || '{}').channelId;
    await client.chat.postMessage({ channel, text: 'Sending a WhatsApp message' });
    const response = await pool.request({
      method: 'POST',
      path: `${waping.pathname.replace(/\/$/, '')}/v1/messages`,
      headers: {
        authorization: `Bearer ${process.env.WAPING_API_KEY}`,
        'content-type': 'application/json',
        'idempotency-key': view.id,
      },
      body: JSON.stringify({ deviceId, to, type: 'text', text: { body: text } }),
    });
    await response.body.text();
  });
  const server = await app.start(port);
  started(server.address().port);
} else {
  console.error('usage: node bench/baselines.mjs floor|ceiling');
  process.exit(2);
}
