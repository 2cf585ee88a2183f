/**
 * renderIptables() against upstream's rule text. Conventions (as upstream's proxier tests): pod IPs in 10.180.0.0/16
 * and cluster CIDR 10.0.0.0/8, ClusterIPs in 172.30.0.0/16, node "node1"; the golden file holds the lab's nsvc.
 */
import { test } from 'node:test';
import type { Service, ServiceSpec } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifests } from './manifest-input.ts';
import {
  assembleIptables,
  computeProbability,
  INVALID_DROPPED_COUNTER,
  LOCALHOST_NODEPORTS_COUNTER,
  renderIptables,
  renderIptablesServicePort,
  renderIptablesSkeleton,
  type RenderInput,
} from './render-iptables.ts';
import { IPTABLES_TEST_CONFIG, overallServicePorts, TEST_NODE_IP } from './testdata/overall.ts';
import { buildServicePorts } from './service-ports.ts';

const LAB = join(import.meta.dirname, '../../examples/lab/nsvc-endpoints.yaml');

function svc(name: string, ip: string, spec: Partial<ServiceSpec> = {}, extra: Partial<Service> = {}): Service {
  return {
    kind: 'Service',
    metadata: { name, namespace: 'ns1' },
    spec: { type: 'ClusterIP', clusterIP: ip, ports: [{ name: 'p80', port: 80, protocol: 'TCP' }], ...spec },
    ...extra,
  };
}

function slice(
  service: string,
  endpoints: { ip: string; node?: string; ready?: boolean; serving?: boolean; terminating?: boolean }[],
  port = 80,
): EndpointSlice {
  return {
    kind: 'EndpointSlice',
    metadata: { name: `${service}-abc`, namespace: 'ns1', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      nodeName: e.node,
      conditions: { ready: e.ready ?? true, serving: e.serving, terminating: e.terminating },
    })),
    ports: [{ name: 'p80', port, protocol: 'TCP' }],
  };
}

function render(services: Service[], slices: EndpointSlice[], overrides: Partial<RenderInput> = {}, options = {}) {
  return renderIptables(
    {
      servicePorts: buildServicePorts({ services, endpointSlices: slices, nodeName: 'node1' }),
      clusterCIDR: '10.0.0.0/8',
      masqueradeAll: false,
      masqueradeBit: 14,
      localhostNodePorts: true,
      nodePortAddresses: [],
      nodeIPs: ['192.168.0.2'],
      ...overrides,
    },
    options,
  );
}

test('renderIptables() renders the lab: the chain names of the lab, a 50/50 split over both pods', (t) => {
  const objects = readManifests([readFileSync(LAB, 'utf8')]);
  const result = renderIptables({
    servicePorts: buildServicePorts({ ...objects, nodeName: 'nodea' }),
    clusterCIDR: '10.0.0.0/16',
    masqueradeAll: false,
    masqueradeBit: 14,
    localhostNodePorts: true,
    nodePortAddresses: [],
    nodeIPs: [],
  });
  // KUBE-SVC-NPX46M4PTMTKRN6Y and KUBE-SEP-7XLM5FY5OZDUTZPQ are the names the lab's own kube-proxy printed.
  assert.match(
    result.text,
    /^-A KUBE-SERVICES -m comment --comment "default\/kubernetes:https cluster IP" -m tcp -p tcp -d 10\.0\.0\.1 --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y$/m,
  );
  assert.match(
    result.text,
    /^-A KUBE-SEP-7XLM5FY5OZDUTZPQ -m comment --comment default\/kubernetes:https -m tcp -p tcp -j DNAT --to-destination 192\.168\.225\.193:6443$/m,
  );
  t.assert.fileSnapshot(result.text, join(import.meta.dirname, 'testdata', 'lab-nsvc.iptables'), {
    serializers: [(s: unknown) => String(s)],
  });
});

test("renderIptables() writes upstream's rules for a ClusterIP service with one endpoint", () => {
  const { text } = render([svc('svc1', '172.30.0.41')], [slice('svc1', [{ ip: '10.180.0.1' }])]);
  const nat = text.slice(text.indexOf('*nat'));
  assert.equal(
    nat,
    [
      '*nat',
      ':KUBE-NODEPORTS - [0:0]',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
      ':KUBE-POSTROUTING - [0:0]',
      ':KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]',
      ':KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]',
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
      '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
      '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
      '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ',
      'COMMIT',
      '',
    ].join('\n'),
  );
});

test('computeProbability() prints 10 decimals like upstream', () => {
  assert.equal(computeProbability(1), '1.0000000000');
  assert.equal(computeProbability(2), '0.5000000000');
  assert.equal(computeProbability(3), '0.3333333333');
  assert.equal(computeProbability(100001), '0.0000099999');
});

test('renderIptables() spreads three endpoints with 1/3, then 1/2, then the rest', () => {
  const { text } = render(
    [svc('svc4', '172.30.0.44')],
    [slice('svc4', [{ ip: '10.180.0.4' }, { ip: '10.180.0.5' }, { ip: '10.180.0.6' }])],
  );
  const rules = text.split('\n').filter((l) => l.startsWith('-A KUBE-SVC-') && l.includes('->'));
  assert.deepEqual(
    rules.map((l) => l.match(/--probability (\S+)/)?.[1] ?? 'none'),
    ['0.3333333333', '0.5000000000', 'none'],
  );
});

test('renderIptables() rejects traffic to a service with no endpoints, in the filter table', () => {
  const { text } = render([svc('svc6', '172.30.0.46')], []);
  assert.match(
    text,
    /^-A KUBE-SERVICES -m comment --comment "ns1\/svc6:p80 has no endpoints" -m tcp -p tcp -d 172\.30\.0\.46 --dport 80 -j REJECT$/m,
  );
  assert.doesNotMatch(text, /KUBE-SVC-/);
});

test('renderIptables() sends NodePorts through KUBE-EXT with masquerade', () => {
  const { text } = render(
    [
      svc('svc2', '172.30.0.42', {
        type: 'NodePort',
        ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }],
      }),
    ],
    [slice('svc2', [{ ip: '10.180.0.2' }])],
  );
  assert.match(
    text,
    /^-A KUBE-NODEPORTS -m comment --comment ns1\/svc2:p80 -m tcp -p tcp --dport 3001 -j (KUBE-EXT-\w+)$/m,
  );
  assert.match(
    text,
    /^-A KUBE-EXT-(\w+) -m comment --comment "masquerade traffic for ns1\/svc2:p80 external destinations" -j KUBE-MARK-MASQ\n-A KUBE-EXT-\1 -j KUBE-SVC-\1$/m,
  );
});

test('renderIptables() pins clients with recent for ClientIP affinity', () => {
  const { text } = render(
    [
      svc('svc5', '172.30.0.45', {
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
      }),
    ],
    [slice('svc5', [{ ip: '10.180.0.3' }])],
  );
  assert.match(
    text,
    /^-A KUBE-SVC-\w+ -m comment --comment "ns1\/svc5:p80 -> 10\.180\.0\.3:80" -m recent --name (KUBE-SEP-\w+) --rcheck --seconds 10800 --reap -j \1$/m,
  );
  assert.match(text, /-m recent --name KUBE-SEP-\w+ --set -m tcp -p tcp -j DNAT --to-destination 10\.180\.0\.3:80$/m);
});

test('renderIptables() with externalTrafficPolicy Local uses only local endpoints for external traffic', () => {
  const service = svc(
    'svc3',
    '172.30.0.43',
    {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 30000,
      ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3003 }],
    },
    { status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } },
  );
  const local = render(
    [service],
    [
      slice('svc3', [
        { ip: '10.180.0.1', node: 'node1' },
        { ip: '10.180.0.2', node: 'node2' },
      ]),
    ],
  ).text;
  assert.match(local, /"pod traffic for ns1\/svc3:p80 external destinations" -s 10\.0\.0\.0\/8 -j KUBE-SVC-/);
  assert.match(local, /^-A (KUBE-EXT-\w+) -j KUBE-SVL-\w+$/m);
  assert.match(
    local,
    /^-A KUBE-NODEPORTS -m comment --comment "ns1\/svc3:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT$/m,
  );
  const svl = local.split('\n').filter((l) => l.startsWith('-A KUBE-SVL-'));
  assert.equal(svl.length, 1, 'only the node-local endpoint');
  const remote = render([service], [slice('svc3', [{ ip: '10.180.0.2', node: 'node2' }])]).text;
  assert.match(
    remote,
    /^-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1\/svc3:p80 has no local endpoints" -m tcp -p tcp -d 1\.2\.3\.4 --dport 80 -j DROP$/m,
  );
  assert.match(
    remote,
    /^-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1\/svc3:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3003 -j DROP$/m,
  );
});

test('renderIptables() with internalTrafficPolicy Local drops cluster traffic when no endpoint is local', () => {
  const { text } = render(
    [svc('svc7', '172.30.0.47', { internalTrafficPolicy: 'Local' })],
    [slice('svc7', [{ ip: '10.180.0.2', node: 'node2' }])],
  );
  assert.match(
    text,
    /^-A KUBE-SERVICES -m comment --comment "ns1\/svc7:p80 has no local endpoints" -m tcp -p tcp -d 172\.30\.0\.47 --dport 80 -j DROP$/m,
  );
});

test('renderIptables() filters load-balancer traffic by loadBalancerSourceRanges', () => {
  const service = svc(
    'svc8',
    '172.30.0.48',
    {
      type: 'LoadBalancer',
      loadBalancerSourceRanges: [' 203.0.113.0/25'],
      ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3008 }],
    },
    { status: { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } } },
  );
  const { text } = render([service], [slice('svc8', [{ ip: '10.180.0.8' }])]);
  assert.match(
    text,
    /^-A KUBE-SERVICES -m comment --comment "ns1\/svc8:p80 loadbalancer IP" -m tcp -p tcp -d 5\.6\.7\.8 --dport 80 -j (KUBE-FW-\w+)$/m,
  );
  assert.match(
    text,
    /^-A KUBE-FW-\w+ -m comment --comment "ns1\/svc8:p80 loadbalancer IP" -s 203\.0\.113\.0\/25 -j KUBE-EXT-\w+$/m,
  );
  assert.match(
    text,
    /^-A KUBE-PROXY-FIREWALL -m comment --comment "ns1\/svc8:p80 traffic not accepted by KUBE-FW-\w+" -m tcp -p tcp -d 5\.6\.7\.8 --dport 80 -j DROP$/m,
  );
});

test('renderIptables() falls back to serving terminating endpoints when none is ready', () => {
  const { text } = render(
    [svc('svc9', '172.30.0.49')],
    [
      slice('svc9', [
        { ip: '10.180.0.9', ready: false, serving: true, terminating: true },
        { ip: '10.180.0.10', ready: false, serving: false, terminating: true },
      ]),
    ],
  );
  assert.match(text, /DNAT --to-destination 10\.180\.0\.9:80/);
  assert.doesNotMatch(text, /10\.180\.0\.10:80/);
});

test('renderIptables() masquerades everything with masqueradeAll and nothing without a cluster CIDR', () => {
  const all = render([svc('svc1', '172.30.0.41')], [slice('svc1', [{ ip: '10.180.0.1' }])], {
    masqueradeAll: true,
  }).text;
  assert.match(
    all,
    /^-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1\/svc1:p80 cluster IP" -m tcp -p tcp -d 172\.30\.0\.41 --dport 80 -j KUBE-MARK-MASQ$/m,
  );
  const none = render([svc('svc1', '172.30.0.41')], [slice('svc1', [{ ip: '10.180.0.1' }])], {
    clusterCIDR: undefined,
  }).text;
  assert.doesNotMatch(none, /cluster IP".*KUBE-MARK-MASQ/);
});

test('renderIptables() partial sync rewrites only changed services and deletes stale chains', () => {
  const services = [svc('svc1', '172.30.0.41'), svc('svc4', '172.30.0.44')];
  const slices = [slice('svc1', [{ ip: '10.180.0.1' }]), slice('svc4', [{ ip: '10.180.0.4' }])];
  const full = render(services, slices);
  const partial = render(
    services,
    [slices[0], slice('svc4', [{ ip: '10.180.0.5' }])],
    {},
    { changedServices: new Set(['ns1/svc4:p80']), existingNatChains: full.natChains },
  );
  assert.doesNotMatch(partial.text, /KUBE-SVC-XPGD46QRK7WJZT7O - \[0:0\]/, 'unchanged service chain is not flushed');
  assert.match(partial.text, /-j KUBE-SVC-XPGD46QRK7WJZT7O$/m, 'but KUBE-SERVICES still jumps to it');
  assert.equal(partial.staleChains.length, 1);
  assert.match(partial.text, new RegExp(`^-X ${partial.staleChains[0]}$`, 'm'));
  assert.equal(
    partial.ruleCounts.nat,
    render(services, [slices[0], slice('svc4', [{ ip: '10.180.0.5' }])]).ruleCounts.nat,
  );
});

test('renderIptablesServicePort() is one service port: its fixed-chain rules and its own chains', () => {
  const [withEndpoint, without] = buildServicePorts({
    services: [svc('svc1', '172.30.0.41'), svc('svc6', '172.30.0.46')],
    endpointSlices: [slice('svc1', [{ ip: '10.180.0.1' }])],
    nodeName: 'node1',
  });
  const context = { clusterCIDR: '10.0.0.0/8', masqueradeAll: false, localhostNodePorts: true, largeCluster: false };
  const one = renderIptablesServicePort(withEndpoint!, context);
  assert.deepEqual([...one.chains.keys()], ['KUBE-SVC-XPGD46QRK7WJZT7O', 'KUBE-SEP-SXIVWICOYRO3J4NJ']);
  assert.deepEqual(
    one.nat.map(([chain]) => chain),
    ['KUBE-SERVICES'],
  );
  assert.deepEqual(one.filter, []);
  const none = renderIptablesServicePort(without!, context);
  assert.equal(none.chains.size, 0);
  assert.deepEqual(none.filter, [
    [
      'KUBE-SERVICES',
      '-m comment --comment "ns1/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT',
    ],
  ]);
  // The skeleton alone: the fixed chains, declared and ended, no service.
  const empty = assembleIptables(
    renderIptablesSkeleton({ ...context, masqueradeBit: 14, nodePortAddresses: [], nodeIPs: [] }),
    [],
  );
  assert.deepEqual(empty.natChains, []);
  assert.equal(empty.ruleCounts.nat, 5);
});

test('renderIptables() drops endpoint comments past 1000 endpoints (large-cluster mode)', () => {
  const eps = Array.from({ length: 1001 }, (_, i) => ({ ip: `10.180.${Math.floor(i / 250)}.${(i % 250) + 1}` }));
  const { text } = render([svc('big', '172.30.0.99')], [slice('big', eps)]);
  assert.match(text, /^-A KUBE-SEP-\w+ -s 10\.180\.0\.1 -j KUBE-MARK-MASQ$/m);
  assert.doesNotMatch(text, /-> 10\.180/);
});

test("renderIptables() skips headless, ExternalName and other proxies' services", () => {
  const { text } = render(
    [
      svc('headless', 'None'),
      {
        kind: 'Service',
        metadata: { name: 'ext', namespace: 'ns1' },
        spec: { type: 'ExternalName', externalName: 'example.com' },
      },
      svc(
        'other',
        '172.30.0.50',
        {},
        {
          metadata: { name: 'other', namespace: 'ns1', labels: { 'service.kubernetes.io/service-proxy-name': 'foo' } },
        },
      ),
    ],
    [],
  );
  assert.doesNotMatch(text, /ns1\//);
});

/**
 * sortLikeUpstream orders a restore input as upstream's sortIPTablesRules does before comparing: per table, chains
 * KUBE-NODEPORTS, KUBE-SERVICES, then the rest alphabetically; rules grouped by chain in that order, the rules of
 * KUBE-NODEPORTS and KUBE-SERVICES stably sorted by service name, the "must be the last rule" rule kept last.
 */
function sortLikeUpstream(text: string): string {
  const out: string[] = [];
  for (const block of text
    .trim()
    .split(/^COMMIT$/m)
    .map((b) => b.trim())
    .filter(Boolean)) {
    const lines = block.split('\n');
    const rank = (c: string) => (c === 'KUBE-NODEPORTS' ? '0' : c === 'KUBE-SERVICES' ? '1' : `2${c}`);
    const chains = lines
      .filter((l) => l.startsWith(':'))
      .sort((a, b) => (rank(a.slice(1).split(' ')[0]!) < rank(b.slice(1).split(' ')[0]!) ? -1 : 1));
    const rules = lines.filter((l) => l.startsWith('-A '));
    const serviceOf = (l: string) => /--comment "?([^ ":]+)/.exec(l)?.[1] ?? '';
    out.push(lines[0]!, ...chains);
    for (const c of chains.map((l) => l.slice(1).split(' ')[0]!)) {
      let own = rules.filter((l) => l.split(' ')[1] === c);
      if (c === 'KUBE-NODEPORTS' || c === 'KUBE-SERVICES') {
        const last = own.filter((l) => l.includes('must be the last rule'));
        own = own
          .filter((l) => !last.includes(l))
          .map((l, i) => ({ l, i }))
          .sort((a, b) => (serviceOf(a.l) < serviceOf(b.l) ? -1 : serviceOf(a.l) > serviceOf(b.l) ? 1 : a.i - b.i))
          .map((x) => x.l)
          .concat(last);
      }
      out.push(...own);
    }
    out.push(...lines.filter((l) => l.startsWith('-X ')), 'COMMIT');
  }
  return `${out.join('\n')}\n`;
}

test("renderIptables() writes exactly upstream's TestOverallIPTablesRules ruleset (eTP Local without local endpoints, localhost NodePorts)", () => {
  const result = renderIptables({
    ...IPTABLES_TEST_CONFIG,
    servicePorts: overallServicePorts(),
    nodeIPs: [TEST_NODE_IP],
    nfacctCounters: [LOCALHOST_NODEPORTS_COUNTER, INVALID_DROPPED_COUNTER],
    randomFully: false,
  });
  const upstream = readFileSync(join(import.meta.dirname, 'testdata', 'overall-iptables.txt'), 'utf8');
  assert.equal(sortLikeUpstream(result.text), sortLikeUpstream(upstream));
  // The metric counts every rule of the nat table (upstream's countRulesFromMetric check).
  assert.equal(result.ruleCounts.nat, (upstream.slice(upstream.indexOf('*nat')).match(/^-A /gm) ?? []).length);
  assert.equal(result.ruleCounts.filter, (upstream.slice(0, upstream.indexOf('*nat')).match(/^-A /gm) ?? []).length);
});

test('renderIptables() keeps 127.0.0.0/8 out of NodePorts when localhost NodePorts are off', () => {
  const service = svc('svc2', '172.30.0.42', {
    type: 'NodePort',
    ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }],
  });
  const off = render([service], [slice('svc2', [{ ip: '10.180.0.2' }])], {
    localhostNodePorts: false,
    nfacctCounters: [LOCALHOST_NODEPORTS_COUNTER],
  }).text;
  assert.match(
    off,
    /"kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d 127\.0\.0\.0\/8 -j KUBE-NODEPORTS$/m,
  );
  assert.doesNotMatch(off, /127\.0\.0\.0\/8 --dport 3001/);
  assert.doesNotMatch(off, /block incoming localnet connections/);
  const restricted = render([service], [slice('svc2', [{ ip: '10.180.0.2' }])], {
    localhostNodePorts: false,
    nodePortAddresses: ['127.0.0.0/8', '192.168.0.0/24'],
    nodeIPs: ['127.0.0.1', '192.168.0.2'],
  }).text;
  assert.deepEqual(
    restricted
      .split('\n')
      .filter((l) => l.includes('must be the last rule'))
      .map((l) => / -d (\S+) /.exec(l)?.[1]),
    ['192.168.0.2'],
  );
});
