/**
 * renderNftables() against upstream's TestOverallNFTablesRules (pkg/proxy/nftables/proxier_test.go), whose expected
 * `nft` commands are testdata/overall-nftables.txt; fixtures and conventions in testdata/overall.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nftScript, renderNftables, type NftRenderInput } from './render-nftables.ts';
import { NFTABLES_TEST_CONFIG, overallServicePorts, TEST_NODE_IP } from './testdata/overall.ts';

function overall(overrides: Partial<NftRenderInput> = {}) {
  return renderNftables({
    ...NFTABLES_TEST_CONFIG,
    servicePorts: overallServicePorts(),
    nodePortAddresses: [`${TEST_NODE_IP}/32`],
    nodeIPs: [TEST_NODE_IP],
    serviceCIDRs: ['172.30.0.0/16'],
    ...overrides,
  });
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .sort();

test("renderNftables() with the upstream layout writes exactly upstream's TestOverallNFTablesRules commands", () => {
  const upstream = readFileSync(join(import.meta.dirname, 'testdata', 'overall-nftables.txt'), 'utf8');
  assert.deepEqual(lines(nftScript(overall({ layout: 'upstream' }))), lines(upstream));
});

test('renderNftables() with the flat layout differs from upstream only in endpoint selection and hairpin', (t) => {
  const upstream = new Set(lines(readFileSync(join(import.meta.dirname, 'testdata', 'overall-nftables.txt'), 'utf8')));
  const flat = nftScript(overall());
  const extra = lines(flat).filter((l) => !upstream.has(l));
  const missing = [...upstream].filter((l) => !flat.includes(`${l}\n`));
  // Only service/local chains' endpoint picks, endpoint chains (kept for affinity) and the hairpin set differ.
  for (const l of [...extra, ...missing]) assert.match(l, /numgen|endpoint-|hairpin|dnat to/, l);
  assert.ok(
    extra.includes(
      'add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 numgen random mod 2 0 meta l4proto tcp dnat to 10.180.0.4:80',
    ),
  );
  assert.ok(
    extra.includes('add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 meta l4proto tcp dnat to 10.180.0.5:80'),
  );
  assert.ok(extra.includes('add element ip kube-proxy hairpin-endpoints { 10.180.0.4 . 10.180.0.4 }'));
  // Affinity keeps upstream's endpoint chains and sets.
  assert.ok(
    flat.includes(
      'add rule ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 update @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 { ip saddr }\n',
    ),
  );
  assert.ok(
    flat.includes(
      'add rule ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80 goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80\n',
    ),
  );
  t.assert.fileSnapshot(flat, join(import.meta.dirname, 'testdata', 'overall-flat.nft'), {
    serializers: [(s: unknown) => String(s)],
  });
});

test('renderNftables() with every local address for NodePorts uses fib and no nodeport-ips set', () => {
  const text = nftScript(overall({ nodePortAddresses: [], nodeIPs: [] }));
  assert.match(
    text,
    /^add rule ip kube-proxy services fib daddr type local ip daddr != 127\.0\.0\.0\/8 meta l4proto \. th dport vmap @service-nodeports$/m,
  );
  assert.match(
    text,
    /^add rule ip kube-proxy nodeport-endpoints-check ip daddr != 127\.0\.0\.0\/8 meta l4proto \. th dport vmap @no-endpoint-nodeports$/m,
  );
  assert.doesNotMatch(text, /nodeport-ips/);
});

test('renderNftables() masquerades all ClusterIP traffic with masqueradeAll', () => {
  const text = nftScript(overall({ masqueradeAll: true }));
  assert.match(
    text,
    /^add rule ip kube-proxy service-ULMVA6XW-ns1\/svc1\/tcp\/p80 ip daddr 172\.30\.0\.41 jump mark-for-masquerade$/m,
  );
});
