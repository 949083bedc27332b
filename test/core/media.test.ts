import { describe, expect, it } from 'vitest';
import { type AttachedFile, checkMedia, MEDIA_LIMITS, mediaToken } from '../../src/core/media.js';
import { mediaOf } from '../../src/core/media-links.js';

const MB = 1024 * 1024;

function file(mimetype: string, size: number): AttachedFile {
  return { fileId: 'F01', name: 'x', mimetype, size, downloadUrl: 'https://files.slack.com/files-pri/F01/x' };
}

describe('checkMedia: WhatsApp limits as the contract doc assumes them', () => {
  it.each([
    ['image/jpeg', 5 * MB, 'image'],
    ['image/png', 5 * MB, 'image'],
    ['video/mp4', 16 * MB, 'video'],
    ['video/3gpp', 16 * MB, 'video'],
    ['audio/ogg', 16 * MB, 'audio'],
    ['audio/mpeg', 16 * MB, 'audio'],
    ['application/pdf', 100 * MB, 'document'],
  ])('takes %s up to its limit as %s, and refuses one byte more', (mimetype, max, kind) => {
    expect(checkMedia({ source: 'file', file: file(mimetype, max) }, true)).toMatchObject({ kind, source: 'file' });
    expect(checkMedia({ source: 'file', file: file(mimetype, max + 1) }, true)).toEqual({
      code: 'media-too-large',
      size: max + 1,
      max,
    });
  });

  it('refuses types WhatsApp does not take, whatever their size', () => {
    for (const mimetype of ['image/gif', 'image/webp', 'application/x-msdownload', 'video/quicktime']) {
      expect(MEDIA_LIMITS[mimetype]).toBeUndefined();
      expect(checkMedia({ source: 'file', file: file(mimetype, 10) }, true)).toEqual({
        code: 'media-type-not-allowed',
        mimetype,
      });
    }
  });

  it('refuses a file when the bot cannot serve it (no public address)', () => {
    expect(checkMedia({ source: 'file', file: file('image/png', 10) }, false)).toEqual({
      code: 'media-files-unavailable',
    });
  });

  it('takes https links only, typed by their extension (a document otherwise)', () => {
    expect(checkMedia({ source: 'url', url: 'https://cdn.example.com/p/photo.JPG' }, false)).toMatchObject({
      kind: 'image',
    });
    expect(checkMedia({ source: 'url', url: 'https://cdn.example.com/voice.ogg' }, false)).toMatchObject({
      kind: 'audio',
    });
    expect(checkMedia({ source: 'url', url: 'https://cdn.example.com/report' }, false)).toMatchObject({
      kind: 'document',
    });
    for (const url of ['http://cdn.example.com/a.jpg', 'ftp://x/y.pdf', 'not a url', 'javascript:alert(1)']) {
      expect(checkMedia({ source: 'url', url }, true)).toEqual({ code: 'media-url-not-https' });
    }
  });
});

describe('media links', () => {
  it('derive the token from the secret and the send key: stable per send, different between sends and secrets', () => {
    const a = mediaToken('secret-1', 'key-a');
    expect(mediaToken('secret-1', 'key-a')).toBe(a);
    expect(mediaToken('secret-1', 'key-b')).not.toBe(a);
    expect(mediaToken('secret-2', 'key-a')).not.toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toContain('key-a');
  });

  it('give a file send the same URL and served record at every claim of one key, expiring a day after', () => {
    const media = { kind: 'document' as const, source: 'file' as const, file: file('application/pdf', 1234) };
    const draft = { key: 'key-a', text: 'Invoice', media };
    const links = { publicUrl: 'https://bot.example.com/', secret: 'secret-1' };
    const first = mediaOf(draft, links, 1_000);
    const again = mediaOf(draft, links, 1_000);
    expect(first).toEqual(again);
    expect(first?.message).toEqual({
      type: 'document',
      url: `https://bot.example.com/media/${mediaToken('secret-1', 'key-a')}`,
      caption: 'Invoice',
      filename: 'x',
    });
    expect(first?.served).toMatchObject({
      key: `media:${mediaToken('secret-1', 'key-a')}`,
      value: { fileId: 'F01', mimetype: 'application/pdf', size: 1234, expiresAt: 1_000 + 24 * 3_600_000 },
    });
  });

  it('send a link as given, with no served record, and no caption when the text is blank', () => {
    const media = { kind: 'image' as const, source: 'url' as const, url: 'https://cdn.example.com/a.png' };
    expect(mediaOf({ key: 'k', text: '  ', media }, undefined, 0)).toEqual({
      message: { type: 'image', url: 'https://cdn.example.com/a.png' },
    });
  });
});
