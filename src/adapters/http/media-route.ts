import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { errorCode } from '../../core/errors.js';
import type { ServedMedia } from '../../core/media.js';
import type { Clock, Logger, Store } from '../../core/ports.js';
import { mediaKey } from '../../core/store-keys.js';

export interface MediaRouteDeps {
  store: Pick<Store, 'get'>;
  clock: Clock;
  logger: Logger;
  /** The bot token: a Slack file is private, so the bot downloads it on WAPing's behalf. */
  botToken: string;
  /** Only Slack's URLs get the bot token. */
  isSlackUrl: (url: string) => boolean;
  /** Bound on the download from Slack. */
  timeoutMs?: number;
}

/** A token is a base64url HMAC: anything else is not looked up. */
const TOKEN = /^[A-Za-z0-9_-]{20,100}$/;

/**
 * `GET /media/<token>`: the file of one send, streamed from Slack with the bot token while its link lives, so that
 * WAPing can fetch what was attached in a private workspace. Nothing is kept on disk; an unknown or expired token
 * gets 404. The token is never logged (it is the file's only protection).
 */
export function mediaHandler(deps: MediaRouteDeps) {
  return async (
    req: IncomingMessage & { params?: Record<string, string | string[]> },
    res: ServerResponse,
  ): Promise<void> => {
    const token = String(req.params?.token ?? '');
    const served = TOKEN.test(token)
      ? await deps.store.get<ServedMedia>(mediaKey(token)).catch(() => undefined)
      : undefined;
    if (!served || served.expiresAt <= deps.clock.now() || !deps.isSlackUrl(served.downloadUrl)) {
      notFound(res);
      return;
    }
    try {
      const slack = await request(served.downloadUrl, {
        headers: { authorization: `Bearer ${deps.botToken}` },
        headersTimeout: deps.timeoutMs ?? 30_000,
        bodyTimeout: deps.timeoutMs ?? 30_000,
      });
      if (slack.statusCode !== 200) {
        await slack.body.dump();
        deps.logger.warn({ fileId: served.fileId, status: slack.statusCode }, 'media link: Slack refused the file');
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('The file could not be read from Slack');
        return;
      }
      res.writeHead(200, {
        'content-type': served.mimetype,
        ...(typeof slack.headers['content-length'] === 'string'
          ? { 'content-length': slack.headers['content-length'] }
          : {}),
        'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(served.name)}`,
        'cache-control': 'private, no-store',
      });
      await pipeline(slack.body, res);
      deps.logger.info({ fileId: served.fileId }, 'media link served');
    } catch (error) {
      deps.logger.warn(
        { fileId: served.fileId, code: errorCode(error) ?? 'error' },
        'media link: the download from Slack failed',
      );
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('The file could not be read from Slack');
      } else res.destroy();
    }
  };
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('Not found');
}
