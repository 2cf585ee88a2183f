import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { buildServicePorts, type ServicePort } from './service-ports.ts';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * ServicePortCache is the model kept up to date from informer events, as upstream's service and endpoint change
 * trackers: each Service or EndpointSlice event marks its Service dirty, and `build()` runs buildServicePorts again
 * only for dirty Services, telling which service ports changed (by a digest of each) and which went away. Each
 * service port is categorized (its `plan`) when its Service is rebuilt, not again on later syncs. At 10,000 Services a
 * full rebuild with digests costs about a second here; a sync after one change costs that Service. Pure.
 */
export class ServicePortCache {
  #services = new Map<string, Service>();
  /** Service key (`ns/name`) → slice key → slice. */
  #slices = new Map<string, Map<string, EndpointSlice>>();
  #dirty = new Set<string>();
  /** Service key → its ports and their digests, as last built. */
  #built = new Map<string, { ports: ServicePort[]; digests: string[] }>();
  #sorted: ServicePort[] = [];

  /** setService records a Service (undefined: deleted). */
  setService(namespace: string, name: string, service: Service | undefined): void {
    const key = `${namespace}/${name}`;
    if (service) this.#services.set(key, service);
    else this.#services.delete(key);
    this.#dirty.add(key);
  }

  /** setSlice records an EndpointSlice (undefined: deleted); old is its previous version, if any. */
  setSlice(slice: EndpointSlice, old?: EndpointSlice, deleted = false): void {
    const sliceKey = `${slice.metadata?.namespace}/${slice.metadata?.name}`;
    for (const s of [old, slice]) {
      const svc = s?.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (!svc) continue;
      const key = `${s.metadata?.namespace}/${svc}`;
      this.#slices.get(key)?.delete(sliceKey);
      this.#dirty.add(key);
    }
    const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (deleted || !svc) return;
    const key = `${slice.metadata?.namespace}/${svc}`;
    let bySlice = this.#slices.get(key);
    if (!bySlice) this.#slices.set(key, (bySlice = new Map()));
    bySlice.set(sliceKey, slice);
  }

  /**
   * build rebuilds dirty Services and returns every service port (sorted as buildServicePorts sorts), the names of
   * service ports whose model changed or appeared, and the keys (`name/protocol`) of those that went away.
   */
  build(nodeName: string): { ports: ServicePort[]; changed: Set<string>; removed: string[] } {
    const changed = new Set<string>();
    const removed: string[] = [];
    if (this.#dirty.size === 0) return { ports: this.#sorted, changed, removed };
    for (const key of this.#dirty) {
      const before = this.#built.get(key);
      const svc = this.#services.get(key);
      const ports = svc
        ? buildServicePorts({ services: [svc], endpointSlices: [...(this.#slices.get(key)?.values() ?? [])], nodeName })
        : [];
      const digests = ports.map(digest);
      const old = new Map(before?.ports.map((p, i) => [`${p.name}/${p.protocol}`, before.digests[i]]) ?? []);
      ports.forEach((p, i) => {
        const k = `${p.name}/${p.protocol}`;
        if (old.get(k) !== digests[i]) changed.add(p.name);
        old.delete(k);
      });
      removed.push(...old.keys());
      if (ports.length > 0) this.#built.set(key, { ports, digests });
      else this.#built.delete(key);
    }
    this.#dirty.clear();
    const all: ServicePort[] = [];
    for (const entry of this.#built.values()) for (const p of entry.ports) all.push(p);
    this.#sorted = all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.protocol < b.protocol ? -1 : 1));
    return { ports: this.#sorted, changed, removed };
  }
}

/** digest identifies a service port's model; its plan is derived from the rest, so it is left out. */
function digest(port: ServicePort): string {
  const { plan: _, ...model } = port;
  return JSON.stringify(model);
}
