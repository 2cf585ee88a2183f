/** diffNftables(): only the difference, from the two models (fixtures: testdata/overall.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffNftables, withStaleChains } from './diff-nftables.ts';
import { renderNftables } from './render-nftables.ts';
import { buildServicePorts } from './service-ports.ts';
import { overallEndpointSlices, overallServices, TEST_NODE } from './testdata/overall.ts';

function render(services: any[], slices: any[]) {
  return renderNftables({ servicePorts: buildServicePorts({ services, endpointSlices: slices, nodeName: TEST_NODE }), clusterCIDR: '10.0.0.0/8', masqueradeAll: false, masqueradeBit: 14, nodePortAddresses: [], nodeIPs: [] });
}

test('diffNftables() of a ruleset with itself is empty', () => {
  const a = render(overallServices(), overallEndpointSlices());
  assert.equal(diffNftables(a, render(overallServices(), overallEndpointSlices())).script, '');
});

test('diffNftables() for one endpoint change rewrites one chain and the hairpin element', () => {
  const a = render(overallServices(), overallEndpointSlices());
  const slices = overallEndpointSlices();
  slices[0].endpoints[0].addresses = ['10.180.0.9'];
  const d = diffNftables(a, render(overallServices(), slices));
  assert.equal(d.script, [
    'flush chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80',
    'add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade',
    'add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 meta l4proto tcp dnat to 10.180.0.9:80',
    'delete element ip kube-proxy hairpin-endpoints { 10.180.0.1 . 10.180.0.1 }',
    'add element ip kube-proxy hairpin-endpoints { 10.180.0.9 . 10.180.0.9 }',
    '',
  ].join('\n'));
});

test('diffNftables() removing a service deletes its elements, flushes its chains now and deletes them later', () => {
  const a = render(overallServices(), overallEndpointSlices());
  const b = render(overallServices().filter((s) => s.metadata.name !== 'svc5'), overallEndpointSlices());
  const d = diffNftables(a, b);
  assert.match(d.script, /^delete element ip kube-proxy service-ips \{ 172\.30\.0\.45 \. tcp \. 80 \}$/m);
  assert.match(d.script, /^delete element ip kube-proxy firewall-ips \{ 5\.6\.7\.8 \. tcp \. 80 \}$/m);
  assert.match(d.script, /^flush chain ip kube-proxy service-HVFWP5L3-ns5\/svc5\/tcp\/p80$/m);
  assert.match(d.script, /^delete set ip kube-proxy affinity-GTK6MW7G-ns5\/svc5\/tcp\/p80__10\.180\.0\.3\/80$/m);
  assert.doesNotMatch(d.script, /^delete chain/m);
  assert.deepEqual(d.staleChains.sort(), ['endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80', 'external-HVFWP5L3-ns5/svc5/tcp/p80', 'firewall-HVFWP5L3-ns5/svc5/tcp/p80', 'service-HVFWP5L3-ns5/svc5/tcp/p80']);
  // The next sync deletes them (they were flushed, so the model holds them empty).
  const next = diffNftables(withStaleChains(b, d.staleChains), b, { deleteChains: d.staleChains });
  assert.equal(next.script.split('\n').filter((l) => l.startsWith('delete chain')).length, 4);
  assert.equal(next.script.split('\n').filter((l) => l && !l.startsWith('delete chain')).length, 0);
});
