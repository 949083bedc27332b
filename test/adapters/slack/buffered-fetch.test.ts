import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FetchFunction, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchReportingSlackErrors } from '../../../src/adapters/slack/api-errors.js';
import { bufferedFetch } from '../../../src/adapters/slack/buffered-fetch.js';
import { fetchNamingFailedCalls } from '../../../src/adapters/slack/fetch-naming-calls.js';

/*
 * The Slack clients' fetch, against a real HTTP server on loopback: what the WebClient and Bolt's respond() read
 * from a fetch answer, and failures shaped as the global fetch shapes them.
 */
describe('bufferedFetch', () => {
  let server: Server;
  let base: string;
  const received: Array<{ method?: string; url?: string; type?: string; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        received.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
        if (req.url?.startsWith('/never')) return; // never answers
        if (req.url === '/moved') {
          res.writeHead(302, { location: '/elsewhere' });
          res.end();
          return;
        }
        res.setHeader('Set-Cookie', ['a=1', 'b=2']);
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-OAuth-Scopes': 'chat:write' });
        res.end(JSON.stringify({ ok: true, echo: body, channel: 'C0SUPPORT', ts: '1.000100' }));
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('posts the body and headers given, and answers status, headers and a body that can be read again', async () => {
    const response = await bufferedFetch()(`${base}/api/chat.postMessage`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'channel=C0SUPPORT&text=hello',
    });
    expect(received.at(-1)).toEqual({
      method: 'POST',
      url: '/api/chat.postMessage',
      type: 'application/x-www-form-urlencoded',
      body: 'channel=C0SUPPORT&text=hello',
    });
    expect([response.ok, response.status, response.statusText]).toEqual([true, 200, 'OK']);
    expect(response.url).toBe(`${base}/api/chat.postMessage`);
    expect(response.headers.get('x-oauth-scopes')).toBe('chat:write');
    expect(response.headers.get('Content-Type')).toBe('application/json');
    expect(response.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(response.headers.get('retry-after')).toBeNull();
    expect(Object.fromEntries(response.headers.entries())['x-oauth-scopes']).toBe('chat:write');
    const copy = (response as unknown as { clone(): typeof response }).clone();
    expect(await copy.json()).toMatchObject({ ok: true, echo: 'channel=C0SUPPORT&text=hello' });
    expect(JSON.parse(await response.text())).toMatchObject({ ok: true });
    expect(Buffer.from(await response.arrayBuffer()).toString('utf8')).toContain('"ok":true');
  });

  it('serves the WebClient: a Web API call reads its result through it', async () => {
    const client = new WebClient('xoxb-test-token-000', { slackApiUrl: `${base}/api/`, fetch: bufferedFetch() });
    const result = await client.chat.postMessage({ channel: 'C0SUPPORT', text: 'hello' });
    expect(result).toMatchObject({ ok: true, channel: 'C0SUPPORT', ts: '1.000100' });
    expect(received.at(-1)?.body).toContain('text=hello');
  });

  it('rejects a refused connection as fetch does: TypeError "fetch failed", the cause naming the code', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const url = `http://127.0.0.1:${port}/api/auth.test`;
    const failure = await bufferedFetch()(url, { method: 'POST', body: '' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TypeError);
    expect((failure as Error).message).toBe('fetch failed');
    expect(((failure as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
    // So the error the WebClient logs still names the call, the host and the code.
    const named = await fetchNamingFailedCalls(bufferedFetch())(url, { method: 'POST', body: '' }).catch((e) => e);
    expect((named as Error).message).toBe(`auth.test at 127.0.0.1:${port}: fetch failed (ECONNREFUSED)`);
  });

  it("rejects with the signal's reason when it aborts: a TimeoutError for the WebClient's timeout", async () => {
    const failure = await bufferedFetch()(`${base}/never`, {
      method: 'POST',
      body: 'x',
      signal: AbortSignal.timeout(100),
    }).catch((error: unknown) => error);
    expect((failure as Error).name).toBe('TimeoutError');
  });

  it('bounds a call by timeoutMs, rejecting with a TimeoutError that the Slack metrics count as a timeout', async () => {
    const errors: string[] = [];
    const telemetry = { chatApiError: (method: string, error: string) => errors.push(`${method} ${error}`) };
    const bounded = fetchReportingSlackErrors(telemetry, bufferedFetch({ timeoutMs: 150 }));
    const started = performance.now();
    const failure = await bounded(`${base}/never/api/chat.update`, { method: 'POST', body: 'x' }).catch((e) => e);
    expect((failure as Error).name).toBe('TimeoutError');
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(errors).toEqual(['chat.update timeout']);
  });

  it('never follows a redirect, and rejects one when told redirect: "error" (as the WebClient does)', async () => {
    const moved = await bufferedFetch()(`${base}/moved`, { method: 'POST', body: 'x' });
    expect([moved.status, moved.ok, moved.headers.get('location')]).toEqual([302, false, '/elsewhere']);
    expect(received.some((request) => request.url === '/elsewhere')).toBe(false);
    const refused = bufferedFetch()(`${base}/moved`, { method: 'POST', body: 'x', redirect: 'error' });
    await expect(refused).rejects.toThrow(TypeError);
  });

  it('hands a FormData body (a file upload) to the fallback fetch', async () => {
    const handed: string[] = [];
    const fallback = (async (url: string | URL) => {
      handed.push(String(url));
      return new Response('{"ok":true}');
    }) as unknown as FetchFunction;
    const form = new FormData();
    form.set('file', new Blob(['bytes']), 'a.txt');
    const before = received.length;
    await bufferedFetch({ fallback })(`${base}/api/files.upload`, { method: 'POST', body: form });
    expect(handed).toEqual([`${base}/api/files.upload`]);
    expect(received.length).toBe(before);
  });
});
