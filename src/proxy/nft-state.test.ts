/** NftTableState: the model of the kernel's table sends only the difference (fixtures: testdata/overall.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { NftTableState } from './nft-state.ts';
import { nftScript, renderNftables } from './render-nftables.ts';
import { buildServicePorts } from './service-ports.ts';
import { NFTABLES_TEST_CONFIG, overallEndpointSlices, overallServices, TEST_NODE } from './testdata/overall.ts';

const INPUT = NFTABLES_TEST_CONFIG;
const ports = (services: Service[], slices: EndpointSlice[]) =>
  buildServicePorts({ services, endpointSlices: slices, nodeName: TEST_NODE });
const all = (p: ReturnType<typeof ports>) => new Set(p.map((sp) => sp.name));

function started() {
  const state = new NftTableState(INPUT);
  const p = ports(overallServices(), overallEndpointSlices());
  const script = state.full(p);
  return { state, p, script };
}

test('NftTableState.full() replaces the table with the whole ruleset', () => {
  const { state, p, script } = started();
  assert.ok(script.startsWith('add table ip kube-proxy\ndelete table ip kube-proxy\n'));
  assert.equal(script, nftScript(renderNftables({ ...INPUT, servicePorts: p }), { replace: true }));
  assert.equal(state.update(p, all(p), [], 0), '', 'nothing changed: nothing to send');
});

test('NftTableState.update() for one endpoint change rewrites one chain and the hairpin element', () => {
  const { state } = started();
  const slices = overallEndpointSlices();
  slices[0].endpoints[0].addresses = ['10.180.0.9'];
  const next = ports(overallServices(), slices);
  assert.equal(
    state.update(next, new Set(['ns1/svc1:p80']), [], 0),
    [
      'flush chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80',
      'add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade',
      'add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 meta l4proto tcp dnat to 10.180.0.9:80',
      'delete element ip kube-proxy hairpin-endpoints { 10.180.0.1 . 10.180.0.1 }',
      'add element ip kube-proxy hairpin-endpoints { 10.180.0.9 . 10.180.0.9 }',
      '',
    ].join('\n'),
  );
  assert.deepEqual(state.ruleset(), renderNftables({ ...INPUT, servicePorts: next }), 'the model is the new table');
});

test('NftTableState.update() keeps an element two service ports share until neither wants it', () => {
  const { state } = started();
  // svc3 and svc5 both have endpoint 10.180.0.3: removing svc3 keeps its hairpin element.
  const without3 = ports(
    overallServices().filter((s) => s.metadata.name !== 'svc3'),
    overallEndpointSlices(),
  );
  const script = state.update(without3, new Set(), ['ns3/svc3:p80/TCP'], 0);
  assert.doesNotMatch(script, /hairpin-endpoints \{ 10\.180\.0\.3/);
  assert.match(script, /^delete element ip kube-proxy service-nodeports \{ tcp \. 3003 \}$/m);
  assert.deepEqual(state.ruleset(), renderNftables({ ...INPUT, servicePorts: without3 }));
});

test('NftTableState.update() removing a service flushes its chains now and deletes them a second later', () => {
  const { state } = started();
  const without5 = ports(
    overallServices().filter((s) => s.metadata.name !== 'svc5'),
    overallEndpointSlices(),
  );
  const script = state.update(without5, new Set(), ['ns5/svc5:p80/TCP'], 1000);
  assert.match(script, /^delete element ip kube-proxy service-ips \{ 172\.30\.0\.45 \. tcp \. 80 \}$/m);
  assert.match(script, /^delete element ip kube-proxy firewall-ips \{ 5\.6\.7\.8 \. tcp \. 80 \}$/m);
  assert.match(script, /^flush chain ip kube-proxy service-HVFWP5L3-ns5\/svc5\/tcp\/p80$/m);
  assert.match(script, /^delete set ip kube-proxy affinity-GTK6MW7G-ns5\/svc5\/tcp\/p80__10\.180\.0\.3\/80$/m);
  assert.doesNotMatch(script, /^delete chain/m);
  assert.equal(state.staleDueIn(1500), 500);
  assert.equal(state.update(without5, new Set(), [], 1500), '', 'not yet');
  const later = state.update(without5, new Set(), [], 2000);
  assert.deepEqual(later.trim().split('\n').sort(), [
    'delete chain ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80',
    'delete chain ip kube-proxy external-HVFWP5L3-ns5/svc5/tcp/p80',
    'delete chain ip kube-proxy firewall-HVFWP5L3-ns5/svc5/tcp/p80',
    'delete chain ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80',
  ]);
  assert.equal(state.staleDueIn(2000), undefined);
});

test('NftTableState.update() refills a flushed chain wanted again instead of deleting it', () => {
  const { state, p } = started();
  const without1 = ports(
    overallServices().filter((s) => s.metadata.name !== 'svc1'),
    overallEndpointSlices(),
  );
  state.update(without1, new Set(), ['ns1/svc1:p80/TCP'], 0);
  const back = state.update(p, new Set(['ns1/svc1:p80']), [], 5000);
  assert.doesNotMatch(back, /delete chain/);
  assert.match(
    back,
    /^add chain ip kube-proxy service-ULMVA6XW-ns1\/svc1\/tcp\/p80\nadd rule ip kube-proxy service-ULMVA6XW-ns1\/svc1\/tcp\/p80 /m,
  );
  assert.equal(state.staleDueIn(5000), undefined);
});
