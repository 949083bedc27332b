import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger as Pino } from 'pino';
import { WapingClient } from '../adapters/waping/client.js';
import type { Config } from '../config.js';
import type { Telemetry } from '../core/telemetry.js';
import type { WapingSandbox } from '../sandbox/waping-sandbox.js';

export interface WapingConnection {
  waping: WapingClient;
  /** The secrets webhooks are signed with (in sandbox mode, one made up when none is configured). */
  webhookSecrets: string[];
  /** The built-in simulator, when WAPING_SANDBOX=true. */
  sandbox?: WapingSandbox;
}

/** WAPing: the real API, or the built-in sandbox (which then signs its webhooks with our secret). */
export async function connectWaping(
  config: Readonly<Config>,
  logger: Pino,
  telemetry: Telemetry,
): Promise<WapingConnection> {
  if (!config.waping.sandbox) {
    const waping = new WapingClient({
      baseUrl: config.waping.apiUrl as string,
      apiKey: config.waping.apiKey as string,
      timeoutMs: config.waping.timeoutMs,
      telemetry,
    });
    return { waping, webhookSecrets: config.waping.webhookSecrets };
  }
  const webhookSecrets = config.waping.webhookSecrets.length
    ? config.waping.webhookSecrets
    : [`whsec_${randomBytes(24).toString('base64')}`];
  const apiKey = randomUUID();
  // Loaded only in sandbox mode, so a real deployment does not carry the simulator in memory.
  const { createWapingSandbox } = await import('../sandbox/waping-sandbox.js');
  const sandbox = createWapingSandbox({ apiKey, webhookSecret: webhookSecrets[0] });
  await sandbox.listen(0);
  logger.warn(
    { sandboxUrl: sandbox.url },
    'WAPING_SANDBOX=true: messages go to the built-in simulator, not to WhatsApp',
  );
  const waping = new WapingClient({ baseUrl: sandbox.url, apiKey, timeoutMs: config.waping.timeoutMs, telemetry });
  return { waping, webhookSecrets, sandbox };
}
