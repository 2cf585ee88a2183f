/**
 * Packet-flow tests of both renderers, as upstream's runPacketFlowTests: each case sends a new connection through
 * the rendered rules with the tracer and checks where it lands (endpoints with their share, DROP, REJECT) and whether
 * it is masqueraded. The same cases run against iptables mode and both nftables layouts. Fixtures and conventions
 * (pod CIDR 10.0.0.0/8, node 192.168.0.2, external clients in 203.0.113.0/24) in testdata/overall.ts. Every
 * feature, one scenario each: packet-flow-features.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renderIptables } from './render-iptables.ts';
import { nftScript, renderNftables } from './render-nftables.ts';
import { IPTABLES_TEST_CONFIG, NFTABLES_TEST_CONFIG, overallServicePorts, TEST_NODE_IP } from './testdata/overall.ts';
import { summarize, type TracePacket } from './trace.ts';
import { traceIptables } from './trace-iptables.ts';
import { traceNftables } from './trace-nftables.ts';

const EXTERNAL = '203.0.113.2';
const BLOCKED = '203.0.113.130';

interface Case {
  name: string;
  src: string;
  dst: string;
  dport: number;
  fromNode?: boolean;
  affinityTo?: string;
  /** Endpoints (`ip:port`, each an equal share), or DROP / REJECT / ACCEPT (left alone). */
  output: string;
  masq?: boolean;
  /** Expected only in one mode (the modes differ here on purpose, as upstream's). */
  only?: 'iptables' | 'nftables';
}

const CASES: Case[] = [
  { name: 'pod to cluster IP', src: '10.0.0.2', dst: '172.30.0.41', dport: 80, output: '10.180.0.1:80', masq: false },
  {
    name: 'hairpin: an endpoint to its own service',
    src: '10.180.0.1',
    dst: '172.30.0.41',
    dport: 80,
    output: '10.180.0.1:80',
    masq: true,
  },
  {
    name: 'external to cluster IP is masqueraded',
    src: EXTERNAL,
    dst: '172.30.0.41',
    dport: 80,
    output: '10.180.0.1:80',
    masq: true,
  },
  {
    name: 'pod to cluster IP with two endpoints',
    src: '10.0.0.2',
    dst: '172.30.0.44',
    dport: 80,
    output: '10.180.0.4:80, 10.180.0.5:80',
    masq: false,
  },
  { name: 'external to NodePort', src: EXTERNAL, dst: TEST_NODE_IP, dport: 3003, output: '10.180.0.3:80', masq: true },
  {
    name: 'external to external IP',
    src: EXTERNAL,
    dst: '192.168.99.33',
    dport: 80,
    output: '10.180.0.4:80, 10.180.0.5:80',
    masq: true,
  },
  {
    name: 'external to eTP Local LB IP without local endpoints',
    src: EXTERNAL,
    dst: '1.2.3.4',
    dport: 80,
    output: 'DROP',
  },
  {
    name: 'external to eTP Local NodePort without local endpoints',
    src: EXTERNAL,
    dst: TEST_NODE_IP,
    dport: 3001,
    output: 'DROP',
  },
  {
    name: 'pod to eTP Local LB IP is short-circuited to the cluster endpoints',
    src: '10.0.0.2',
    dst: '1.2.3.4',
    dport: 80,
    output: '10.180.0.2:80',
    masq: false,
  },
  {
    name: 'the node to its own eTP Local NodePort',
    src: TEST_NODE_IP,
    dst: TEST_NODE_IP,
    dport: 3001,
    fromNode: true,
    output: '10.180.0.2:80',
    masq: true,
  },
  { name: 'pod to cluster IP with no endpoints', src: '10.0.0.2', dst: '172.30.0.46', dport: 80, output: 'REJECT' },
  {
    name: 'allowed source to LB IP with source ranges',
    src: EXTERNAL,
    dst: '5.6.7.8',
    dport: 80,
    output: '10.180.0.3:80',
    masq: true,
  },
  { name: 'blocked source to LB IP with source ranges', src: BLOCKED, dst: '5.6.7.8', dport: 80, output: 'DROP' },
  {
    name: 'NodePort bypasses source ranges',
    src: BLOCKED,
    dst: TEST_NODE_IP,
    dport: 3002,
    output: '10.180.0.3:80',
    masq: true,
  },
  {
    name: 'ClientIP affinity keeps the endpoint',
    src: '10.0.0.2',
    dst: '172.30.0.45',
    dport: 80,
    affinityTo: '10.180.0.3:80',
    output: '10.180.0.3:80',
    masq: false,
  },
  {
    name: 'an unused port of a cluster IP is rejected',
    src: '10.0.0.2',
    dst: '172.30.0.41',
    dport: 443,
    output: 'REJECT',
    only: 'nftables',
  },
  {
    name: 'an unused port of a cluster IP is left alone',
    src: '10.0.0.2',
    dst: '172.30.0.41',
    dport: 443,
    output: 'ACCEPT',
    only: 'iptables',
  },
  {
    name: 'an unallocated cluster IP is dropped',
    src: '10.0.0.2',
    dst: '172.30.0.99',
    dport: 80,
    output: 'DROP',
    only: 'nftables',
  },
];

const RULESETS = {
  iptables: () => renderIptables({ ...IPTABLES_TEST_CONFIG, servicePorts: overallServicePorts() }).text,
  'nftables (flat)': () =>
    nftScript(
      renderNftables({ ...NFTABLES_TEST_CONFIG, servicePorts: overallServicePorts(), serviceCIDRs: ['172.30.0.0/16'] }),
    ),
  'nftables (upstream layout)': () =>
    nftScript(
      renderNftables({
        ...NFTABLES_TEST_CONFIG,
        servicePorts: overallServicePorts(),
        serviceCIDRs: ['172.30.0.0/16'],
        layout: 'upstream',
      }),
    ),
};

for (const [mode, render] of Object.entries(RULESETS)) {
  describe(`packet flow through ${mode} rules`, () => {
    const rules = render();
    const trace = mode === 'iptables' ? traceIptables : traceNftables;
    for (const c of CASES) {
      if (c.only && !mode.startsWith(c.only)) continue;
      test(c.name, () => {
        const packet: TracePacket = {
          src: c.src,
          dst: c.dst,
          dport: c.dport,
          protocol: 'tcp',
          localIPs: [TEST_NODE_IP],
          fromNode: c.fromNode,
          affinityTo: c.affinityTo,
        };
        const outcomes = summarize(trace(rules, packet));
        const want = c.output.split(', ');
        assert.deepEqual(
          outcomes.map((o) => o.result),
          want,
          JSON.stringify(outcomes),
        );
        for (const o of outcomes)
          assert.ok(Math.abs(o.probability - 1 / want.length) < 1e-9, `${o.result}: ${o.probability}`);
        if (c.masq !== undefined)
          for (const o of outcomes) assert.equal(o.masquerade, c.masq, `${o.result} masquerade`);
      });
    }
  });
}
