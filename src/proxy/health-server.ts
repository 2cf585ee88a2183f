import http from 'node:http';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../log/klog.ts';
import { type Clock, realClock } from '../util/clock.ts';
import type { ProxyMetrics } from './metrics.ts';

export interface HealthSource {
  /** When a change was queued and not yet applied. */
  queuedAt: number | undefined;
  lastUpdated: number | undefined;
  lastRules: string;
  node(): Node | undefined;
}

/**
 * serveHealth answers /healthz and /livez with upstream's JSON: unhealthy (503) when a queued change has not been
 * applied within 2 × syncPeriod; /healthz also fails while this node is missing or being deleted.
 */
export function serveHealth(
  address: string,
  source: HealthSource,
  o: { syncPeriodMs: number; metrics: ProxyMetrics; logger: Logger; clock?: Clock },
): Promise<http.Server> {
  const clock = o.clock ?? realClock;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/livez') {
      res.writeHead(404).end('404 page not found\n');
      return;
    }
    const now = clock.now();
    const stale = source.queuedAt !== undefined && now - source.queuedAt > 2 * o.syncPeriodMs;
    const healthy = !stale && source.lastUpdated !== undefined;
    const body: Record<string, unknown> = { lastUpdated: iso(source.lastUpdated), currentTime: iso(now) };
    let ok = healthy;
    if (path === '/healthz') {
      const node = source.node();
      const eligible =
        node !== undefined &&
        !node.metadata?.deletionTimestamp &&
        !(node.spec?.taints ?? []).some((t) => t.key === 'ToBeDeletedByClusterAutoscaler');
      body.nodeEligible = eligible;
      ok = healthy && eligible;
    }
    body.healthy = healthy;
    body.status = { IPv4: { lastUpdated: iso(source.lastUpdated), healthy } };
    const code = ok ? 200 : 503;
    const counters = path === '/healthz' ? o.metrics.healthz : o.metrics.livez;
    counters[code] = (counters[code] ?? 0) + 1;
    res.writeHead(code, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
    res.end(JSON.stringify(body));
  });
  return listen(server, address);
}

/** serveMetrics answers /metrics, /proxyMode, /configz, /healthz and /debug/rules (the last ruleset applied). */
export function serveMetrics(
  address: string,
  source: HealthSource,
  o: { metrics: ProxyMetrics; configz: () => unknown; mode: string },
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (type: string, body: string) => res.writeHead(200, { 'Content-Type': type }).end(body);
    switch (path) {
      case '/metrics':
        return send('text/plain; version=0.0.4; charset=utf-8', o.metrics.render());
      case '/proxyMode':
        return send('text/plain; charset=utf-8', o.mode);
      case '/configz':
        return send('application/json', JSON.stringify({ kubeproxy: o.configz() }));
      case '/healthz':
        return send('text/plain; charset=utf-8', 'ok');
      case '/debug/rules':
        return send('text/plain; charset=utf-8', source.lastRules);
      default:
        res.writeHead(404).end('404 page not found\n');
    }
  });
  return listen(server, address);
}

function listen(server: http.Server, address: string): Promise<http.Server> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function iso(ms: number | undefined): string {
  return ms === undefined ? '0001-01-01T00:00:00Z' : new Date(ms).toISOString();
}
