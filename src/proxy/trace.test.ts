/**
 * The tracer on what the kernel lists: `iptables-save -c` output and `nft list table ip kube-proxy` output (both
 * nftables layouts) of the lab's Service, captured from a network namespace by test/proxy/capture-trace-fixtures.ts.
 * Rendered rules are traced in packet-flow*.test.ts; the CLI in test/proxy/trace-cli.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTrace, ipInCidr, summarize, type TracePacket } from './trace.ts';
import { applyMark, traceIptables } from './trace-iptables.ts';
import { traceNftables } from './trace-nftables.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'testdata', name), 'utf8');
const VIP = '10.0.34.209';
const LISTINGS = {
  'iptables-save -c': { text: fixture('lab-nsvc.iptables-save'), trace: traceIptables },
  'nft list table (flat layout)': { text: fixture('lab-nsvc-flat.nft-list'), trace: traceNftables },
  'nft list table (upstream layout)': { text: fixture('lab-nsvc-upstream.nft-list'), trace: traceNftables },
};

const packet = (src: string): TracePacket => ({
  src,
  dst: VIP,
  dport: 2000,
  protocol: 'tcp',
  localIPs: ['192.168.242.10'],
});
const where = (outcomes: ReturnType<typeof summarize>) =>
  outcomes.map((o) => `${o.probability} ${o.result}${o.masquerade ? ' masq' : ''}`);

for (const [name, { text, trace }] of Object.entries(LISTINGS)) {
  test(`trace reads ${name}: both pods half each, masquerade off-cluster and hairpin`, () => {
    assert.deepEqual(where(summarize(trace(text, packet('172.17.0.3')))), ['0.5 172.17.0.2:80', '0.5 172.18.0.2:80']);
    assert.deepEqual(where(summarize(trace(text, packet('172.31.0.1')))), [
      '0.5 172.17.0.2:80 masq',
      '0.5 172.18.0.2:80 masq',
    ]);
    assert.deepEqual(where(summarize(trace(text, packet('172.17.0.2')))), [
      '0.5 172.17.0.2:80 masq',
      '0.5 172.18.0.2:80',
    ]);
    // Another port of the ClusterIP: iptables leaves it alone, nftables rejects it.
    const other = summarize(trace(text, { ...packet('172.17.0.3'), dport: 2001 }))[0]!.result;
    assert.equal(other, name.startsWith('iptables') ? 'ACCEPT' : 'REJECT');
  });
}

test('trace shows the counters iptables-save -c lists', () => {
  const [first] = traceIptables(LISTINGS['iptables-save -c'].text, packet('172.17.0.3'));
  assert.ok(first!.steps.some((s) => /KUBE-SERVICES: .*--dport 2000 -j KUBE-SVC-\w+ {2}\[4 packets\]$/.test(s)));
  assert.match(formatTrace([first!]), /^50\.0% → 172\.17\.0\.2:80\n {4}nat PREROUTING: /);
});

test("postrouting sees the endpoint, not the VIP: a host's own SNAT rule for off-pod-network traffic stays out", () => {
  // As tskube's flatnet writes on every node: pods' traffic leaving the pod network is masqueraded.
  const text = LISTINGS['iptables-save -c'].text.replace(
    /^(\[\d+:\d+\] -A POSTROUTING .*KUBE-POSTROUTING)$/m,
    '$1\n-A POSTROUTING -s 172.17.0.0/16 ! -d 172.16.0.0/14 -j MASQUERADE',
  );
  assert.notEqual(text, LISTINGS['iptables-save -c'].text);
  assert.deepEqual(where(summarize(traceIptables(text, packet('172.17.0.3')))), [
    '0.5 172.17.0.2:80',
    '0.5 172.18.0.2:80',
  ]);
});

test('applyMark: MARK as kube-proxy writes it and as iptables-save prints it', () => {
  assert.equal(applyMark(['-j', 'MARK', '--or-mark', '0x4000'], 0x1), 0x4001);
  assert.equal(applyMark(['-j', 'MARK', '--xor-mark', '0x4000'], 0x4001), 0x1);
  assert.equal(applyMark(['-j', 'MARK', '--set-xmark', '0x4000/0x4000'], 0x1), 0x4001, 'or-mark, saved');
  assert.equal(applyMark(['-j', 'MARK', '--set-xmark', '0x4000/0x0'], 0x4001), 0x1, 'xor-mark, saved');
  assert.equal(applyMark(['-j', 'MARK', '--set-mark', '0x2/0xf'], 0xff), 0xf2);
  assert.equal(applyMark(['-j', 'MARK', '--and-mark', '0xf'], 0xff), 0xf);
});

test('ipInCidr and summarize', () => {
  assert.ok(ipInCidr('10.1.2.3', '10.0.0.0/8'));
  assert.ok(!ipInCidr('11.1.2.3', '10.0.0.0/8'));
  assert.ok(ipInCidr('1.2.3.4', '0.0.0.0/0'));
  assert.ok(ipInCidr('1.2.3.4', '1.2.3.4'));
  const outcomes = [
    { probability: 0.25, result: 'b', masquerade: false, steps: [] },
    { probability: 0.25, result: 'a', masquerade: false, steps: [] },
    { probability: 0.5, result: 'b', masquerade: false, steps: [] },
  ];
  assert.deepEqual(
    summarize(outcomes).map((o) => [o.result, o.probability]),
    [
      ['a', 0.25],
      ['b', 0.75],
    ],
  );
});
