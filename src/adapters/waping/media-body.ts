import type { OutgoingMedia } from '../../core/ports.js';

/**
 * The request body of a media send, as assumed in docs/waping-contract.md: `{"type":"<type>","<type>":{"url",
 * "caption"}}`, a document adding `filename`. Keys in a fixed order, so the same send always gives the same bytes.
 */
export function mediaRequestBody({ deviceId, to, type, url, caption, filename }: OutgoingMedia): string {
  const media = {
    url,
    ...(caption === undefined ? {} : { caption }),
    ...(type === 'document' && filename !== undefined ? { filename } : {}),
  };
  return JSON.stringify({ deviceId, to, type, [type]: media });
}
