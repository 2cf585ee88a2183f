/**
 * The Services and EndpointSlices of upstream's TestOverallIPTablesRules / TestOverallNFTablesRules
 * (pkg/proxy/{iptables,nftables}/proxier_test.go), as objects, for the golden and packet-flow tests of both
 * renderers. Conventions (upstream's): pod IPs 10.0.0.0/8, ClusterIPs 172.30.0.0/16, node "test-node" with IP
 * 192.168.0.2, external IPs 192.168.99.0/24, LoadBalancer IPs 1.2.3.4 and 5.6.7.8, LB source range 203.0.113.0/25.
 */
import type { Service, ServicePort, ServiceSpec, ServiceStatus } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { RenderInput } from '../render-iptables.ts';
import type { NftRenderInput } from '../render-nftables.ts';
import { buildServicePorts, type ServicePort as ModelPort } from '../service-ports.ts';

/** Fixture is a test object whose metadata always has its name and namespace. */
export type Fixture<T extends { metadata?: ObjectMeta }> = T & {
  metadata: ObjectMeta & { name: string; namespace: string };
};

export const TEST_NODE = 'test-node';
export const TEST_NODE_IP = '192.168.0.2';

function service(ns: string, name: string, spec: Partial<ServiceSpec>, status?: ServiceStatus): Fixture<Service> {
  return {
    kind: 'Service',
    metadata: { namespace: ns, name },
    spec: { type: 'ClusterIP', ...spec },
    ...(status ? { status } : {}),
  };
}

function slice(ns: string, name: string, endpoints: { ip: string; node?: string }[]): Fixture<EndpointSlice> {
  return {
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], ...(e.node ? { nodeName: e.node } : {}) })),
    ports: [{ name: 'p80', port: 80, protocol: 'TCP' }],
  };
}

const p80 = (extra: Partial<ServicePort> = {}): ServicePort[] => [{ name: 'p80', port: 80, protocol: 'TCP', ...extra }];

/** overallServices: ClusterIP, eTP=Local LB, NodePort, externalIP, LB with source ranges and affinity, no endpoints. */
export function overallServices(): Fixture<Service>[] {
  return [
    service('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: p80() }),
    service(
      'ns2',
      'svc2',
      {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        clusterIP: '172.30.0.42',
        ports: p80({ nodePort: 3001 }),
        externalIPs: ['192.168.99.22'],
        healthCheckNodePort: 30000,
      },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    ),
    service('ns3', 'svc3', { type: 'NodePort', clusterIP: '172.30.0.43', ports: p80({ nodePort: 3003 }) }),
    service('ns4', 'svc4', {
      type: 'NodePort',
      clusterIP: '172.30.0.44',
      externalIPs: ['192.168.99.33'],
      ports: p80({ targetPort: 80 }),
    }),
    service(
      'ns5',
      'svc5',
      {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Cluster',
        clusterIP: '172.30.0.45',
        ports: p80({ nodePort: 3002 }),
        healthCheckNodePort: 30000,
        loadBalancerSourceRanges: [' 203.0.113.0/25'],
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
      },
      { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } },
    ),
    service('ns6', 'svc6', { clusterIP: '172.30.0.46', ports: p80({ targetPort: 80 }) }),
  ];
}

/** overallEndpointSlices: svc2's only endpoint is on another node; svc4 has one local and one remote endpoint. */
export function overallEndpointSlices(): Fixture<EndpointSlice>[] {
  return [
    slice('ns1', 'svc1', [{ ip: '10.180.0.1' }]),
    slice('ns2', 'svc2', [{ ip: '10.180.0.2' }]),
    slice('ns3', 'svc3', [{ ip: '10.180.0.3' }]),
    slice('ns4', 'svc4', [{ ip: '10.180.0.4' }, { ip: '10.180.0.5', node: TEST_NODE }]),
    slice('ns5', 'svc5', [{ ip: '10.180.0.3' }]),
  ];
}

/** IPTABLES_TEST_CONFIG: the proxy settings most iptables tests render with (pod CIDR 10.0.0.0/8, upstream's mark bit). */
export const IPTABLES_TEST_CONFIG: Omit<RenderInput, 'servicePorts'> = {
  clusterCIDR: '10.0.0.0/8',
  masqueradeAll: false,
  masqueradeBit: 14,
  localhostNodePorts: true,
  nodePortAddresses: [],
  nodeIPs: [],
};

/** NFTABLES_TEST_CONFIG: the same settings for nftables mode (which has no localhost NodePorts). */
export const NFTABLES_TEST_CONFIG: Omit<NftRenderInput, 'servicePorts'> = {
  clusterCIDR: '10.0.0.0/8',
  masqueradeAll: false,
  masqueradeBit: 14,
  nodePortAddresses: [],
  nodeIPs: [],
};

/** overallServicePorts is the proxy's model of the overall fixture, as seen from TEST_NODE. */
export function overallServicePorts(services = overallServices()): ModelPort[] {
  return buildServicePorts({ services, endpointSlices: overallEndpointSlices(), nodeName: TEST_NODE });
}
