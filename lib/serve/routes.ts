// The two status servers' routes: /metrics and /proxyMode on metricsBindAddress, /healthz
// and /livez on healthzBindAddress. Anything else is 404; only GET and HEAD are served.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { HealthResponse } from './health.js';

type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

function router(routes: Record<string, Route>): RequestListener {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end();
      return;
    }
    Promise.resolve(route(req, res)).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`${e instanceof Error ? e.message : String(e)}\n`);
    });
  };
}

export function metricsRoutes(registry: Registry, mode: () => string): RequestListener {
  return router({
    '/metrics': async (_req, res) => {
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType }).end(text);
    },
    // As kube-proxy: the bare mode, no newline ("curl localhost:10249/proxyMode").
    '/proxyMode': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(mode());
    },
  });
}

export function healthRoutes(
  healthz: () => HealthResponse,
  livez: () => HealthResponse,
): RequestListener {
  const send = (r: HealthResponse, res: ServerResponse): void => {
    res
      .writeHead(r.status, {
        'content-type': 'application/json',
        'x-content-type-options': 'nosniff',
      })
      .end(r.body);
  };
  return router({
    '/healthz': (_req, res) => send(healthz(), res),
    '/livez': (_req, res) => send(livez(), res),
  });
}
