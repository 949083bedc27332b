import { request } from 'undici';
import { errorBody, type HttpAnswer } from './http.js';

/** One fetch of a media send's URL, as WAPing would make it before sending the file to WhatsApp. */
export interface SandboxMediaFetch {
  /** The URL as the send gave it. */
  url: string;
  /** The HTTP status, or undefined when nothing answered. */
  status?: number;
  contentType?: string;
  /** The bytes received on a 200. */
  bytes?: Buffer;
  at: number;
}

/**
 * Fetch a media URL like WAPing would. `origins` maps an https origin to a loopback one, so that tests can serve
 * "https://" files without certificates or the network; every other URL is fetched as it is.
 */
export async function fetchMedia(
  url: string,
  origins: ReadonlyMap<string, string>,
  timeoutMs = 10_000,
): Promise<SandboxMediaFetch> {
  const parsed = new URL(url);
  const target = origins.get(parsed.origin);
  const fetchUrl = target ? `${target}${parsed.pathname}${parsed.search}` : url;
  const at = Date.now();
  try {
    const response = await request(fetchUrl, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const bytes = Buffer.from(await response.body.arrayBuffer());
    const contentType = response.headers['content-type'];
    return {
      url,
      status: response.statusCode,
      ...(typeof contentType === 'string' ? { contentType } : {}),
      ...(response.statusCode === 200 ? { bytes } : {}),
      at,
    };
  } catch {
    return { url, at };
  }
}

/** The sandbox's media fetches: what it fetched, and which https origins it reaches on loopback instead. */
export class SandboxMedia {
  /** Every fetch of a media send's URL, in order (once per accepted send; replays fetch nothing). */
  readonly fetches: SandboxMediaFetch[] = [];
  readonly #origins = new Map<string, string>();

  /** Fetch media URLs under an https origin from a loopback one instead (tests have no certificates or network). */
  serveOrigin(httpsOrigin: string, loopbackOrigin: string): void {
    this.#origins.set(new URL(httpsOrigin).origin, loopbackOrigin.replace(/\/+$/, ''));
  }

  /** Fetch a send's file; the refusal to answer when that failed, else undefined. */
  async fetch(url: string): Promise<HttpAnswer | undefined> {
    const fetched = await fetchMedia(url, this.#origins);
    this.fetches.push(fetched);
    return fetched.bytes === undefined ? refusal(fetched) : undefined;
  }
}

/** The answer to a send whose file could not be fetched: refused, so the sender sees it failed. */
function refusal(fetched: SandboxMediaFetch): HttpAnswer {
  const why = fetched.status === undefined ? 'no answer' : `HTTP ${fetched.status}`;
  return {
    status: 422,
    body: errorBody('MEDIA_FETCH_FAILED', `The media URL could not be fetched (${why})`),
  };
}
