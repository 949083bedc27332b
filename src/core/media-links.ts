import { MEDIA_LINK_TTL_MS, mediaToken, type ServedMedia } from './media.js';
import type { ClaimRequest, OutgoingMedia } from './ports.js';
import type { SendDraft } from './send-records.js';
import { mediaKey } from './store-keys.js';

/** Where the bot serves attached files to WAPing, and the secret its links are derived with. */
export interface MediaLinks {
  /** The bot's public base URL (no trailing slash needed). */
  publicUrl: string;
  secret: string;
}

/**
 * A media draft's message, and for an attached file the `media:<token>` record that serves it, claimed with the send.
 * The link derives from the send's key, so it is the same on every retry of one send and differs between sends.
 */
export function mediaOf(
  draft: Pick<SendDraft, 'key' | 'text' | 'media'>,
  links: MediaLinks | undefined,
  now: number,
): { message: Omit<OutgoingMedia, 'deviceId' | 'to'>; served?: ClaimRequest } | undefined {
  const { media } = draft;
  if (!media) return undefined;
  const caption = draft.text.trim() === '' ? {} : { caption: draft.text };
  if (media.source === 'url') return { message: { type: media.kind, url: media.url, ...caption } };
  // The form offers files only when links can be made; a send claimed without them fails at WAPing, told as such.
  const token = mediaToken(links?.secret ?? '', draft.key);
  const base = (links?.publicUrl ?? 'https://unconfigured.invalid').replace(/\/+$/, '');
  const { file } = media;
  const served: ServedMedia = {
    fileId: file.fileId,
    name: file.name,
    mimetype: file.mimetype,
    size: file.size,
    downloadUrl: file.downloadUrl,
    expiresAt: now + MEDIA_LINK_TTL_MS,
  };
  return {
    message: {
      type: media.kind,
      url: `${base}/media/${token}`,
      ...caption,
      ...(media.kind === 'document' ? { filename: file.name } : {}),
    },
    served: { key: mediaKey(token), value: served, ttlMs: MEDIA_LINK_TTL_MS },
  };
}
