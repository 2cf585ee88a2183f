import { formatIPv4 } from '../net/ipv4.ts';
import { invalid, type StatusCause } from '../api/status.ts';
import { ServiceAllocations } from './service-allocations.ts';

const SERVICE_KIND = { group: '', kind: 'Service' };

/**
 * ServiceIps gives Services their ClusterIP and NodePorts from the API server's ranges, honours requested values
 * when free and in range (422 otherwise), keeps them across updates, and releases them when a Service goes.
 * The allocation state is rebuilt from the stored Services at start.
 */
export class ServiceIps {
  readonly ranges: ServiceAllocations;

  constructor(serviceClusterIpRange: string, nodePortRange: string) {
    this.ranges = new ServiceAllocations(serviceClusterIpRange, nodePortRange);
  }

  /** rebuild marks what stored Services hold. */
  rebuild(services: any[]): void {
    for (const svc of services) {
      const ip = ServiceAllocations.ipNumber(svc.spec?.clusterIP ?? '');
      if (ip !== undefined) this.ranges.ips.allocate(ip);
      for (const p of svc.spec?.ports ?? []) if (p.nodePort) this.ranges.ports.allocate(p.nodePort);
      if (svc.spec?.healthCheckNodePort) this.ranges.ports.allocate(svc.spec.healthCheckNodePort);
    }
  }

  /** carryOver keeps the allocated ClusterIP and NodePorts when an update leaves them out (as upstream does). */
  carryOver(object: any, old: any): void {
    const spec = (object.spec ??= {});
    if (spec.type === 'ExternalName') return;
    if (!spec.clusterIP && old.spec?.clusterIP) spec.clusterIP = old.spec.clusterIP;
    if (!spec.clusterIPs?.length && old.spec?.clusterIPs) spec.clusterIPs = old.spec.clusterIPs;
    if (needsNodePorts(spec)) {
      for (const p of spec.ports ?? []) {
        if (p.nodePort) continue;
        const previous = (old.spec?.ports ?? []).find((o: any) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
        if (previous?.nodePort) p.nodePort = previous.nodePort;
      }
    }
  }

  /**
   * allocate gives object what it needs beyond what old already holds; it returns a function that undoes exactly
   * this allocation (for a failed write or a dry run) and throws 422 Invalid when a requested value is unavailable.
   */
  allocate(object: any, old: any | undefined, dryRun: boolean): () => void {
    const spec = (object.spec ??= {});
    const taken: { ips: number[]; ports: number[] } = { ips: [], ports: [] };
    const undo = () => {
      for (const ip of taken.ips) this.ranges.ips.release(ip);
      for (const port of taken.ports) this.ranges.ports.release(port);
    };
    const causes: StatusCause[] = [];
    try {
      if (spec.type !== 'ExternalName' && spec.clusterIP !== 'None' && (!spec.clusterIP || spec.clusterIP !== old?.spec?.clusterIP)) {
        if (spec.clusterIP) {
          const ip = ServiceAllocations.ipNumber(spec.clusterIP);
          if (ip === undefined || !this.ranges.ips.contains(ip)) {
            causes.push({ reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string{"${spec.clusterIP}"}: failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${this.ranges.serviceCidrText}` });
          } else if (!this.ranges.ips.allocate(ip)) {
            causes.push({ reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string{"${spec.clusterIP}"}: failed to allocate IP ${spec.clusterIP}: provided IP is already allocated` });
          } else {
            taken.ips.push(ip);
          }
        } else {
          const ip = this.ranges.ips.allocateNext();
          if (ip === undefined) {
            causes.push({ reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string(nil): failed to allocate a serviceIP: range is full` });
          } else {
            taken.ips.push(ip);
            spec.clusterIP = formatIPv4(ip);
          }
        }
      }
      if (spec.type !== 'ExternalName' && spec.clusterIP) spec.clusterIPs = [spec.clusterIP];
      const oldPorts = new Set<number>((old?.spec?.ports ?? []).map((p: any) => p.nodePort).filter(Boolean));
      if (needsNodePorts(spec)) {
        (spec.ports ?? []).forEach((p: any, i: number) => {
          if (p.nodePort && oldPorts.has(p.nodePort)) return;
          if (p.nodePort) {
            if (!this.ranges.ports.contains(p.nodePort)) {
              causes.push({ reason: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${this.ranges.nodePortRangeText}` });
            } else if (!this.ranges.ports.allocate(p.nodePort)) {
              causes.push({ reason: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is already allocated` });
            } else {
              taken.ports.push(p.nodePort);
            }
          } else {
            const port = this.ranges.ports.allocateNext();
            if (port === undefined) causes.push({ reason: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: 'Invalid value: 0: range is full' });
            else {
              taken.ports.push(port);
              p.nodePort = port;
            }
          }
        });
      } else {
        for (const p of spec.ports ?? []) delete p.nodePort;
      }
      // A LoadBalancer with externalTrafficPolicy Local gets a health check node port, as upstream allocates one.
      if (spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' && !spec.healthCheckNodePort) {
        const port = old?.spec?.healthCheckNodePort ?? this.ranges.ports.allocateNext();
        if (port === undefined) causes.push({ reason: 'FieldValueInvalid', field: 'spec.healthCheckNodePort', message: 'Invalid value: 0: range is full' });
        else {
          if (port !== old?.spec?.healthCheckNodePort) taken.ports.push(port);
          spec.healthCheckNodePort = port;
        }
      }
      if (causes.length) throw invalid(SERVICE_KIND, object.metadata?.name ?? '', causes);
    } catch (error) {
      undo();
      throw error;
    }
    return undo;
  }

  /** releaseRemoved frees what old held and object no longer does (after a successful update). */
  releaseRemoved(object: any, old: any): void {
    const keep = new Set<number>((object.spec?.ports ?? []).map((p: any) => p.nodePort).filter(Boolean));
    for (const p of old.spec?.ports ?? []) if (p.nodePort && !keep.has(p.nodePort)) this.ranges.ports.release(p.nodePort);
    if (old.spec?.clusterIP && old.spec.clusterIP !== object.spec?.clusterIP) {
      const ip = ServiceAllocations.ipNumber(old.spec.clusterIP);
      if (ip !== undefined) this.ranges.ips.release(ip);
    }
  }

  /** release frees everything a deleted Service held. */
  release(old: any): void {
    const ip = ServiceAllocations.ipNumber(old.spec?.clusterIP ?? '');
    if (ip !== undefined) this.ranges.ips.release(ip);
    for (const p of old.spec?.ports ?? []) if (p.nodePort) this.ranges.ports.release(p.nodePort);
    if (old.spec?.healthCheckNodePort) this.ranges.ports.release(old.spec.healthCheckNodePort);
  }
}

function needsNodePorts(spec: any): boolean {
  return spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}
