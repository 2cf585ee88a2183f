import http from 'node:http';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Stored } from '../api/objects.ts';
import { Informer, type RestClient } from '../client/client.ts';
import type { Logger } from '../log/klog.ts';
import { Forwarder } from './forwarder.ts';
import { DnsMetrics } from './metrics.ts';
import { DnsServer } from './server.ts';
import { buildZone, type Zone } from './zone.ts';

/**
 * ClusterDns is `tskube dns`: informers over Services and EndpointSlices feed a pure zone (rebuilt whole, in a
 * batch per burst of changes), which a DNS server answers from over UDP and TCP; other names go to the node's
 * resolvers. Beside it, CoreDNS's HTTP endpoints: /health (liveness), /ready (the first lists are in), /metrics.
 */
export interface ClusterDnsOptions {
  client: RestClient;
  logger: Logger;
  domain: string;
  ttl: number;
  dnsAddress: string;
  dnsPort: number;
  /** Upstream resolvers for names outside the cluster. */
  upstreams: string[];
  /** host:port for /health; empty turns it off. */
  healthAddress: string;
  /** host:port for /ready. */
  readyAddress: string;
  /** host:port for /metrics. */
  metricsAddress: string;
}

export class ClusterDns {
  readonly metrics: DnsMetrics;
  #o: ClusterDnsOptions;
  #services: Informer<Stored<Service>>;
  #slices: Informer<Stored<EndpointSlice>>;
  #zone: Zone;
  #server: DnsServer;
  #forwarder: Forwarder | undefined;
  #http: http.Server[] = [];
  #scheduled = false;
  #ready = false;
  /** When the zone was last rebuilt (ms) and how long that took: bursts are batched by the rebuild's own cost. */
  #lastBuild = 0;
  #buildMs = 0;

  constructor(options: ClusterDnsOptions) {
    this.#o = options;
    this.metrics = new DnsMetrics(
      `dns://${options.dnsAddress === '0.0.0.0' ? '' : options.dnsAddress}:${options.dnsPort}`,
    );
    this.#zone = buildZone([], [], { domain: options.domain, ttl: options.ttl, serial: now() });
    const onChange = () => this.#schedule();
    this.#services = new Informer(
      options.client,
      options.client.typed('services'),
      { onChange },
      { logger: options.logger },
    );
    this.#slices = new Informer(
      options.client,
      options.client.typed('endpointslices'),
      { onChange },
      { logger: options.logger },
    );
    const forwarder =
      options.upstreams.length > 0
        ? new Forwarder({
            upstreams: options.upstreams,
            onResult: (to, rcode, seconds) => this.metrics.forward(to, rcode, seconds),
          })
        : undefined;
    this.#forwarder = forwarder;
    this.#server = new DnsServer({ zone: () => this.#zone, forwarder, metrics: this.metrics });
  }

  /** start listens at once (answering SERVFAIL-free from an empty zone) and becomes ready after the first lists. */
  async start(): Promise<{ dnsPort: number }> {
    const log = this.#o.logger;
    const dnsPort = await this.#server.listen(this.#o.dnsAddress, this.#o.dnsPort);
    log.info('Serving DNS', {
      address: `${this.#o.dnsAddress}:${dnsPort}`,
      protocols: 'udp,tcp',
      domain: this.#o.domain,
      upstreams: this.#o.upstreams.join(','),
    });
    if (this.#o.healthAddress)
      this.#http.push(await serve(this.#o.healthAddress, (path) => (path === '/health' ? [200, 'OK'] : undefined)));
    if (this.#o.readyAddress)
      this.#http.push(
        await serve(this.#o.readyAddress, (path) =>
          path === '/ready' ? (this.#ready ? [200, 'OK'] : [503, 'kubernetes']) : undefined,
        ),
      );
    if (this.#o.metricsAddress)
      this.#http.push(
        await serve(this.#o.metricsAddress, (path) => (path === '/metrics' ? [200, this.metrics.render()] : undefined)),
      );
    this.#services.start();
    this.#slices.start();
    // Ready once the first lists are in and every upstream was checked (so an unreachable one fails fast at once).
    void Promise.all([this.#services.waitForSync(), this.#slices.waitForSync(), this.#forwarder?.start()]).then(() => {
      this.#rebuild();
      this.#ready = true;
      log.info('Informers synced, DNS ready', {
        services: this.#services.list().length,
        endpointSlices: this.#slices.list().length,
        healthyUpstreams: this.#forwarder?.healthy().join(',') ?? '',
      });
    });
    return { dnsPort };
  }

  async stop(): Promise<void> {
    this.#forwarder?.stop();
    await Promise.all([this.#services.stop(), this.#slices.stop()]);
    await this.#server.close();
    await Promise.all(this.#http.map((s) => new Promise((resolve) => s.close(resolve))));
  }

  #schedule(): void {
    if (this.#scheduled || !this.#services.hasSynced() || !this.#slices.hasSynced()) return;
    this.#scheduled = true;
    // Right away after a quiet spell; during a burst, no more often than the rebuild's own cost allows.
    const wait = Math.max(0, this.#lastBuild + 2 * this.#buildMs - Date.now());
    setTimeout(() => {
      this.#scheduled = false;
      this.#rebuild();
    }, wait);
  }

  #rebuild(): void {
    const started = performance.now();
    this.#zone = buildZone(this.#services.list(), this.#slices.list(), {
      domain: this.#o.domain,
      ttl: this.#o.ttl,
      serial: now(),
    });
    this.#buildMs = performance.now() - started;
    this.#lastBuild = Date.now();
    this.#o.logger
      .v(4)
      .info('Zone rebuilt', { names: this.#zone.names.size, elapsed: `${this.#buildMs.toFixed(1)}ms` });
  }
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** serve answers GET paths on host:port with a small handler (CoreDNS's health, ready and metrics listeners). */
async function serve(address: string, handler: (path: string) => [number, string] | undefined): Promise<http.Server> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i) || '0.0.0.0';
  const port = Number(address.slice(i + 1));
  const server = http.createServer((req, res) => {
    const result = handler((req.url ?? '/').split('?')[0]!);
    if (!result) {
      res.writeHead(404).end('404 page not found\n');
      return;
    }
    res.writeHead(result[0], { 'Content-Type': 'text/plain; charset=utf-8' }).end(result[1]);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host.replace(/^\[|\]$/g, ''), () => resolve());
  });
  return server;
}
