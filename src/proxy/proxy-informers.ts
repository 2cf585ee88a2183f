import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { Informer, type RestClient } from '../client/client.ts';
import type { Logger } from '../log/klog.ts';

/** ProxyEventHandlers is what the sync loop hears (upstream's ServiceHandler, EndpointSliceHandler, NodeHandler). */
export interface ProxyEventHandlers {
  onServiceAdd(service: Service): void;
  onServiceUpdate(old: Service, service: Service): void;
  onServiceDelete(service: Service): void;
  onServicesSynced(): void;
  onEndpointSliceAdd(slice: EndpointSlice): void;
  onEndpointSliceUpdate(old: EndpointSlice, slice: EndpointSlice): void;
  onEndpointSliceDelete(slice: EndpointSlice): void;
  onEndpointSlicesSynced(): void;
  onNodeAdd(node: Node): void;
  onNodeUpdate(old: Node, node: Node): void;
  onNodeDelete(node: Node): void;
}

/**
 * ProxyInformers feeds the sync loop from the API server, as upstream's config.ServiceConfig, EndpointSliceConfig and
 * NodeConfig: Services and EndpointSlices with upstream's selectors (no service-proxy-name, no headless slices), and
 * this node's Node.
 */
export class ProxyInformers {
  #services: Informer<Stored<Service>>;
  #slices: Informer<Stored<EndpointSlice>>;
  #node: Informer<Stored<Node>>;
  #handlers: ProxyEventHandlers;
  #logger: Logger;

  constructor(client: RestClient, handlers: ProxyEventHandlers, options: { nodeName: string; logger: Logger }) {
    const logger = options.logger;
    this.#handlers = handlers;
    this.#logger = logger;
    this.#services = new Informer(
      client,
      client.typed('services'),
      {
        onAdd: (s) => handlers.onServiceAdd(s),
        onUpdate: (old, s) => handlers.onServiceUpdate(old, s),
        onDelete: (s) => handlers.onServiceDelete(s),
      },
      { labelSelector: '!service.kubernetes.io/service-proxy-name', logger },
    );
    this.#slices = new Informer(
      client,
      client.typed('endpointslices'),
      {
        onAdd: (s) => handlers.onEndpointSliceAdd(s),
        onUpdate: (old, s) => handlers.onEndpointSliceUpdate(old, s),
        onDelete: (s) => handlers.onEndpointSliceDelete(s),
      },
      { labelSelector: '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless', logger },
    );
    this.#node = new Informer(
      client,
      client.typed('nodes'),
      {
        onAdd: (n) => handlers.onNodeAdd(n),
        onUpdate: (old, n) => handlers.onNodeUpdate(old, n),
        onDelete: (n) => handlers.onNodeDelete(n),
      },
      { fieldSelector: `metadata.name=${options.nodeName}`, logger },
    );
  }

  /** start lists and watches; it resolves once the first Services and EndpointSlices are in (and handed over). */
  async start(): Promise<void> {
    const log = this.#logger;
    log.info('Starting service config controller');
    log.info('Starting endpoint slice config controller');
    this.#services.start();
    this.#slices.start();
    this.#node.start();
    await Promise.all([
      this.#services.waitForSync().then(() => {
        log.info('Caches are synced for service config controller');
        this.#handlers.onServicesSynced();
      }),
      this.#slices.waitForSync().then(() => {
        log.info('Caches are synced for endpoint slice config controller');
        this.#handlers.onEndpointSlicesSynced();
      }),
    ]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.#services.stop(), this.#slices.stop(), this.#node.stop()]);
  }
}
