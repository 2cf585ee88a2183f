import http from 'node:http';
import type { Logger } from '../log/klog.ts';
import type { ServicePort } from './service-ports.ts';

/**
 * ServiceHealthServers answers load balancers' health checks for `externalTrafficPolicy: Local` services on their
 * healthCheckNodePort, as upstream's: 200 with the number of local endpoints when there are any (and the proxy is
 * healthy), 503 otherwise, with the X-Load-Balancing-Endpoint-Weight header and upstream's JSON body.
 */
export class ServiceHealthServers {
  #servers = new Map<number, { server: http.Server; service: { namespace: string; name: string }; local: number }>();
  #logger: Logger;
  #healthy: () => boolean;

  constructor(logger: Logger, healthy: () => boolean) {
    this.#logger = logger;
    this.#healthy = healthy;
  }

  /** sync opens a server per health check node port in use, updates counts, closes the ones no longer used. */
  sync(ports: readonly ServicePort[]): void {
    const wanted = new Map<number, { namespace: string; name: string; local: number }>();
    for (const p of ports) {
      if (!p.healthCheckNodePort) continue;
      const local = p.plan.localEndpoints.length;
      const entry = wanted.get(p.healthCheckNodePort);
      wanted.set(p.healthCheckNodePort, {
        namespace: p.namespace,
        name: p.serviceName,
        local: (entry?.local ?? 0) + local,
      });
    }
    for (const [port, entry] of this.#servers) {
      if (wanted.has(port)) continue;
      entry.server.close();
      this.#servers.delete(port);
    }
    for (const [port, w] of wanted) {
      const existing = this.#servers.get(port);
      if (existing) {
        existing.local = w.local;
        continue;
      }
      const entry = {
        service: { namespace: w.namespace, name: w.name },
        local: w.local,
        server: http.createServer((_req, res) => {
          const healthy = this.#healthy();
          const code = entry.local > 0 && healthy ? 200 : 503;
          res.writeHead(code, {
            'Content-Type': 'application/json',
            'X-Content-Type-Options': 'nosniff',
            'X-Load-Balancing-Endpoint-Weight': String(entry.local),
          });
          res.end(
            JSON.stringify({ service: entry.service, localEndpoints: entry.local, serviceProxyHealthy: healthy }),
          );
        }),
      };
      entry.server.on('error', (error) =>
        this.#logger.error('Failed to serve health check node port', { port, error }),
      );
      entry.server.listen(port, '0.0.0.0');
      this.#servers.set(port, entry);
    }
  }

  close(): void {
    for (const e of this.#servers.values()) e.server.close();
    this.#servers.clear();
  }
}
