import { createWapingSandbox } from './waping-sandbox.js';

/*
 * Run the WAPing sandbox on its own, to point a separately started bot at it:
 *   WAPING_API_KEY=dev SANDBOX_PORT=4010 npx tsx src/sandbox/main.ts
 * This is a standalone dev tool with its own composition root, which is why it reads process.env itself
 * instead of going through the bot's config.
 */

const apiKey = process.env.WAPING_API_KEY;
if (!apiKey) {
  console.error('WAPING_API_KEY is required: the sandbox accepts only this API key');
  process.exit(1);
}
const port = Number(process.env.SANDBOX_PORT ?? 4010);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error('SANDBOX_PORT must be a port number (0-65535)');
  process.exit(1);
}
const webhookUrl = process.env.SANDBOX_WEBHOOK_URL || undefined;
const webhookSecret = process.env.WAPING_WEBHOOK_SECRET || undefined;
if (webhookUrl && !webhookSecret) {
  console.error('SANDBOX_WEBHOOK_URL needs WAPING_WEBHOOK_SECRET (whsec_...) to sign the webhooks');
  process.exit(1);
}

const sandbox = createWapingSandbox({
  apiKey,
  ...(webhookUrl ? { webhookUrl } : {}),
  ...(webhookSecret ? { webhookSecret } : {}),
});
const url = await sandbox.listen(port, process.env.SANDBOX_HOST ?? '127.0.0.1');
console.log(`WAPing sandbox listening on ${url}${webhookUrl ? ', sending webhooks' : ', webhooks off'}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void sandbox.close().then(() => process.exit(0));
  });
}
