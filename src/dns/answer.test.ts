/**
 * Tests of the pure zone (zone.ts) and of answers from it (answer.ts).
 * Conventions: domain cluster.local, TTL 30 (kubeadm's Corefile), Service ClusterIPs 10.0.0.0/16, pod IPs
 * 172.16.0.0/12; `svc(...)` and `slice(...)` build the objects as the API server and endpoint controller write them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Answer } from 'dns-packet';
import type { Service, ServiceSpec } from 'kubernetes-types/core/v1.js';
import type { EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { answer, type Response } from './answer.ts';
import { buildZone, reverseName } from './zone.ts';

function svc(ns: string, name: string, spec: ServiceSpec): Service {
  return { metadata: { namespace: ns, name }, spec: { type: 'ClusterIP', ...spec } };
}

function slice(
  ns: string,
  service: string,
  endpoints: { ip: string; ready?: boolean; hostname?: string }[],
  ports: EndpointPort[] = [{ name: 'http', port: 80, protocol: 'TCP' }],
  name = `${service}-abc`,
): EndpointSlice {
  return {
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports,
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true },
      ...(e.hostname ? { hostname: e.hostname } : {}),
    })),
  };
}

const OPTIONS = { domain: 'cluster.local', ttl: 30, serial: 1700000000 };
/** text is a record as `TYPE data` (SRV: priority, weight, port, target). */
function text(a: Answer): string {
  if (a.type === 'SRV') return `SRV ${a.data.priority} ${a.data.weight} ${a.data.port} ${a.data.target}`;
  return 'data' in a ? `${a.type} ${a.data}` : a.type;
}
const data = (r: Response) => r.answers.map(text);

const nsvc = svc('default', 'nsvc', {
  clusterIP: '10.0.0.42',
  clusterIPs: ['10.0.0.42'],
  ports: [
    { name: 'http', port: 2000, protocol: 'TCP', targetPort: 80 },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ],
});
const web = svc('default', 'web', { clusterIP: 'None', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });
const zone = buildZone(
  [
    nsvc,
    web,
    svc('kube-system', 'kube-dns', { clusterIP: '10.0.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
    svc('default', 'ext', { type: 'ExternalName', externalName: 'nsvc.default.svc.cluster.local' }),
    svc('default', 'out', { type: 'ExternalName', externalName: 'example.org' }),
  ],
  [
    slice('default', 'nsvc', [{ ip: '172.16.0.5' }]),
    slice('default', 'web', [
      { ip: '172.17.0.3', hostname: 'web-0' },
      { ip: '172.16.0.2' },
      { ip: '172.16.0.9', ready: false },
    ]),
  ],
  OPTIONS,
);

test("answer() gives a ClusterIP Service's A record by its FQDN, in the question's case, with the zone TTL", () => {
  const r = answer(zone, 'NSVC.default.svc.cluster.local.', 'A');
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.authoritative, true);
  assert.deepEqual(data(r), ['A 10.0.0.42']);
  assert.equal(r.answers[0]!.name, 'NSVC.default.svc.cluster.local');
  const first = r.answers[0]!;
  assert.equal('ttl' in first && first.ttl, 30);
});

test('answer() gives NODATA with the SOA for a type the name does not have (AAAA of an IPv4 Service)', () => {
  const r = answer(zone, 'nsvc.default.svc.cluster.local', 'AAAA');
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(r.answers, []);
  assert.equal(r.authorities[0]!.type, 'SOA');
});

test("answer() gives NXDOMAIN with CoreDNS's SOA for a missing name in the cluster zone", () => {
  const r = answer(zone, 'missing.default.svc.cluster.local', 'A');
  assert.equal(r.rcode, 'NXDOMAIN');
  assert.deepEqual(r.authorities[0], {
    name: 'cluster.local',
    type: 'SOA',
    ttl: 30,
    class: 'IN',
    data: {
      mname: 'ns.dns.cluster.local',
      rname: 'hostmaster.cluster.local',
      serial: 1700000000,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: 30,
    },
  });
  // What a pod's search path tries first for an outside name is NXDOMAIN too, never forwarded.
  assert.equal(answer(zone, 'www.example.org.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
});

test('answer() treats names above existing records as existing (NODATA), and answers the apex SOA and NS', () => {
  assert.equal(answer(zone, 'default.svc.cluster.local', 'A').rcode, 'NOERROR');
  assert.equal(answer(zone, 'svc.cluster.local', 'A').rcode, 'NOERROR');
  assert.deepEqual(data(answer(zone, 'cluster.local', 'NS')), ['NS ns.dns.cluster.local']);
  assert.equal(answer(zone, 'cluster.local', 'SOA').answers[0]!.type, 'SOA');
  assert.deepEqual(data(answer(zone, 'ns.dns.cluster.local', 'A')), ['A 10.0.0.10']);
  assert.deepEqual(data(answer(zone, 'dns-version.cluster.local', 'TXT')), ['TXT 1.1.0']);
});

test("answer() gives SRV records for named ports, by port and for the whole Service, with the targets' addresses", () => {
  const one = answer(zone, '_http._tcp.nsvc.default.svc.cluster.local', 'SRV');
  assert.deepEqual(data(one), ['SRV 0 100 2000 nsvc.default.svc.cluster.local']);
  assert.deepEqual(
    one.additionals.map((a) => `${a.name} ${'data' in a ? a.data : ''}`),
    ['nsvc.default.svc.cluster.local 10.0.0.42'],
  );
  assert.deepEqual(data(answer(zone, '_dns._udp.nsvc.default.svc.cluster.local', 'SRV')), [
    'SRV 0 100 53 nsvc.default.svc.cluster.local',
  ]);
  assert.deepEqual(data(answer(zone, 'nsvc.default.svc.cluster.local', 'SRV')), [
    'SRV 0 50 2000 nsvc.default.svc.cluster.local',
    'SRV 0 50 53 nsvc.default.svc.cluster.local',
  ]);
  assert.equal(answer(zone, '_http._udp.nsvc.default.svc.cluster.local', 'SRV').rcode, 'NXDOMAIN');
});

test("answer() gives a headless Service's ready endpoints, each by hostname or dashed IP, and SRV to them", () => {
  assert.deepEqual(data(answer(zone, 'web.default.svc.cluster.local', 'A')), ['A 172.16.0.2', 'A 172.17.0.3']);
  assert.deepEqual(data(answer(zone, 'web-0.web.default.svc.cluster.local', 'A')), ['A 172.17.0.3']);
  assert.deepEqual(data(answer(zone, '172-16-0-2.web.default.svc.cluster.local', 'A')), ['A 172.16.0.2']);
  assert.equal(answer(zone, '172-16-0-9.web.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
  assert.deepEqual(data(answer(zone, '_http._tcp.web.default.svc.cluster.local', 'SRV')), [
    'SRV 0 50 80 172-16-0-2.web.default.svc.cluster.local',
    'SRV 0 50 80 web-0.web.default.svc.cluster.local',
  ]);
});

test('buildZone() publishes not-ready endpoints of a headless Service with publishNotReadyAddresses', () => {
  const z = buildZone(
    [svc('default', 'web', { clusterIP: 'None', publishNotReadyAddresses: true })],
    [slice('default', 'web', [{ ip: '172.16.0.9', ready: false }])],
    OPTIONS,
  );
  assert.deepEqual(data(answer(z, 'web.default.svc.cluster.local', 'A')), ['A 172.16.0.9']);
});

test('buildZone() leaves out a headless Service without ready endpoints (NXDOMAIN, as CoreDNS answers)', () => {
  const z = buildZone([web], [slice('default', 'web', [{ ip: '172.16.0.9', ready: false }])], OPTIONS);
  assert.equal(answer(z, 'web.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
});

test("buildZone() merges a headless Service's endpoints across its slices, without duplicates", () => {
  const z = buildZone(
    [web],
    [
      slice('default', 'web', [{ ip: '172.16.0.2' }], undefined, 'web-a'),
      slice('default', 'web', [{ ip: '172.16.0.3' }, { ip: '172.16.0.2' }], undefined, 'web-b'),
    ],
    OPTIONS,
  );
  assert.deepEqual(data(answer(z, 'web.default.svc.cluster.local', 'A')), ['A 172.16.0.2', 'A 172.16.0.3']);
});

test('answer() follows an ExternalName CNAME inside the zone, and hands an outside target to the server', () => {
  assert.deepEqual(data(answer(zone, 'ext.default.svc.cluster.local', 'A')), [
    'CNAME nsvc.default.svc.cluster.local',
    'A 10.0.0.42',
  ]);
  const out = answer(zone, 'out.default.svc.cluster.local', 'A');
  assert.deepEqual(data(out), ['CNAME example.org']);
  assert.deepEqual(out.chase, { name: 'example.org', type: 'A' });
  assert.deepEqual(data(answer(zone, 'out.default.svc.cluster.local', 'CNAME')), ['CNAME example.org']);
});

test('answer() gives PTR records for Service IPs and endpoint IPs, and forwards unknown reverse names', () => {
  assert.equal(reverseName('10.0.0.42'), '42.0.0.10.in-addr.arpa');
  assert.deepEqual(data(answer(zone, '42.0.0.10.in-addr.arpa', 'PTR')), ['PTR nsvc.default.svc.cluster.local']);
  assert.deepEqual(data(answer(zone, '3.0.17.172.in-addr.arpa', 'PTR')), ['PTR web-0.web.default.svc.cluster.local']);
  assert.deepEqual(data(answer(zone, '5.0.16.172.in-addr.arpa', 'PTR')), [
    'PTR 172-16-0-5.nsvc.default.svc.cluster.local',
  ]);
  assert.equal(answer(zone, '1.1.168.192.in-addr.arpa', 'PTR').forward, true);
  assert.equal(reverseName('fd00::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa');
});

test('answer() gives pod records from the dashed IP in the name (pods insecure)', () => {
  assert.deepEqual(data(answer(zone, '172-16-0-7.default.pod.cluster.local', 'A')), ['A 172.16.0.7']);
  assert.equal(answer(zone, '172-16-0-300.default.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
});

test('answer() forwards names outside the cluster domain', () => {
  const r = answer(zone, 'example.org', 'A');
  assert.equal(r.forward, true);
  assert.equal(answer(zone, 'notcluster.local', 'A').forward, true);
});

test('buildZone() is pure: the same objects in any order give the same zone', () => {
  const services = [nsvc, web];
  const slices = [slice('default', 'nsvc', [{ ip: '172.16.0.5' }]), slice('default', 'web', [{ ip: '172.16.0.2' }])];
  const a = buildZone(services, slices, OPTIONS);
  const b = buildZone([...services].reverse(), [...slices].reverse(), OPTIONS);
  assert.deepEqual([...a.names].sort(), [...b.names].sort());
  assert.deepEqual([...a.reverse].sort(), [...b.reverse].sort());
});
