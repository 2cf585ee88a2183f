/**
 * Three `tskube apiserver` processes on one real etcd: 3,000 Service creates at once, spread round-robin over them,
 * one in three of type NodePort, and one of the servers killed with SIGKILL a third of the way through. Every
 * acknowledged create must be stored with the ClusterIP and NodePort it was answered with; all ClusterIPs and all
 * NodePorts are distinct; every ClusterIP has its IPAddress object (networking.k8s.io/v1) and kubectl lists them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type TestApiServer } from '../support/apiserver.ts';
import { etcdAvailable, startEtcd } from '../support/etcd.ts';
import { kubectl, kubectlAvailable } from '../support/kubectl.ts';
import type { Resource } from '../../src/client/client.ts';

const TOTAL = 3000;
const KILL_AFTER = 1000;

interface Answer {
  code: number;
  body: any;
}

function post(agent: http.Agent, url: string, path: string, object: unknown): Promise<Answer> {
  const u = new URL(url);
  const text = JSON.stringify(object);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path,
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString();
          resolve({ code: res.statusCode ?? 0, body: raw ? JSON.parse(raw) : undefined });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

describe('three API servers on one etcd', {
  skip: !etcdAvailable() && 'needs /usr/bin/etcd (Debian etcd-server)',
}, () => {
  let etcd: Awaited<ReturnType<typeof startEtcd>>;
  const servers: TestApiServer[] = [];
  before(async () => {
    etcd = await startEtcd();
    for (let i = 0; i < 3; i++)
      servers.push(await startApiServer({ etcdServers: [etcd.endpoint], serviceClusterIpRange: '10.96.0.0/16' }));
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await etcd?.stop();
  });

  test(`${TOTAL} concurrent Service creates: distinct ClusterIPs and NodePorts, no acknowledged write lost to a kill -9`, async (t) => {
    const agents = servers.map(() => new http.Agent({ keepAlive: true, maxSockets: 32 }));
    const acknowledged: any[] = [];
    let refused = 0;
    let failed = 0;
    let killed: Promise<void> | undefined;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: TOTAL }, async (_, i) => {
        const which = i % 3;
        const spec = i % 3 === 0 ? { type: 'NodePort', ports: [{ port: 80 }] } : { ports: [{ port: 80 }] };
        try {
          const answer = await post(agents[which]!, servers[which]!.url, '/api/v1/namespaces/default/services', {
            metadata: { name: `s${i}` },
            spec,
          });
          if (answer.code === 201) acknowledged.push(answer.body);
          else refused++;
          if (acknowledged.length === KILL_AFTER && !killed) killed = servers[2]!.process.stop('SIGKILL');
        } catch {
          failed++; // the killed server's connections
        }
      }),
    );
    await killed;
    t.diagnostic(
      `${acknowledged.length} acknowledged, ${refused} refused, ${failed} cut by the kill, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    assert.equal(refused, 0, 'no create refused (a 409 or 422 would mean a double allocation was caught late)');
    assert.ok(acknowledged.length >= (TOTAL * 2) / 3, `${acknowledged.length} acknowledged`);
    const list = await servers[0]!.client.list(servers[0]!.client.resource('services') as Resource<any>, {
      namespace: 'default',
    });
    const stored = new Map<string, any>(list.items.map((s: any) => [s.metadata.name, s]));
    for (const a of acknowledged) {
      const s = stored.get(a.metadata.name);
      assert.ok(s, `acknowledged ${a.metadata.name} is stored`);
      assert.equal(s.spec.clusterIP, a.spec.clusterIP);
      assert.deepEqual(
        s.spec.ports.map((p: any) => p.nodePort),
        a.spec.ports.map((p: any) => p.nodePort),
      );
    }
    const ips = list.items.map((s: any) => s.spec.clusterIP);
    assert.equal(new Set(ips).size, ips.length, 'every ClusterIP distinct');
    const ports = list.items.flatMap((s: any) => s.spec.ports.map((p: any) => p.nodePort).filter(Boolean));
    assert.equal(new Set(ports).size, ports.length, 'every NodePort distinct');
    assert.ok(ports.length >= acknowledged.filter((a) => a.spec.type === 'NodePort').length);
    const addresses = await servers[0]!.client.list(
      servers[0]!.client.resource('ipaddresses', 'networking.k8s.io') as Resource<any>,
    );
    const byIp = new Map<string, any>(addresses.items.map((a: any) => [a.metadata.name, a]));
    for (const s of list.items) {
      const a = byIp.get(s.spec.clusterIP);
      assert.ok(a, `IPAddress ${s.spec.clusterIP} of ${s.metadata.name}`);
      assert.deepEqual(a.spec.parentRef, {
        group: '',
        resource: 'services',
        namespace: 'default',
        name: s.metadata.name,
      });
    }
    for (const a of agents) a.destroy();
  });

  test('the killed server comes back, its repair keeps every allocation, and a delete releases the IPAddress', async () => {
    await servers[2]!.restart();
    const client = servers[2]!.client;
    const created = await client.create(client.resource('services') as Resource<any>, 'default', {
      metadata: { name: 'after-restart' },
      spec: { ports: [{ port: 80 }] },
    });
    const ip = created.spec.clusterIP;
    await client.get(client.resource('ipaddresses', 'networking.k8s.io') as Resource<any>, undefined, ip);
    await servers[0]!.client.delete(client.resource('services') as Resource<any>, 'default', 'after-restart');
    await assert.rejects(
      client.get(client.resource('ipaddresses', 'networking.k8s.io') as Resource<any>, undefined, ip),
      /not found/,
    );
  });

  test('kubectl get servicecidrs,ipaddresses lists the default ServiceCIDR and the IPAddresses', {
    skip: !kubectlAvailable('1.33') && 'kubectl 1.33 is not installed',
  }, async () => {
    const cache = await mkdtemp(join(tmpdir(), 'tskube-kubectl-'));
    try {
      const out = await kubectl('1.33', servers[0]!.kubeconfig, cache, ['get', 'servicecidrs,ipaddresses']);
      assert.match(out.stdout, /servicecidr\.networking\.k8s\.io\/kubernetes\s+10\.96\.0\.0\/16/);
      assert.match(out.stdout, /ipaddress\.networking\.k8s\.io\/10\.96\.0\.1\s+services\/default\/kubernetes/);
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });
});
