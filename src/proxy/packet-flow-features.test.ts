/**
 * Packet-flow tests of every proxy feature, in iptables mode and in nftables mode (both layouts): each scenario
 * renders a few Services with the real renderers, then follows new connections through the rules with the tracer
 * (`tskube trace`'s) and checks where each one lands: which endpoints and with what share, DROP, REJECT, or ACCEPT
 * (no service rule took it), and whether it is masqueraded. No rule text is compared.
 *
 * Features covered (scenario names below):
 * - ClusterIP with one endpoint, with three (a third each), several ports, named target ports resolved per endpoint
 * - no endpoints: REJECT on the ClusterIP, the NodePort, external IPs and LoadBalancer IPs
 * - NodePort on the node IP, from outside, a pod and the node; on 127.0.0.1 (iptables; nftables does not, as
 *   upstream); nodePortAddresses limiting the addresses; --iptables-localhost-nodeports=false; with nfacct
 *   counters, without --random-fully, with liberal conntrack (iptables)
 * - externalIPs; LoadBalancer ingress IPs (ipMode Proxy ignored); loadBalancerSourceRanges (allowed, blocked,
 *   pods blocked too, the NodePort not filtered)
 * - sessionAffinity ClientIP (spread without affinity, pinned with it)
 * - externalTrafficPolicy Local: local endpoints only and the client address kept, short-circuit of pod and node
 *   traffic to all endpoints, DROP without local endpoints, health check node port traffic left alone
 * - internalTrafficPolicy Local: local endpoints only, DROP without; with a Cluster external policy; both Local
 * - terminating endpoints: serving terminating ones only when none is ready (cluster-wide, and per node for Local)
 * - masquerade: masqueradeAll, clusterCIDR (off-cluster sources and the node masqueraded, pods not), no clusterCIDR
 * - hairpin: an endpoint reaching itself through its Service is masqueraded (and only that one)
 * - UDP and SCTP services (and TCP to an SCTP port not taken)
 * - headless, ExternalName and service-proxy-name Services produce nothing
 * - nftables only: unused ports of a ClusterIP rejected, unallocated ClusterIPs in the service CIDRs dropped;
 *   iptables only: packets from outside to 127.0.0.0/8 dropped (localnet guard)
 *
 * Conventions: pod CIDR 10.0.0.0/8 (client pod 10.0.0.2, endpoints 10.1.N.x), ClusterIPs 172.30.1.N, this node
 * node-a at 192.168.0.2 (another node: node-b), external clients 203.0.113.2 (inside the LB source range
 * 203.0.113.0/25) and 203.0.113.130 (outside it), external IPs 192.168.99.N, LB IPs 1.2.3.N.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service, ServicePort as ServicePortSpec, ServiceSpec, ServiceStatus } from 'kubernetes-types/core/v1.js';
import type { EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import {
  INVALID_DROPPED_COUNTER,
  LOCALHOST_NODEPORTS_COUNTER,
  renderIptables,
  type RenderInput,
} from './render-iptables.ts';
import { type NftLayout, nftScript, renderNftables } from './render-nftables.ts';
import { buildServicePorts } from './service-ports.ts';
import { summarize, type TracePacket } from './trace.ts';
import { traceIptables } from './trace-iptables.ts';
import { traceNftables } from './trace-nftables.ts';

const NODE = 'node-a';
const NODE_IP = '192.168.0.2';
const OTHER_NODE = 'node-b';
const POD = '10.0.0.2';
const EXTERNAL = '203.0.113.2';
const BLOCKED = '203.0.113.130';

type Mode = 'iptables' | 'nftables';

interface Flow {
  name: string;
  from: string;
  /** `ip:port`, with `/udp` or `/sctp` for those. */
  to: string;
  fromNode?: boolean;
  /** The source already has ClientIP affinity to this endpoint. */
  affinity?: string;
  /**
   * Where the connection goes: endpoints (`ip:port`, an equal share each) or DROP / REJECT / ACCEPT, each followed
   * by ` masq` when it is masqueraded. Per mode where the modes differ (as upstream's do).
   */
  expect: string[] | Record<Mode, string[]>;
}

interface Scenario {
  feature: string;
  services: Service[];
  slices: EndpointSlice[];
  /** Renderer options besides the defaults (clusterCIDR 10.0.0.0/8, every local address takes NodePorts). */
  options?: Partial<Omit<RenderInput, 'servicePorts'>> & { serviceCIDRs?: string[] };
  /** The node's addresses as the tracer sees them (default: the node IP). */
  localIPs?: string[];
  /** Only in this mode (the feature does not exist in the other). */
  only?: Mode;
  flows: Flow[];
}

function service(name: string, spec: Partial<ServiceSpec>, status?: ServiceStatus, labels?: Record<string, string>) {
  return {
    kind: 'Service',
    metadata: { namespace: 'pf', name, ...(labels ? { labels } : {}) },
    spec: { type: 'ClusterIP', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }], ...spec },
    ...(status ? { status } : {}),
  } satisfies Service;
}

interface EndpointSpec {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

function slice(
  name: string,
  endpoints: EndpointSpec[],
  ports: EndpointPort[] = [{ name: 'p80', port: 80, protocol: 'TCP' }],
  sliceName = `${name}-1`,
) {
  return {
    kind: 'EndpointSlice',
    metadata: { namespace: 'pf', name: sliceName, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      nodeName: e.node ?? OTHER_NODE,
      conditions: { ready: e.ready ?? true, serving: e.serving, terminating: e.terminating },
    })),
    ports,
  } satisfies EndpointSlice;
}

/** The NodePort Service of the NodePort scenarios: np, 172.30.1.6:80, NodePort 30006. */
const nodePortService = () =>
  service('np', {
    type: 'NodePort',
    clusterIP: '172.30.1.6',
    ports: [port({ name: 'p80', port: 80, nodePort: 30006 })],
  });
const port = (p: Partial<ServicePortSpec> & { port: number }): ServicePortSpec => ({ protocol: 'TCP', ...p });
const local = (ip: string, extra: Partial<EndpointSpec> = {}): EndpointSpec => ({ ip, node: NODE, ...extra });

const SCENARIOS: Scenario[] = [
  {
    feature: 'ClusterIP',
    services: [
      service('one', { clusterIP: '172.30.1.1' }),
      service('three', { clusterIP: '172.30.1.2' }),
      service('multi', {
        clusterIP: '172.30.1.3',
        ports: [
          port({ name: 'http', port: 80, targetPort: 8080 }),
          port({ name: 'https', port: 443, targetPort: 8443 }),
        ],
      }),
      service('named', { clusterIP: '172.30.1.4', ports: [port({ name: 'http', port: 80, targetPort: 'web' })] }),
    ],
    slices: [
      slice('one', [{ ip: '10.1.1.1' }]),
      slice('three', [{ ip: '10.1.2.1' }, local('10.1.2.2'), { ip: '10.1.2.3' }]),
      slice(
        'multi',
        [{ ip: '10.1.3.1' }, { ip: '10.1.3.2' }],
        [
          { name: 'http', port: 8080, protocol: 'TCP' },
          { name: 'https', port: 8443, protocol: 'TCP' },
        ],
      ),
      // A named target port is resolved per pod: two slices, two port numbers.
      slice('named', [{ ip: '10.1.4.1' }], [{ name: 'http', port: 8080, protocol: 'TCP' }], 'named-a'),
      slice('named', [{ ip: '10.1.4.2' }], [{ name: 'http', port: 9090, protocol: 'TCP' }], 'named-b'),
    ],
    flows: [
      { name: 'one endpoint', from: POD, to: '172.30.1.1:80', expect: ['10.1.1.1:80'] },
      {
        name: 'three endpoints, a third each',
        from: POD,
        to: '172.30.1.2:80',
        expect: ['10.1.2.1:80', '10.1.2.2:80', '10.1.2.3:80'],
      },
      { name: 'first of several ports', from: POD, to: '172.30.1.3:80', expect: ['10.1.3.1:8080', '10.1.3.2:8080'] },
      { name: 'second of several ports', from: POD, to: '172.30.1.3:443', expect: ['10.1.3.1:8443', '10.1.3.2:8443'] },
      {
        name: 'a port the Service does not have',
        from: POD,
        to: '172.30.1.3:8080',
        expect: { iptables: ['ACCEPT'], nftables: ['REJECT'] },
      },
      { name: 'named target port', from: POD, to: '172.30.1.4:80', expect: ['10.1.4.1:8080', '10.1.4.2:9090'] },
    ],
  },
  {
    feature: 'no endpoints',
    services: [
      service(
        'empty',
        {
          type: 'LoadBalancer',
          clusterIP: '172.30.1.5',
          externalIPs: ['192.168.99.5'],
          ports: [port({ name: 'p80', port: 80, nodePort: 30005 })],
        },
        { loadBalancer: { ingress: [{ ip: '1.2.3.5' }] } },
      ),
    ],
    slices: [slice('empty', [])],
    flows: [
      { name: 'ClusterIP rejected', from: POD, to: '172.30.1.5:80', expect: ['REJECT'] },
      { name: 'NodePort rejected', from: EXTERNAL, to: `${NODE_IP}:30005`, expect: ['REJECT'] },
      { name: 'external IP rejected', from: EXTERNAL, to: '192.168.99.5:80', expect: ['REJECT'] },
      { name: 'LB IP rejected', from: EXTERNAL, to: '1.2.3.5:80', expect: ['REJECT'] },
    ],
  },
  {
    feature: 'NodePort',
    services: [nodePortService()],
    slices: [slice('np', [{ ip: '10.1.6.1' }, local('10.1.6.2')])],
    localIPs: [NODE_IP, '10.9.9.9'],
    flows: [
      {
        name: 'from outside, masqueraded',
        from: EXTERNAL,
        to: `${NODE_IP}:30006`,
        expect: ['10.1.6.1:80 masq', '10.1.6.2:80 masq'],
      },
      { name: 'from a pod', from: POD, to: `${NODE_IP}:30006`, expect: ['10.1.6.1:80 masq', '10.1.6.2:80 masq'] },
      {
        name: 'on another local address',
        from: EXTERNAL,
        to: '10.9.9.9:30006',
        expect: ['10.1.6.1:80 masq', '10.1.6.2:80 masq'],
      },
      {
        name: 'from the node itself',
        from: NODE_IP,
        fromNode: true,
        to: `${NODE_IP}:30006`,
        expect: ['10.1.6.1:80 masq', '10.1.6.2:80 masq'],
      },
      {
        name: 'on localhost (not in nftables mode, as upstream)',
        from: '127.0.0.1',
        fromNode: true,
        to: '127.0.0.1:30006',
        expect: { iptables: ['10.1.6.1:80 masq', '10.1.6.2:80 masq'], nftables: ['ACCEPT'] },
      },
      { name: 'another port of the node', from: EXTERNAL, to: `${NODE_IP}:30007`, expect: ['ACCEPT'] },
      { name: 'the ClusterIP still works', from: POD, to: '172.30.1.6:80', expect: ['10.1.6.1:80', '10.1.6.2:80'] },
    ],
  },
  {
    feature: 'NodePort limited by nodePortAddresses',
    services: [nodePortService()],
    slices: [slice('np', [{ ip: '10.1.6.1' }])],
    options: { nodePortAddresses: ['192.168.0.0/24'], nodeIPs: [NODE_IP] },
    localIPs: [NODE_IP, '10.9.9.9'],
    flows: [
      { name: 'on a NodePort address', from: EXTERNAL, to: `${NODE_IP}:30006`, expect: ['10.1.6.1:80 masq'] },
      { name: 'on another local address', from: EXTERNAL, to: '10.9.9.9:30006', expect: ['ACCEPT'] },
    ],
  },
  {
    feature: 'NodePort without localhost NodePorts',
    only: 'iptables',
    services: [nodePortService()],
    slices: [slice('np', [{ ip: '10.1.6.1' }])],
    options: { localhostNodePorts: false },
    flows: [
      { name: 'on the node IP', from: EXTERNAL, to: `${NODE_IP}:30006`, expect: ['10.1.6.1:80 masq'] },
      { name: 'on localhost', from: '127.0.0.1', fromNode: true, to: '127.0.0.1:30006', expect: ['ACCEPT'] },
    ],
  },
  {
    feature: 'iptables options: nfacct counters, no --random-fully, liberal conntrack',
    only: 'iptables',
    services: [nodePortService()],
    slices: [slice('np', [{ ip: '10.1.6.1' }])],
    options: {
      nfacctCounters: [LOCALHOST_NODEPORTS_COUNTER, INVALID_DROPPED_COUNTER],
      randomFully: false,
      conntrackTCPLiberal: true,
    },
    flows: [
      {
        name: 'counted localhost NodePort',
        from: '127.0.0.1',
        fromNode: true,
        to: '127.0.0.1:30006',
        expect: ['10.1.6.1:80 masq'],
      },
      { name: 'NodePort on the node IP', from: EXTERNAL, to: `${NODE_IP}:30006`, expect: ['10.1.6.1:80 masq'] },
      { name: 'ClusterIP from outside', from: EXTERNAL, to: '172.30.1.6:80', expect: ['10.1.6.1:80 masq'] },
    ],
  },
  {
    feature: 'localnet guard',
    only: 'iptables',
    services: [],
    slices: [],
    flows: [
      { name: 'from outside to 127.0.0.1 is dropped', from: EXTERNAL, to: '127.0.0.1:8080', expect: ['DROP'] },
      {
        name: 'from the node to 127.0.0.1 is left alone',
        from: '127.0.0.1',
        fromNode: true,
        to: '127.0.0.1:8080',
        expect: ['ACCEPT'],
      },
    ],
  },
  {
    feature: 'externalIPs and LoadBalancer IPs',
    services: [
      service('eip', { clusterIP: '172.30.1.7', externalIPs: ['192.168.99.7'] }),
      service(
        'lb',
        { type: 'LoadBalancer', clusterIP: '172.30.1.8', ports: [port({ name: 'p80', port: 80, nodePort: 30008 })] },
        { loadBalancer: { ingress: [{ ip: '1.2.3.8' }, { ip: '1.2.3.9', ipMode: 'Proxy' }] } },
      ),
    ],
    slices: [slice('eip', [{ ip: '10.1.7.1' }]), slice('lb', [{ ip: '10.1.8.1' }, local('10.1.8.2')])],
    flows: [
      { name: 'external IP from outside', from: EXTERNAL, to: '192.168.99.7:80', expect: ['10.1.7.1:80 masq'] },
      { name: 'external IP from a pod', from: POD, to: '192.168.99.7:80', expect: ['10.1.7.1:80 masq'] },
      { name: 'external IP, another port', from: EXTERNAL, to: '192.168.99.7:81', expect: ['ACCEPT'] },
      {
        name: 'LB IP from outside',
        from: EXTERNAL,
        to: '1.2.3.8:80',
        expect: ['10.1.8.1:80 masq', '10.1.8.2:80 masq'],
      },
      { name: 'LB IP from a pod', from: POD, to: '1.2.3.8:80', expect: ['10.1.8.1:80 masq', '10.1.8.2:80 masq'] },
      { name: 'LB IP with ipMode Proxy is not programmed', from: EXTERNAL, to: '1.2.3.9:80', expect: ['ACCEPT'] },
      {
        name: "the LB's NodePort",
        from: EXTERNAL,
        to: `${NODE_IP}:30008`,
        expect: ['10.1.8.1:80 masq', '10.1.8.2:80 masq'],
      },
    ],
  },
  {
    feature: 'loadBalancerSourceRanges',
    services: [
      service(
        'lbsr',
        {
          type: 'LoadBalancer',
          clusterIP: '172.30.1.9',
          ports: [port({ name: 'p80', port: 80, nodePort: 30009 })],
          loadBalancerSourceRanges: ['203.0.113.0/25'],
        },
        { loadBalancer: { ingress: [{ ip: '1.2.3.10' }] } },
      ),
      service(
        'lbsr-local',
        {
          type: 'LoadBalancer',
          clusterIP: '172.30.1.26',
          externalTrafficPolicy: 'Local',
          healthCheckNodePort: 32026,
          ports: [port({ name: 'p80', port: 80, nodePort: 30026 })],
          loadBalancerSourceRanges: ['203.0.113.0/25'],
        },
        { loadBalancer: { ingress: [{ ip: '1.2.3.26' }] } },
      ),
    ],
    slices: [slice('lbsr', [{ ip: '10.1.9.1' }]), slice('lbsr-local', [local('10.1.26.1'), { ip: '10.1.26.2' }])],
    flows: [
      { name: 'allowed source', from: EXTERNAL, to: '1.2.3.10:80', expect: ['10.1.9.1:80 masq'] },
      { name: 'blocked source', from: BLOCKED, to: '1.2.3.10:80', expect: ['DROP'] },
      { name: 'pods are not in the range either', from: POD, to: '1.2.3.10:80', expect: ['DROP'] },
      { name: 'the NodePort is not filtered', from: BLOCKED, to: `${NODE_IP}:30009`, expect: ['10.1.9.1:80 masq'] },
      { name: 'the ClusterIP is not filtered', from: POD, to: '172.30.1.9:80', expect: ['10.1.9.1:80'] },
      {
        name: 'with eTP Local: allowed source, local endpoint',
        from: EXTERNAL,
        to: '1.2.3.26:80',
        expect: ['10.1.26.1:80'],
      },
      { name: 'with eTP Local: blocked source', from: BLOCKED, to: '1.2.3.26:80', expect: ['DROP'] },
    ],
  },
  {
    feature: 'sessionAffinity ClientIP',
    services: [
      service('sticky', {
        clusterIP: '172.30.1.10',
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
      }),
    ],
    slices: [slice('sticky', [{ ip: '10.1.10.1' }, { ip: '10.1.10.2' }])],
    flows: [
      { name: 'a new client is spread', from: POD, to: '172.30.1.10:80', expect: ['10.1.10.1:80', '10.1.10.2:80'] },
      {
        name: 'a known client keeps its endpoint',
        from: POD,
        to: '172.30.1.10:80',
        affinity: '10.1.10.2:80',
        expect: ['10.1.10.2:80'],
      },
      {
        name: 'a known client of the other endpoint',
        from: POD,
        to: '172.30.1.10:80',
        affinity: '10.1.10.1:80',
        expect: ['10.1.10.1:80'],
      },
    ],
  },
  {
    feature: 'externalTrafficPolicy Local',
    services: [
      service(
        'etp',
        {
          type: 'LoadBalancer',
          clusterIP: '172.30.1.11',
          externalIPs: ['192.168.99.11'],
          externalTrafficPolicy: 'Local',
          healthCheckNodePort: 32011,
          ports: [port({ name: 'p80', port: 80, nodePort: 30011 })],
        },
        { loadBalancer: { ingress: [{ ip: '1.2.3.11' }] } },
      ),
      service(
        'etp-none',
        {
          type: 'LoadBalancer',
          clusterIP: '172.30.1.12',
          externalIPs: ['192.168.99.12'],
          externalTrafficPolicy: 'Local',
          healthCheckNodePort: 32012,
          ports: [port({ name: 'p80', port: 80, nodePort: 30012 })],
        },
        { loadBalancer: { ingress: [{ ip: '1.2.3.12' }] } },
      ),
    ],
    slices: [
      slice('etp', [local('10.1.11.1'), { ip: '10.1.11.2' }]),
      slice('etp-none', [{ ip: '10.1.12.1' }, { ip: '10.1.12.2' }]),
    ],
    flows: [
      {
        name: 'NodePort: local endpoint, client kept',
        from: EXTERNAL,
        to: `${NODE_IP}:30011`,
        expect: ['10.1.11.1:80'],
      },
      { name: 'LB IP: local endpoint, client kept', from: EXTERNAL, to: '1.2.3.11:80', expect: ['10.1.11.1:80'] },
      { name: 'external IP: local endpoint', from: EXTERNAL, to: '192.168.99.11:80', expect: ['10.1.11.1:80'] },
      {
        name: 'a pod to the LB IP is short-circuited to all endpoints',
        from: POD,
        to: '1.2.3.11:80',
        expect: ['10.1.11.1:80', '10.1.11.2:80'],
      },
      {
        name: 'the node to its NodePort: all endpoints, masqueraded',
        from: NODE_IP,
        fromNode: true,
        to: `${NODE_IP}:30011`,
        expect: ['10.1.11.1:80 masq', '10.1.11.2:80 masq'],
      },
      {
        name: 'ClusterIP uses all endpoints',
        from: POD,
        to: '172.30.1.11:80',
        expect: ['10.1.11.1:80', '10.1.11.2:80'],
      },
      { name: 'health check node port left alone', from: EXTERNAL, to: `${NODE_IP}:32011`, expect: ['ACCEPT'] },
      { name: 'no local endpoint: NodePort dropped', from: EXTERNAL, to: `${NODE_IP}:30012`, expect: ['DROP'] },
      { name: 'no local endpoint: LB IP dropped', from: EXTERNAL, to: '1.2.3.12:80', expect: ['DROP'] },
      { name: 'no local endpoint: external IP dropped', from: EXTERNAL, to: '192.168.99.12:80', expect: ['DROP'] },
      {
        name: 'no local endpoint: a pod to the LB IP still gets through',
        from: POD,
        to: '1.2.3.12:80',
        expect: ['10.1.12.1:80', '10.1.12.2:80'],
      },
      {
        name: 'no local endpoint: the ClusterIP still works',
        from: POD,
        to: '172.30.1.12:80',
        expect: ['10.1.12.1:80', '10.1.12.2:80'],
      },
      {
        name: 'no local endpoint: health check node port left alone',
        from: EXTERNAL,
        to: `${NODE_IP}:32012`,
        expect: ['ACCEPT'],
      },
    ],
  },
  {
    feature: 'internalTrafficPolicy Local',
    services: [
      service('itp', { clusterIP: '172.30.1.13', internalTrafficPolicy: 'Local' }),
      service('itp-none', { clusterIP: '172.30.1.14', internalTrafficPolicy: 'Local' }),
      service('itp-np', {
        type: 'NodePort',
        clusterIP: '172.30.1.15',
        internalTrafficPolicy: 'Local',
        ports: [port({ name: 'p80', port: 80, nodePort: 30015 })],
      }),
      service('both-local', {
        type: 'NodePort',
        clusterIP: '172.30.1.25',
        internalTrafficPolicy: 'Local',
        externalTrafficPolicy: 'Local',
        ports: [port({ name: 'p80', port: 80, nodePort: 30025 })],
      }),
    ],
    slices: [
      slice('itp', [local('10.1.13.1'), { ip: '10.1.13.2' }]),
      slice('itp-none', [{ ip: '10.1.14.1' }]),
      slice('itp-np', [local('10.1.15.1'), { ip: '10.1.15.2' }]),
      slice('both-local', [local('10.1.25.1'), { ip: '10.1.25.2' }]),
    ],
    flows: [
      { name: 'ClusterIP: local endpoint only', from: POD, to: '172.30.1.13:80', expect: ['10.1.13.1:80'] },
      { name: 'ClusterIP without local endpoint dropped', from: POD, to: '172.30.1.14:80', expect: ['DROP'] },
      { name: 'with a Cluster external policy: ClusterIP', from: POD, to: '172.30.1.15:80', expect: ['10.1.15.1:80'] },
      {
        name: 'with a Cluster external policy: NodePort uses all',
        from: EXTERNAL,
        to: `${NODE_IP}:30015`,
        expect: ['10.1.15.1:80 masq', '10.1.15.2:80 masq'],
      },
      { name: 'both Local: ClusterIP', from: POD, to: '172.30.1.25:80', expect: ['10.1.25.1:80'] },
      { name: 'both Local: NodePort from outside', from: EXTERNAL, to: `${NODE_IP}:30025`, expect: ['10.1.25.1:80'] },
      { name: 'both Local: NodePort from a pod', from: POD, to: `${NODE_IP}:30025`, expect: ['10.1.25.1:80'] },
      {
        name: 'both Local: NodePort from the node',
        from: NODE_IP,
        fromNode: true,
        to: `${NODE_IP}:30025`,
        expect: ['10.1.25.1:80 masq'],
      },
    ],
  },
  {
    feature: 'terminating endpoints',
    services: [
      service('term-ready', { clusterIP: '172.30.1.16' }),
      service('term-only', { clusterIP: '172.30.1.17' }),
      service('term-dead', { clusterIP: '172.30.1.18' }),
      service('term-local', {
        type: 'NodePort',
        clusterIP: '172.30.1.19',
        externalTrafficPolicy: 'Local',
        ports: [port({ name: 'p80', port: 80, nodePort: 30019 })],
      }),
    ],
    slices: [
      slice('term-ready', [{ ip: '10.1.16.1' }, { ip: '10.1.16.2', ready: false, serving: true, terminating: true }]),
      slice('term-only', [
        { ip: '10.1.17.1', ready: false, serving: true, terminating: true },
        { ip: '10.1.17.2', ready: false, serving: true, terminating: true },
        { ip: '10.1.17.3', ready: false, serving: false, terminating: true },
      ]),
      slice('term-dead', [{ ip: '10.1.18.1', ready: false, serving: false, terminating: true }]),
      slice('term-local', [
        local('10.1.19.1', { ready: false, serving: true, terminating: true }),
        { ip: '10.1.19.2' },
      ]),
    ],
    flows: [
      { name: 'ready endpoints win', from: POD, to: '172.30.1.16:80', expect: ['10.1.16.1:80'] },
      {
        name: 'no ready endpoint: the serving terminating ones',
        from: POD,
        to: '172.30.1.17:80',
        expect: ['10.1.17.1:80', '10.1.17.2:80'],
      },
      { name: 'terminating and not serving: no endpoint', from: POD, to: '172.30.1.18:80', expect: ['REJECT'] },
      {
        name: 'Local policy: a serving terminating local endpoint when no local one is ready',
        from: EXTERNAL,
        to: `${NODE_IP}:30019`,
        expect: ['10.1.19.1:80'],
      },
      { name: 'Local policy: ClusterIP uses the ready one', from: POD, to: '172.30.1.19:80', expect: ['10.1.19.2:80'] },
    ],
  },
  {
    feature: 'masquerade by clusterCIDR, and hairpin',
    services: [service('one', { clusterIP: '172.30.1.1' }), service('three', { clusterIP: '172.30.1.2' })],
    slices: [
      slice('one', [{ ip: '10.1.1.1' }]),
      slice('three', [{ ip: '10.1.2.1' }, { ip: '10.1.2.2' }, { ip: '10.1.2.3' }]),
    ],
    flows: [
      { name: 'a pod is not masqueraded', from: POD, to: '172.30.1.1:80', expect: ['10.1.1.1:80'] },
      { name: 'an off-cluster host is masqueraded', from: EXTERNAL, to: '172.30.1.1:80', expect: ['10.1.1.1:80 masq'] },
      {
        name: 'the node is masqueraded',
        from: NODE_IP,
        fromNode: true,
        to: '172.30.1.1:80',
        expect: ['10.1.1.1:80 masq'],
      },
      {
        name: 'hairpin: the endpoint to its own Service',
        from: '10.1.1.1',
        to: '172.30.1.1:80',
        expect: ['10.1.1.1:80 masq'],
      },
      {
        name: 'hairpin: only the branch back to itself',
        from: '10.1.2.2',
        to: '172.30.1.2:80',
        expect: ['10.1.2.1:80', '10.1.2.2:80 masq', '10.1.2.3:80'],
      },
    ],
  },
  {
    feature: 'masqueradeAll',
    services: [service('one', { clusterIP: '172.30.1.1' })],
    slices: [slice('one', [{ ip: '10.1.1.1' }])],
    options: { masqueradeAll: true },
    flows: [
      { name: 'a pod is masqueraded too', from: POD, to: '172.30.1.1:80', expect: ['10.1.1.1:80 masq'] },
      { name: 'an off-cluster host', from: EXTERNAL, to: '172.30.1.1:80', expect: ['10.1.1.1:80 masq'] },
    ],
  },
  {
    feature: 'no clusterCIDR',
    services: [service('one', { clusterIP: '172.30.1.1' })],
    slices: [slice('one', [{ ip: '10.1.1.1' }])],
    options: { clusterCIDR: undefined },
    flows: [
      { name: 'an off-cluster host is not masqueraded', from: EXTERNAL, to: '172.30.1.1:80', expect: ['10.1.1.1:80'] },
      { name: 'hairpin is still masqueraded', from: '10.1.1.1', to: '172.30.1.1:80', expect: ['10.1.1.1:80 masq'] },
    ],
  },
  {
    feature: 'UDP and SCTP',
    services: [
      service('dns', {
        clusterIP: '172.30.1.21',
        ports: [port({ name: 'dns', port: 53, protocol: 'UDP' }), port({ name: 'dns-tcp', port: 53 })],
      }),
      service('sctp', {
        type: 'NodePort',
        clusterIP: '172.30.1.22',
        ports: [port({ name: 'sctp', port: 9999, protocol: 'SCTP', nodePort: 30022 })],
      }),
    ],
    slices: [
      slice(
        'dns',
        [{ ip: '10.1.21.1' }],
        [
          { name: 'dns', port: 5353, protocol: 'UDP' },
          { name: 'dns-tcp', port: 5354, protocol: 'TCP' },
        ],
      ),
      slice('sctp', [{ ip: '10.1.22.1' }], [{ name: 'sctp', port: 9999, protocol: 'SCTP' }]),
    ],
    flows: [
      { name: 'UDP', from: POD, to: '172.30.1.21:53/udp', expect: ['10.1.21.1:5353'] },
      { name: 'TCP on the same port number', from: POD, to: '172.30.1.21:53', expect: ['10.1.21.1:5354'] },
      { name: 'SCTP', from: POD, to: '172.30.1.22:9999/sctp', expect: ['10.1.22.1:9999'] },
      { name: 'SCTP NodePort', from: EXTERNAL, to: `${NODE_IP}:30022/sctp`, expect: ['10.1.22.1:9999 masq'] },
      {
        name: 'TCP to the SCTP port',
        from: POD,
        to: '172.30.1.22:9999',
        expect: { iptables: ['ACCEPT'], nftables: ['REJECT'] },
      },
      {
        name: 'UDP to an unused port',
        from: POD,
        to: '172.30.1.21:54/udp',
        expect: { iptables: ['ACCEPT'], nftables: ['REJECT'] },
      },
    ],
  },
  {
    feature: 'Services kube-proxy leaves alone',
    services: [
      service('headless', { clusterIP: 'None' }),
      service('extname', { type: 'ExternalName', externalName: 'example.com' }),
      service('other-proxy', { clusterIP: '172.30.1.24' }, undefined, {
        'service.kubernetes.io/service-proxy-name': 'other',
      }),
    ],
    slices: [slice('headless', [{ ip: '10.1.23.1' }]), slice('other-proxy', [{ ip: '10.1.24.1' }])],
    flows: [
      { name: 'headless: pod IPs directly', from: POD, to: '10.1.23.1:80', expect: ['ACCEPT'] },
      { name: 'service-proxy-name: not programmed', from: POD, to: '172.30.1.24:80', expect: ['ACCEPT'] },
    ],
  },
  {
    feature: 'service CIDRs',
    only: 'nftables',
    services: [service('one', { clusterIP: '172.30.1.1' })],
    slices: [slice('one', [{ ip: '10.1.1.1' }])],
    options: { serviceCIDRs: ['172.30.0.0/16'] },
    flows: [
      { name: 'an allocated ClusterIP', from: POD, to: '172.30.1.1:80', expect: ['10.1.1.1:80'] },
      { name: 'an unused port of it', from: POD, to: '172.30.1.1:81', expect: ['REJECT'] },
      { name: 'an unallocated ClusterIP', from: POD, to: '172.30.9.9:80', expect: ['DROP'] },
      { name: 'outside the service CIDRs', from: POD, to: '172.31.0.1:80', expect: ['ACCEPT'] },
    ],
  },
];

const RENDERERS: Record<string, { mode: Mode; render: (s: Scenario) => string }> = {
  iptables: {
    mode: 'iptables',
    render: (s) => renderIptables({ ...BASE, servicePorts: portsOf(s), ...s.options }).text,
  },
  'nftables (flat)': { mode: 'nftables', render: (s) => nft(s, 'flat') },
  'nftables (upstream layout)': { mode: 'nftables', render: (s) => nft(s, 'upstream') },
};

const BASE = {
  clusterCIDR: '10.0.0.0/8',
  masqueradeAll: false,
  masqueradeBit: 14,
  localhostNodePorts: true,
  nodePortAddresses: [],
  nodeIPs: [NODE_IP],
} satisfies Omit<RenderInput, 'servicePorts'>;

function portsOf(s: Scenario) {
  return buildServicePorts({ services: s.services, endpointSlices: s.slices, nodeName: NODE });
}

function nft(s: Scenario, layout: NftLayout): string {
  return nftScript(renderNftables({ ...BASE, servicePorts: portsOf(s), ...s.options, layout }));
}

/** traceFlow follows one flow and prints its outcomes as the Flow's expect does. */
function traceFlow(mode: Mode, rules: string, flow: Flow, localIPs: readonly string[]): string[] {
  const to = /^(.+):(\d+)(?:\/(udp|sctp))?$/.exec(flow.to)!;
  const packet: TracePacket = {
    src: flow.from,
    dst: to[1]!,
    dport: Number(to[2]),
    protocol: (to[3] ?? 'tcp') as TracePacket['protocol'],
    localIPs,
    fromNode: flow.fromNode,
    affinityTo: flow.affinity,
  };
  const outcomes = summarize((mode === 'iptables' ? traceIptables : traceNftables)(rules, packet));
  const share = 1 / outcomes.length;
  for (const o of outcomes)
    assert.ok(Math.abs(o.probability - share) < 1e-9, `${o.result}: ${o.probability}, want ${share} each`);
  return outcomes.map((o) => `${o.result}${o.masquerade ? ' masq' : ''}`);
}

for (const [name, { mode, render }] of Object.entries(RENDERERS)) {
  describe(`packet flow (${name})`, () => {
    for (const scenario of SCENARIOS) {
      if (scenario.only && scenario.only !== mode) continue;
      describe(scenario.feature, () => {
        const rules = render(scenario);
        for (const flow of scenario.flows) {
          test(flow.name, () => {
            const want = Array.isArray(flow.expect) ? flow.expect : flow.expect[mode];
            assert.deepEqual(traceFlow(mode, rules, flow, scenario.localIPs ?? [NODE_IP]), [...want].sort());
          });
        }
      });
    }
    test('headless, ExternalName and service-proxy-name Services add no rule', () => {
      const ignored = SCENARIOS.find((s) => s.feature === 'Services kube-proxy leaves alone')!;
      assert.equal(render(ignored), render({ ...ignored, services: [], slices: [] }));
    });
  });
}
