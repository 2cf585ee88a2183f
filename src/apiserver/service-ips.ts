import { randomUUID } from 'node:crypto';
import type { Service, ServiceSpec } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/objects.ts';
import { getOwn } from '../api/own-properties.ts';
import type { Decoded } from './per-kind.ts';
import { formatIPv4 } from '../net/ipv4.ts';
import { invalid, type StatusCause } from '../api/status.ts';
import type { Logger } from '../log/klog.ts';
import { ServiceAllocations, type RangeAllocator } from './service-allocations.ts';
import { KeyExistsError, KeyNotFoundError, RevisionConflictError, type Store } from './storage/store.ts';
import { timestamp } from '../api/time.ts';

const SERVICE_KIND = { group: '', kind: 'Service' };

/** IPADDRESS_PREFIX is where IPAddress objects (networking.k8s.io/v1) live: one per allocated ClusterIP, named by it. */
export const IPADDRESS_PREFIX = '/registry/ipaddresses.networking.k8s.io/';
/** NODEPORT_PREFIX is where the store keeps one key per allocated NodePort (upstream keeps a bitmap in one key). */
export const NODEPORT_PREFIX = '/registry/ranges/servicenodeports/';
/** An IPAddress or port without its Service is only reclaimed after this long: its Service may still be on the way. */
const ORPHAN_GRACE_MS = 60_000;

interface Owner {
  namespace: string;
  name: string;
}

function ownerOf(svc: KubeObject): Owner {
  return { namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '' };
}

/**
 * asService is the one place ServiceIps reads an object as a Service: the registry hands it only objects of the
 * services resource (decoded with the Service schema, or as stored).
 */
function asService(object: KubeObject): Decoded<Service> {
  return object as Decoded<Service>;
}

function now(): string {
  return timestamp();
}

/**
 * ServiceIps gives Services their ClusterIP and NodePorts through the store, so any number of API servers on one
 * store agree: a ClusterIP is taken by creating its IPAddress object (as upstream's IPAddress allocator does since
 * networking.k8s.io/v1 went GA), a NodePort by creating its key; a create that finds the key taken means another
 * server has it, and the next value is tried. Requested values are honoured when free and in range (422
 * otherwise), kept across updates, and released when a Service goes. The local bitmaps are only hints; `repair`
 * recreates what a crash lost and removes what no Service holds.
 */
export class ServiceIps {
  readonly ranges: ServiceAllocations;
  readonly #store: Store;
  readonly #log: Logger | undefined;

  constructor(store: Store, serviceClusterIpRange: string, nodePortRange: string, logger?: Logger) {
    this.#store = store;
    this.ranges = new ServiceAllocations(serviceClusterIpRange, nodePortRange);
    this.#log = logger;
  }

  /** resync reloads the hints from the store: every IPAddress and NodePort key is taken, nothing else. */
  async resync(): Promise<void> {
    const ips = (await this.#store.list(IPADDRESS_PREFIX)).items
      .map((i) => ServiceAllocations.ipNumber(i.key.slice(IPADDRESS_PREFIX.length)))
      .filter((n): n is number => n !== undefined);
    const ports = (await this.#store.list(NODEPORT_PREFIX)).items.map((i) =>
      Number(i.key.slice(NODEPORT_PREFIX.length)),
    );
    this.ranges.ips.reset(ips);
    this.ranges.ports.reset(ports);
  }

  /** carryOver keeps the allocated ClusterIP and NodePorts when an update leaves them out (as upstream does). */
  carryOver(service: KubeObject, oldService: KubeObject): void {
    const object = asService(service);
    const old = asService(oldService);
    const spec = (object.spec ??= {});
    if (spec.type === 'ExternalName') return;
    if (!spec.clusterIP && old.spec?.clusterIP) spec.clusterIP = old.spec.clusterIP;
    if (!spec.clusterIPs?.length && old.spec?.clusterIPs) spec.clusterIPs = old.spec.clusterIPs;
    if (needsNodePorts(spec)) {
      for (const p of spec.ports ?? []) {
        if (p.nodePort) continue;
        const previous = (old.spec?.ports ?? []).find(
          (o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'),
        );
        if (previous?.nodePort) p.nodePort = previous.nodePort;
      }
    }
  }

  #ipKey(ip: number): string {
    return `${IPADDRESS_PREFIX}${formatIPv4(ip)}`;
  }

  #portKey(port: number): string {
    return `${NODEPORT_PREFIX}${port}`;
  }

  #ipAddressObject(ip: number, owner: Owner): string {
    return JSON.stringify({
      kind: 'IPAddress',
      apiVersion: 'networking.k8s.io/v1',
      metadata: {
        name: formatIPv4(ip),
        uid: randomUUID(),
        creationTimestamp: now(),
        generation: 1,
        labels: {
          'ipaddress.kubernetes.io/ip-family': 'IPv4',
          'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io',
        },
      },
      spec: { parentRef: { group: '', resource: 'services', namespace: owner.namespace, name: owner.name } },
    });
  }

  /** #take claims one value in the store; false when someone holds it already. */
  async #take(kind: 'ip' | 'port', value: number, owner: Owner, dryRun: boolean): Promise<boolean> {
    const key = kind === 'ip' ? this.#ipKey(value) : this.#portKey(value);
    if (dryRun) return (await this.#store.get(key)) === undefined;
    const text =
      kind === 'ip' ? this.#ipAddressObject(value, owner) : JSON.stringify({ ...owner, creationTimestamp: now() });
    try {
      await this.#store.create(key, text);
      return true;
    } catch (error) {
      if (error instanceof KeyExistsError) return false;
      throw error;
    }
  }

  /** #takeNext claims any free value: local hints first, then the store decides; undefined when the range is full. */
  async #takeNext(kind: 'ip' | 'port', owner: Owner, dryRun: boolean): Promise<number | undefined> {
    const hints: RangeAllocator = kind === 'ip' ? this.ranges.ips : this.ranges.ports;
    let resynced = false;
    for (let attempts = 0; attempts < hints.size + 16; attempts++) {
      const candidate = hints.allocateNext();
      if (candidate === undefined) {
        if (resynced) return undefined;
        await this.resync();
        resynced = true;
        continue;
      }
      try {
        if (await this.#take(kind, candidate, owner, dryRun)) {
          if (dryRun) hints.release(candidate);
          return candidate;
        }
      } catch (error) {
        hints.release(candidate);
        throw error;
      }
      // Taken by another API server: the hint stays marked, try the next one.
    }
    return undefined;
  }

  /** #free releases a value this Service holds (never someone else's: a key now owned by another is left alone). */
  async #free(kind: 'ip' | 'port', value: number, owner: Owner): Promise<void> {
    const key = kind === 'ip' ? this.#ipKey(value) : this.#portKey(value);
    const stored = await this.#store.get(key);
    if (stored && sameOwner(kind, stored.value, owner)) {
      try {
        await this.#store.delete(key, stored.modRevision);
      } catch (error) {
        if (!(error instanceof KeyNotFoundError) && !(error instanceof RevisionConflictError)) throw error;
      }
    }
    (kind === 'ip' ? this.ranges.ips : this.ranges.ports).release(value);
  }

  /**
   * allocate gives object what it needs beyond what old already holds; it returns a function that undoes exactly
   * this allocation (for a failed write) and throws 422 Invalid when a requested value is unavailable. A dry run
   * checks the same but claims nothing.
   */
  async allocate(
    service: KubeObject,
    oldService: KubeObject | undefined,
    dryRun: boolean,
  ): Promise<() => Promise<void>> {
    const object = asService(service);
    const old = oldService && asService(oldService);
    const spec = (object.spec ??= {});
    const owner = ownerOf(object);
    const taken: { ips: number[]; ports: number[] } = { ips: [], ports: [] };
    const undo = async () => {
      if (dryRun) return;
      for (const ip of taken.ips) await this.#free('ip', ip, owner);
      for (const port of taken.ports) await this.#free('port', port, owner);
    };
    const causes: StatusCause[] = [];
    try {
      if (
        spec.type !== 'ExternalName' &&
        spec.clusterIP !== 'None' &&
        (!spec.clusterIP || spec.clusterIP !== old?.spec?.clusterIP)
      ) {
        if (spec.clusterIP) {
          const ip = ServiceAllocations.ipNumber(spec.clusterIP);
          if (ip === undefined || !this.ranges.ips.contains(ip)) {
            causes.push({
              reason: 'FieldValueInvalid',
              field: 'spec.clusterIPs',
              message: `Invalid value: []string{"${spec.clusterIP}"}: failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${this.ranges.serviceCidrText}`,
            });
          } else if (!(await this.#take('ip', ip, owner, dryRun))) {
            this.ranges.ips.allocate(ip);
            causes.push({
              reason: 'FieldValueInvalid',
              field: 'spec.clusterIPs',
              message: `Invalid value: []string{"${spec.clusterIP}"}: failed to allocate IP ${spec.clusterIP}: provided IP is already allocated`,
            });
          } else if (!dryRun) {
            this.ranges.ips.allocate(ip);
            taken.ips.push(ip);
          }
        } else {
          const ip = await this.#takeNext('ip', owner, dryRun);
          if (ip === undefined) {
            causes.push({
              reason: 'FieldValueInvalid',
              field: 'spec.clusterIPs',
              message: `Invalid value: []string(nil): failed to allocate a serviceIP: range is full`,
            });
          } else {
            if (!dryRun) taken.ips.push(ip);
            spec.clusterIP = formatIPv4(ip);
          }
        }
      }
      if (spec.type !== 'ExternalName' && spec.clusterIP) spec.clusterIPs = [spec.clusterIP];
      const oldPorts = new Set((old?.spec?.ports ?? []).map((p) => p.nodePort).filter((n) => n !== undefined));
      if (needsNodePorts(spec)) {
        const ports = spec.ports ?? [];
        for (let i = 0; i < ports.length; i++) {
          const p = ports[i];
          if (p.nodePort && oldPorts.has(p.nodePort)) continue;
          if (p.nodePort) {
            if (!this.ranges.ports.contains(p.nodePort)) {
              causes.push({
                reason: 'FieldValueInvalid',
                field: `spec.ports[${i}].nodePort`,
                message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${this.ranges.nodePortRangeText}`,
              });
            } else if (!(await this.#take('port', p.nodePort, owner, dryRun))) {
              causes.push({
                reason: 'FieldValueInvalid',
                field: `spec.ports[${i}].nodePort`,
                message: `Invalid value: ${p.nodePort}: provided port is already allocated`,
              });
            } else if (!dryRun) {
              this.ranges.ports.allocate(p.nodePort);
              taken.ports.push(p.nodePort);
            }
          } else {
            const port = await this.#takeNext('port', owner, dryRun);
            if (port === undefined)
              causes.push({
                reason: 'FieldValueInvalid',
                field: `spec.ports[${i}].nodePort`,
                message: 'Invalid value: 0: range is full',
              });
            else {
              if (!dryRun) taken.ports.push(port);
              p.nodePort = port;
            }
          }
        }
      } else {
        for (const p of spec.ports ?? []) delete p.nodePort;
      }
      // A LoadBalancer with externalTrafficPolicy Local gets a health check node port, as upstream allocates one.
      if (spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' && !spec.healthCheckNodePort) {
        const kept = old?.spec?.healthCheckNodePort;
        const port = kept ?? (await this.#takeNext('port', owner, dryRun));
        if (port === undefined)
          causes.push({
            reason: 'FieldValueInvalid',
            field: 'spec.healthCheckNodePort',
            message: 'Invalid value: 0: range is full',
          });
        else {
          if (port !== kept && !dryRun) taken.ports.push(port);
          spec.healthCheckNodePort = port;
        }
      }
      if (causes.length) throw invalid(SERVICE_KIND, object.metadata?.name ?? '', causes);
    } catch (error) {
      await undo();
      throw error;
    }
    return undo;
  }

  /** releaseRemoved frees what old held and object no longer does (after a successful update). */
  async releaseRemoved(service: KubeObject, oldService: KubeObject): Promise<void> {
    const object = asService(service);
    const old = asService(oldService);
    const owner = ownerOf(old);
    const keep = new Set((object.spec?.ports ?? []).map((p) => p.nodePort).filter((n) => n !== undefined));
    if (object.spec?.healthCheckNodePort) keep.add(object.spec.healthCheckNodePort);
    for (const p of old.spec?.ports ?? [])
      if (p.nodePort && !keep.has(p.nodePort)) await this.#free('port', p.nodePort, owner);
    if (old.spec?.healthCheckNodePort && !keep.has(old.spec.healthCheckNodePort))
      await this.#free('port', old.spec.healthCheckNodePort, owner);
    if (old.spec?.clusterIP && old.spec.clusterIP !== object.spec?.clusterIP) {
      const ip = ServiceAllocations.ipNumber(old.spec.clusterIP);
      if (ip !== undefined) await this.#free('ip', ip, owner);
    }
  }

  /** release frees everything a deleted Service held. */
  async release(oldService: KubeObject): Promise<void> {
    const old = asService(oldService);
    const owner = ownerOf(old);
    const ip = ServiceAllocations.ipNumber(old.spec?.clusterIP ?? '');
    if (ip !== undefined) await this.#free('ip', ip, owner);
    for (const p of old.spec?.ports ?? []) if (p.nodePort) await this.#free('port', p.nodePort, owner);
    if (old.spec?.healthCheckNodePort) await this.#free('port', old.spec.healthCheckNodePort, owner);
  }

  /**
   * repair is upstream's repair loop for ClusterIPs and NodePorts: every value a Service holds gets its IPAddress
   * or port key back (a crash between the two writes, or a user deleting an IPAddress), and every IPAddress or port
   * key that no Service holds for longer than a minute is removed. Returns what it did, for logs and tests.
   */
  async repair(services: KubeObject[]): Promise<{ created: number; removed: number }> {
    let created = 0;
    let removed = 0;
    const heldIps = new Map<number, Owner>();
    const heldPorts = new Map<number, Owner>();
    for (const svc of services.map(asService)) {
      const owner = ownerOf(svc);
      const ip = ServiceAllocations.ipNumber(svc.spec?.clusterIP ?? '');
      if (ip !== undefined && this.ranges.ips.contains(ip)) heldIps.set(ip, owner);
      for (const p of svc.spec?.ports ?? [])
        if (p.nodePort && this.ranges.ports.contains(p.nodePort)) heldPorts.set(p.nodePort, owner);
      if (svc.spec?.healthCheckNodePort && this.ranges.ports.contains(svc.spec.healthCheckNodePort))
        heldPorts.set(svc.spec.healthCheckNodePort, owner);
    }
    const sweep = async (kind: 'ip' | 'port', prefix: string, held: Map<number, Owner>) => {
      const { items } = await this.#store.list(prefix);
      const present = new Set<number>();
      for (const item of items) {
        const value =
          kind === 'ip'
            ? ServiceAllocations.ipNumber(item.key.slice(prefix.length))
            : Number(item.key.slice(prefix.length));
        if (value === undefined || Number.isNaN(value)) continue;
        present.add(value);
        const owner = held.get(value);
        if (owner && sameOwner(kind, item.value, owner)) continue;
        if (owner) continue; // held by a Service under another owner record: leave it, never free what is in use
        if (Date.now() - createdAt(kind, item.value) < ORPHAN_GRACE_MS) continue;
        try {
          await this.#store.delete(item.key, item.modRevision);
          removed++;
          this.#log?.info('Removed an allocation no Service holds', { key: item.key });
        } catch (error) {
          if (!(error instanceof KeyNotFoundError) && !(error instanceof RevisionConflictError)) throw error;
        }
      }
      for (const [value, owner] of held) {
        if (present.has(value)) continue;
        if (await this.#take(kind, value, owner, false)) {
          created++;
          this.#log?.info('Recreated the allocation of a Service', {
            kind,
            value: kind === 'ip' ? formatIPv4(value) : value,
            service: `${owner.namespace}/${owner.name}`,
          });
        }
      }
    };
    await sweep('ip', IPADDRESS_PREFIX, heldIps);
    await sweep('port', NODEPORT_PREFIX, heldPorts);
    await this.resync();
    return { created, removed };
  }
}

/** parseStored reads an allocation's stored JSON; undefined when it is not JSON (never written by us). */
function parseStored(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** sameOwner: the IPAddress's parentRef, or the port key's record, names this Service. */
function sameOwner(kind: 'ip' | 'port', value: string, owner: Owner): boolean {
  const parsed = parseStored(value);
  const ref = kind === 'ip' ? getOwn(getOwn(parsed, 'spec'), 'parentRef') : parsed;
  return getOwn(ref, 'namespace') === owner.namespace && getOwn(ref, 'name') === owner.name;
}

function createdAt(kind: 'ip' | 'port', value: string): number {
  const parsed = parseStored(value);
  const stamp =
    kind === 'ip' ? getOwn(getOwn(parsed, 'metadata'), 'creationTimestamp') : getOwn(parsed, 'creationTimestamp');
  const t = typeof stamp === 'string' ? Date.parse(stamp) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}

function needsNodePorts(spec: Decoded<ServiceSpec>): boolean {
  return spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}
