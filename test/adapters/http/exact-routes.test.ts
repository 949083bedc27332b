import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CustomRoute } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactRoutes } from '../../../src/adapters/http/exact-routes.js';

/* The look-up in front of Bolt, on a real server on loopback: what it serves itself, and what it leaves to Bolt. */
describe('exactRoutes', () => {
  let server: Server;
  let base: string;
  const served: string[] = [];

  const answering =
    (name: string): CustomRoute['handler'] =>
    (req, res) => {
      served.push(`${name} ${req.method} ${req.url} ${JSON.stringify(req.params)}`);
      res.end(name);
    };

  beforeAll(async () => {
    const routes: CustomRoute[] = [
      { path: '/healthz', method: ['GET'], handler: answering('health') },
      { path: '/waping/webhooks', method: 'post', handler: answering('webhooks') },
      { path: '/media/:token', method: ['GET'], handler: answering('media') },
    ];
    server = createServer(
      exactRoutes(routes, (req, res) => {
        served.push(`next ${req.method} ${req.url}`);
        res.end('next');
      }),
    );
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  async function call(method: string, path: string): Promise<string> {
    const response = await fetch(`${base}${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
    return response.text();
  }

  it('serves a fixed path by its method, a query string aside, with empty params as Bolt gives', async () => {
    served.length = 0;
    expect(await call('GET', '/healthz')).toBe('health');
    expect(await call('POST', '/waping/webhooks')).toBe('webhooks');
    expect(await call('GET', '/healthz?probe=1')).toBe('health');
    expect(served).toEqual([
      'health GET /healthz {}',
      'webhooks POST /waping/webhooks {}',
      'health GET /healthz?probe=1 {}',
    ]);
  });

  it('leaves to Bolt what it does not serve exactly: other methods and paths, and routes with parameters', async () => {
    served.length = 0;
    expect(await call('POST', '/healthz')).toBe('next');
    expect(await call('GET', '/waping/webhooks')).toBe('next');
    expect(await call('GET', '/media/abc')).toBe('next');
    expect(await call('POST', '/slack/events')).toBe('next');
    expect(await call('GET', '/healthz/')).toBe('next');
    expect(served).toEqual([
      'next POST /healthz',
      'next GET /waping/webhooks',
      'next GET /media/abc',
      'next POST /slack/events',
      'next GET /healthz/',
    ]);
  });
});
