/**
 * `tskube dns` against a real API server, on loopback (no root): Services and EndpointSlices written through the API
 * show up in answers (and go away), /ready, /health and /metrics answer. EndpointSlices are written by the test, as
 * the endpoint controller would (no controller manager runs here).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import * as packet from 'dns-packet';
import type { Answer, DecodedPacket, RecordType } from 'dns-packet';
import { startApiServer, type TestApiServer } from '../support/apiserver.ts';
import { TSKUBE, freePort, startProcess, type StartedProcess } from '../support/processes.ts';
import { waitFor } from '../../src/util/wait.ts';
import type { Resource } from '../../src/client/client.ts';

let api: TestApiServer;
let dns: StartedProcess;
let dnsPort: number;
let readyPort: number;
let metricsPort: number;

before(async () => {
  api = await startApiServer();
  [dnsPort, readyPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const health = await freePort();
  dns = startProcess(
    [
      TSKUBE,
      'dns',
      `--kubeconfig=${api.kubeconfig}`,
      '--dns-bind-address=127.0.0.1',
      `--dns-port=${dnsPort}`,
      `--health-address=127.0.0.1:${health}`,
      `--ready-address=127.0.0.1:${readyPort}`,
      `--metrics-address=127.0.0.1:${metricsPort}`,
      '--resolv-conf=',
      '--ttl=30',
    ],
    { logFile: `${api.dir}/dns.log` },
  );
  await waitFor(
    'tskube dns to be ready',
    async () => (await fetch(`http://127.0.0.1:${readyPort}/ready`).catch(() => undefined))?.ok,
    { timeoutMs: 30_000 },
  );
});

after(async () => {
  await dns?.stop();
  await api?.stop();
});

/** Reply is a decoded answer with its rcode (dns-packet decodes it; its types leave it out). */
type Reply = DecodedPacket & { rcode?: string; answers: Answer[] };

function ask(name: string, type: RecordType = 'A'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no answer for ${name}`));
    }, 3000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      const reply = packet.decode(m) as Reply;
      resolve({ ...reply, answers: reply.answers ?? [] });
    });
    s.send(
      packet.encode({
        type: 'query',
        id: 1,
        flags: packet.RECURSION_DESIRED,
        questions: [{ name, type, class: 'IN' }],
      }),
      dnsPort,
      '127.0.0.1',
    );
  });
}

/** data is an answer's data (an address, a name, an SRV record). */
const data = (a: Answer | undefined) => (a && 'data' in a ? a.data : undefined);
const ips = (r: Reply) => r.answers.map((a) => String(data(a))).sort();
const services = () => api.client.resource('services') as Resource<any>;
const slices = () => api.client.resource('endpointslices', 'discovery.k8s.io') as Resource<any>;

test('a created Service resolves, and stops resolving once deleted', async () => {
  const svc = await api.client.create(services(), 'default', {
    metadata: { name: 'nsvc' },
    spec: { ports: [{ name: 'http', port: 2000, targetPort: 80 }] },
  });
  const r = await waitFor('nsvc to resolve', async () =>
    (await ask('nsvc.default.svc.cluster.local')).rcode === 'NOERROR'
      ? ask('nsvc.default.svc.cluster.local')
      : undefined,
  );
  assert.deepEqual(ips(r), [svc.spec.clusterIP]);
  const first = r.answers[0]!;
  assert.equal('ttl' in first && first.ttl, 30);
  const srv = await ask('_http._tcp.nsvc.default.svc.cluster.local', 'SRV');
  assert.deepEqual(
    srv.answers.map((a) => (a.type === 'SRV' ? [a.data.port, a.data.target] : [])),
    [[2000, 'nsvc.default.svc.cluster.local']],
  );
  await api.client.delete(services(), 'default', 'nsvc');
  await waitFor(
    'nsvc to stop resolving',
    async () => (await ask('nsvc.default.svc.cluster.local')).rcode === 'NXDOMAIN',
  );
});

test('a headless Service answers its ready endpoints and follows their readiness', async () => {
  await api.client.create(services(), 'default', {
    metadata: { name: 'web' },
    spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] },
  });
  const slice = await api.client.create(slices(), 'default', {
    metadata: { name: 'web-x1', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['172.16.0.2'], conditions: { ready: true } },
      { addresses: ['172.16.1.2'], conditions: { ready: true }, hostname: 'web-1' },
    ],
  });
  await waitFor('both endpoints', async () => ips(await ask('web.default.svc.cluster.local')).length === 2);
  assert.deepEqual(ips(await ask('web-1.web.default.svc.cluster.local')), ['172.16.1.2']);
  slice.endpoints[0].conditions.ready = false;
  await api.client.update(slices(), slice);
  await waitFor(
    'the not-ready endpoint to leave',
    async () => ips(await ask('web.default.svc.cluster.local')).join() === '172.16.1.2',
  );
});

test('an ExternalName Service answers a CNAME and follows changes of externalName', async () => {
  const svc = await api.client.create(services(), 'default', {
    metadata: { name: 'ext' },
    spec: { type: 'ExternalName', externalName: 'one.example.org' },
  });
  await waitFor(
    'the CNAME',
    async () => data((await ask('ext.default.svc.cluster.local', 'CNAME')).answers[0]) === 'one.example.org',
  );
  await api.client.update(services(), { ...svc, spec: { ...svc.spec, externalName: 'two.example.org' } });
  await waitFor(
    'the new CNAME',
    async () => data((await ask('ext.default.svc.cluster.local', 'CNAME')).answers[0]) === 'two.example.org',
  );
});

test("tskube dns serves CoreDNS's metrics", async () => {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  assert.match(
    text,
    /coredns_dns_requests_total\{server="dns:\/\/127\.0\.0\.1:\d+",zone="\.",view="",proto="udp",family="1",type="A"\} [1-9]/,
  );
  assert.match(text, /coredns_dns_responses_total\{.*rcode="NXDOMAIN",plugin="kubernetes"\} [1-9]/);
});
