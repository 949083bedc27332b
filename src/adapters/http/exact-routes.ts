import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';

/**
 * A request listener that serves the custom routes whose path is fixed (`/waping/webhooks`, `/healthz`…) by a map
 * look-up, and hands everything else to `next` (Bolt's listener, which serves the rest: Slack's endpoint and routes
 * with parameters such as `/media/:token`). Bolt compiles every custom route's pattern again on every request and
 * tries them in turn: under webhook load that was a measurable share of each request's CPU. The routes are the
 * same ones Bolt is given (and serves itself in Socket Mode), so both paths answer alike; as Bolt does, a handler
 * gets `req.params` (empty here).
 */
export function exactRoutes(routes: readonly CustomRoute[], next: RequestListener): RequestListener {
  const byPath = new Map<string, Map<string, CustomRoute['handler']>>();
  for (const route of routes) {
    if (route.path.includes(':') || route.path.includes('*') || route.path.includes('(')) continue; // Bolt's, then
    const methods = byPath.get(route.path) ?? new Map<string, CustomRoute['handler']>();
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      if (!methods.has(method.toUpperCase())) methods.set(method.toUpperCase(), route.handler);
    }
    byPath.set(route.path, methods);
  }
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const handler = byPath.get(query === -1 ? url : url.slice(0, query))?.get(req.method ?? '');
    if (!handler) return next(req, res);
    return handler(Object.assign(req, { params: {} }), res);
  };
}
