/**
 * Tests of pods' DNS settings per dnsPolicy. Conventions: cluster DNS 10.0.0.10, domain cluster.local, the node's
 * resolv.conf has nameserver 192.168.1.1, search lab.example, options edns0; pods in namespace "web".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodSpec } from 'kubernetes-types/core/v1.js';
import { parseResolvConf, podDnsConfig, resolvConfText } from './resolv-conf.ts';

const host = parseResolvConf('# from DHCP\nnameserver 192.168.1.1\nsearch lab.example.\noptions edns0\n');
const settings = { clusterDNS: ['10.0.0.10'], clusterDomain: 'cluster.local', host };
type Spec = Partial<PodSpec>;
const pod = (spec: Spec = {}) => ({
  metadata: { namespace: 'web', name: 'p', uid: 'u1' },
  spec: { containers: [], ...spec },
});
const text = (spec: Spec = {}, s = settings) => resolvConfText(podDnsConfig(pod(spec), s).config);

test("podDnsConfig() gives ClusterFirst pods the cluster DNS, the cluster search path then the node's, and ndots:5", () => {
  assert.equal(
    text(),
    'search web.svc.cluster.local svc.cluster.local cluster.local lab.example\nnameserver 10.0.0.10\noptions ndots:5\n',
  );
  assert.equal(text({ dnsPolicy: 'ClusterFirst' }), text());
});

test("podDnsConfig() gives Default pods, and ClusterFirst pods on the host network, the node's resolv.conf", () => {
  const node = 'search lab.example\nnameserver 192.168.1.1\noptions edns0\n';
  assert.equal(text({ dnsPolicy: 'Default' }), node);
  assert.equal(text({ dnsPolicy: 'ClusterFirst', hostNetwork: true }), node);
});

test('podDnsConfig() gives ClusterFirstWithHostNet pods the cluster DNS even on the host network', () => {
  assert.equal(text({ dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true }), text());
});

test('podDnsConfig() gives None pods only their dnsConfig', () => {
  const spec = {
    dnsPolicy: 'None',
    dnsConfig: {
      nameservers: ['1.2.3.4'],
      searches: ['ns1.svc.cluster-domain.example', 'my.dns.search.suffix'],
      options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
    },
  };
  assert.equal(
    text(spec),
    'search ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 1.2.3.4\noptions ndots:2 edns0\n',
  );
});

test("podDnsConfig() appends a ClusterFirst pod's dnsConfig: duplicates dropped, options overridden by name", () => {
  const spec = {
    dnsConfig: {
      nameservers: ['10.0.0.10', '9.9.9.9'],
      searches: ['svc.cluster.local', 'extra.example'],
      options: [{ name: 'ndots', value: '1' }],
    },
  };
  assert.equal(
    text(spec),
    'search web.svc.cluster.local svc.cluster.local cluster.local lab.example extra.example\nnameserver 10.0.0.10\nnameserver 9.9.9.9\noptions ndots:1\n',
  );
});

test("podDnsConfig() falls back to Default with upstream's MissingClusterDNS warning when the kubelet has no cluster DNS", () => {
  const result = podDnsConfig(pod(), { ...settings, clusterDNS: [] });
  assert.deepEqual(result.config.servers, ['192.168.1.1']);
  assert.equal(result.warning?.reason, 'MissingClusterDNS');
  assert.match(
    result.warning!.message,
    /kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy./,
  );
});

test('podDnsConfig() keeps at most 3 nameservers', () => {
  const spec = { dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'] } };
  assert.deepEqual(podDnsConfig(pod(spec), settings).config.servers, ['1.1.1.1', '2.2.2.2', '3.3.3.3']);
});
