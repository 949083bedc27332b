import { createHmac } from 'node:crypto';

/*
 * Media sends: the types and sizes WhatsApp's clients accept (as docs/waping-contract.md assumes them), the check of
 * an attachment against them, and the unguessable link under which the bot serves an attached file to WAPing.
 */

/** WAPing's media message types. */
export type MediaKind = 'image' | 'document' | 'audio' | 'video';

const MB = 1024 * 1024;

/** MIME type → the message type it is sent as and its largest size, the one table of limits (see the contract doc). */
export const MEDIA_LIMITS: Readonly<Record<string, { kind: MediaKind; maxBytes: number }>> = {
  'image/jpeg': { kind: 'image', maxBytes: 5 * MB },
  'image/png': { kind: 'image', maxBytes: 5 * MB },
  'video/mp4': { kind: 'video', maxBytes: 16 * MB },
  'video/3gpp': { kind: 'video', maxBytes: 16 * MB },
  'audio/aac': { kind: 'audio', maxBytes: 16 * MB },
  'audio/mp4': { kind: 'audio', maxBytes: 16 * MB },
  'audio/mpeg': { kind: 'audio', maxBytes: 16 * MB },
  'audio/amr': { kind: 'audio', maxBytes: 16 * MB },
  'audio/ogg': { kind: 'audio', maxBytes: 16 * MB },
  'application/pdf': { kind: 'document', maxBytes: 100 * MB },
  'text/plain': { kind: 'document', maxBytes: 100 * MB },
  'text/csv': { kind: 'document', maxBytes: 100 * MB },
  'application/msword': { kind: 'document', maxBytes: 100 * MB },
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': { kind: 'document', maxBytes: 100 * MB },
  'application/vnd.ms-excel': { kind: 'document', maxBytes: 100 * MB },
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { kind: 'document', maxBytes: 100 * MB },
  'application/vnd.ms-powerpoint': { kind: 'document', maxBytes: 100 * MB },
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': { kind: 'document', maxBytes: 100 * MB },
  'application/zip': { kind: 'document', maxBytes: 100 * MB },
};

/** A file attached in the chat platform, as its adapter read it: ids and links are the platform's, opaque here. */
export interface AttachedFile {
  fileId: string;
  name: string;
  mimetype: string;
  size: number;
  /** Where the bot downloads it with its own token (private to the workspace). */
  downloadUrl: string;
  /** Where people open it in the chat platform, for approvers. */
  permalink?: string;
}

/** What a send carries besides its text (the caption): an attached file, or a public https URL. */
export type MediaInput = { source: 'file'; file: AttachedFile } | { source: 'url'; url: string };

/** A checked attachment, as a send record keeps it. */
export type SendMedia = { kind: MediaKind } & MediaInput;

export type MediaError =
  | { code: 'media-type-not-allowed'; mimetype: string }
  | { code: 'media-too-large'; size: number; max: number }
  | { code: 'media-url-not-https' }
  /** A file was attached, but the bot has no public address to serve it from. */
  | { code: 'media-files-unavailable' };

/** An attachment against WhatsApp's limits; a URL's type is unknown until fetched, so it goes as a document. */
export function checkMedia(media: MediaInput, filesServed: boolean): SendMedia | MediaError {
  if (media.source === 'url') {
    let url: URL | undefined;
    try {
      url = new URL(media.url);
    } catch {
      url = undefined;
    }
    if (url?.protocol !== 'https:') return { code: 'media-url-not-https' };
    return { kind: kindOfUrl(url), ...media };
  }
  if (!filesServed) return { code: 'media-files-unavailable' };
  const limit = MEDIA_LIMITS[media.file.mimetype.toLowerCase()];
  if (!limit) return { code: 'media-type-not-allowed', mimetype: media.file.mimetype };
  if (media.file.size > limit.maxBytes) return { code: 'media-too-large', size: media.file.size, max: limit.maxBytes };
  return { kind: limit.kind, ...media };
}

/** The message type for a URL, from its name's extension when it has a known one; a document otherwise. */
function kindOfUrl(url: URL): MediaKind {
  const extension = url.pathname.split('.').at(-1)?.toLowerCase() ?? '';
  const byExtension: Record<string, MediaKind> = {
    jpg: 'image',
    jpeg: 'image',
    png: 'image',
    mp4: 'video',
    '3gp': 'video',
    aac: 'audio',
    mp3: 'audio',
    m4a: 'audio',
    amr: 'audio',
    ogg: 'audio',
    opus: 'audio',
  };
  return byExtension[extension] ?? 'document';
}

/** How long a served file's link works after its send was claimed: WAPing fetches it while delivering. */
export const MEDIA_LINK_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The token of a send's file link: an HMAC of the send's key, so every retry of one send carries the same URL
 * (WAPing compares bodies byte for byte) and nobody without the secret can guess one.
 */
export function mediaToken(secret: string, sendKey: string): string {
  return createHmac('sha256', secret).update(`media:${sendKey}`).digest('base64url');
}

/** What `media:<token>` holds: the file to stream, and until when. */
export interface ServedMedia {
  fileId: string;
  name: string;
  mimetype: string;
  size: number;
  downloadUrl: string;
  expiresAt: number;
}
