/**
 * Cluster DNS on a `tskube up` cluster ("tkd", LAN 192.168.234.0/24), asked from pods as users do: the busybox
 * image's wget and nslookup through `kubectl exec`, and dig (UDP and TCP) inside a pod's network namespace.
 * Fixtures: nginx pods "app=web" behind nsvc (port http 2000 → 80) and two busybox httpd pods "hs-0", "hs-1"
 * (hostname + subdomain "hs", readiness on /ready) behind the headless Service hs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { RestClient } from '../../src/client/rest-client.ts';
import { run } from '../../src/sys/run.ts';
import { kubectl, kubectlAvailable } from '../support/kubectl.ts';
import { NOT_ROOT } from '../support/netns.ts';
import { waitFor } from '../../src/util/wait.ts';
import { type TestCluster, upCluster } from '../support/cluster.ts';
import type { Resource } from '../../src/client/client.ts';

const NAME = 'tkd';
const FQDN = 'nsvc.default.svc.cluster.local';

describe('cluster DNS', { skip: NOT_ROOT || (!kubectlAvailable('1.33') && 'kubectl 1.33 is not installed') }, () => {
  let cluster: TestCluster | undefined;
  let stateDir: string;
  let cache: string;
  let client: RestClient;
  let clientNetns: string;
  const exec = (pod: string, ...command: string[]) =>
    kubectl('1.33', join(stateDir, 'admin.conf'), cache, ['exec', pod, '--', ...command]);
  /** dig asks the cluster DNS Service from inside the client pod's network namespace. */
  const dig = async (...args: string[]) =>
    (
      await run(
        [
          'nsenter',
          `--net=/run/netns/${clientNetns}`,
          '--',
          'dig',
          '+short',
          '+time=2',
          '+tries=1',
          '@10.0.0.10',
          ...args,
        ],
        { timeoutMs: 10_000 },
      ).catch(() => ({ stdout: '' }))
    ).stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .sort();
  const services = () => client.resource('services') as Resource<any>;
  const pods = () => client.resource('pods') as Resource<any>;

  before(async () => {
    cluster = await upCluster({ name: NAME, lanCidr: '192.168.234.0/24', upTimeoutMs: 240_000 });
    ({ stateDir, cache, client } = cluster);
    for (const i of [0, 1]) {
      await client.create(pods(), 'default', {
        metadata: { name: `web-${i}`, labels: { app: 'web' } },
        spec: { containers: [{ name: 'nginx', image: 'nginx:1.7.9', ports: [{ containerPort: 80 }] }] },
      });
      await client.create(pods(), 'default', {
        metadata: { name: `hs-${i}`, labels: { app: 'hs' } },
        spec: {
          hostname: `hs-${i}`,
          subdomain: 'hs',
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'httpd',
              image: 'busybox',
              command: [
                'sh',
                '-c',
                'mkdir -p /tmp/$HOSTNAME && echo ok > /tmp/$HOSTNAME/ready && exec httpd -f -p 8080 -h /tmp/$HOSTNAME',
              ],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
            },
          ],
        },
      });
    }
    await client.create(services(), 'default', {
      metadata: { name: 'nsvc' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 2000, targetPort: 80 }] },
    });
    await client.create(services(), 'default', {
      metadata: { name: 'hs' },
      spec: { clusterIP: 'None', selector: { app: 'hs' }, ports: [{ name: 'http', port: 8080 }] },
    });
    await client.create(pods(), 'default', {
      metadata: { name: 'bb' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'bb', image: 'busybox', command: ['sh', '-c', 'sleep 3600'] }],
      },
    });
    await client.create(pods(), 'default', {
      metadata: { name: 'custom-dns' },
      spec: {
        terminationGracePeriodSeconds: 1,
        dnsPolicy: 'None',
        dnsConfig: {
          nameservers: ['10.0.0.10'],
          searches: ['svc.cluster.local'],
          options: [{ name: 'ndots', value: '2' }],
        },
        containers: [{ name: 'bb', image: 'busybox', command: ['sh', '-c', 'sleep 3600'] }],
      },
    });
    const bb = await waitFor(
      'the client pod',
      async () => {
        const p = await client.get(pods(), 'default', 'bb');
        return p.status?.phase === 'Running' ? p : undefined;
      },
      { timeoutMs: 60_000 },
    );
    clientNetns = `${NAME}-${bb.spec.nodeName}-${bb.metadata.uid.replace(/-/g, '').slice(0, 12)}`;
    await waitFor(
      'every pod ready',
      async () =>
        ((await client.list(pods(), { namespace: 'default' })).items as any[]).every((p) =>
          p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
        ),
      { timeoutMs: 60_000 },
    );
  });

  after(async () => {
    await cluster?.down();
  });

  test('the DNS add-on is deployed as kubeadm deploys CoreDNS', async () => {
    const svc = await client.get(services(), 'kube-system', 'kube-dns');
    assert.equal(svc.spec.clusterIP, '10.0.0.10');
    assert.deepEqual(
      svc.spec.ports.map((p: any) => `${p.name}:${p.port}/${p.protocol}`),
      ['dns:53/UDP', 'dns-tcp:53/TCP', 'metrics:9153/TCP'],
    );
    const deploy = await client.get(client.resource('deployments', 'apps') as Resource<any>, 'kube-system', 'coredns');
    assert.equal(deploy.status.readyReplicas, 2);
    const resolv = await exec('bb', 'cat', '/etc/resolv.conf');
    assert.match(
      resolv.stdout,
      /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local.*\nnameserver 10\.0\.0\.10\noptions ndots:5\n$/,
    );
  });

  test("dnsPolicy None takes the pod's dnsConfig alone", async () => {
    assert.equal(
      (await exec('custom-dns', 'cat', '/etc/resolv.conf')).stdout,
      'search svc.cluster.local\nnameserver 10.0.0.10\noptions ndots:2\n',
    );
  });

  test('a dnsPolicy None pod resolves nsvc.default through its own search list', async () => {
    // The first fetch of nsvc in this file: the pods are Ready, but kube-proxy on custom-dns's node may not have
    // programmed nsvc yet. A SYN sent before that leaves the node un-DNATed, and its conntrack entry then carries
    // every retransmit the same way even after the rules are in (as upstream, kube-proxy clears no TCP entries), so
    // an unbounded wget blocks in connect() for about two minutes (tcp_syn_retries) and the retries below never
    // ran: this was TODO(#14), "no page for 30 s" (the kubectl helper killed at 30 s: no output at all). Seen with
    // strace (wget in connect() to the right VIP), ss (SYN-SENT) and conntrack (SYN_SENT, UNREPLIED, reply tuple
    // from the node's LAN address: no DNAT); DNS had answered at once. So each attempt is bounded in the pod with
    // busybox's own `timeout` (its wget has no usable -T, see below), and the next one starts a new connection.
    let last = '';
    await waitFor(
      'nsvc.default from the custom-dns pod',
      async () => {
        const r = await exec('custom-dns', 'timeout', '3', 'wget', '-qO-', 'http://nsvc.default:2000/');
        last = `exit ${r.code}: ${r.stderr.trim()}`;
        return /Welcome to nginx!/.test(r.stdout);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    ).catch((error) => {
      throw new Error(`${error.message}; last wget: ${last}`);
    });
  });

  test('a pod fetches a Service by short name, namespace-qualified name and FQDN', async () => {
    for (const host of ['nsvc', 'nsvc.default', FQDN]) {
      // Bounded by busybox's timeout (wget's own -T crashes in Debian's busybox-static 1.35): a hang fails fast.
      const r = await exec('bb', 'timeout', '5', 'wget', '-qO-', `http://${host}:2000/`);
      assert.match(r.stdout, /Welcome to nginx!/, `wget http://${host}:2000/: ${r.stderr}`);
    }
  });

  test("SRV and PTR answers, from busybox's nslookup", async () => {
    const srv = await exec('bb', 'nslookup', '-type=srv', `_http._tcp.${FQDN}`);
    assert.match(
      srv.stdout,
      new RegExp(`_http\\._tcp\\.${FQDN.replace(/\./g, '\\.')}\\s+service = 0 100 2000 ${FQDN.replace(/\./g, '\\.')}`),
    );
    const vip = (await client.get(services(), 'default', 'nsvc')).spec.clusterIP;
    const ptr = await exec('bb', 'nslookup', vip);
    assert.match(ptr.stdout, new RegExp(`name = ${FQDN.replace(/\./g, '\\.')}`));
    const web0 = await client.get(pods(), 'default', 'web-0');
    assert.deepEqual(await dig('-x', web0.status.podIP), [`${web0.status.podIP.replace(/\./g, '-')}.${FQDN}.`]);
  });

  test('a headless Service answers both pods, follows their readiness, and names them by hostname.subdomain', async () => {
    const ips = await Promise.all(
      ['hs-0', 'hs-1'].map(async (n) => (await client.get(pods(), 'default', n)).status.podIP),
    );
    await waitFor(
      'both hs pods',
      async () => (await dig('hs.default.svc.cluster.local')).join() === [...ips].sort().join(),
      { timeoutMs: 30_000 },
    );
    assert.deepEqual(await dig('hs-1.hs.default.svc.cluster.local'), [ips[1]]);
    // A pod reaches another behind the same headless Service as hostname.subdomain (its search path does the rest).
    assert.equal((await exec('bb', 'wget', '-qO-', 'http://hs-0.hs:8080/ready')).stdout, 'ok\n');
    await exec('hs-0', 'sh', '-c', 'rm /tmp/$HOSTNAME/ready');
    await waitFor(
      'hs-0 to leave the answer',
      async () => (await dig('hs.default.svc.cluster.local')).join() === ips[1],
      { timeoutMs: 30_000 },
    );
    await exec('hs-0', 'sh', '-c', 'echo ok > /tmp/$HOSTNAME/ready');
    await waitFor('hs-0 to come back', async () => (await dig('hs.default.svc.cluster.local')).length === 2, {
      timeoutMs: 30_000,
    });
  });

  test('an ExternalName Service answers a CNAME and follows changes of externalName', async () => {
    const ext = await client.create(services(), 'default', {
      metadata: { name: 'ext' },
      spec: { type: 'ExternalName', externalName: FQDN },
    });
    const vip = (await client.get(services(), 'default', 'nsvc')).spec.clusterIP;
    await waitFor(
      'the CNAME and its address',
      async () => (await dig('ext.default.svc.cluster.local')).join() === [`${FQDN}.`, vip].sort().join(),
      { timeoutMs: 20_000 },
    );
    await client.update(services(), { ...ext, spec: { ...ext.spec, externalName: 'hs.default.svc.cluster.local' } });
    await waitFor(
      'the new CNAME',
      async () => (await dig('ext.default.svc.cluster.local', 'CNAME')).join() === 'hs.default.svc.cluster.local.',
      { timeoutMs: 20_000 },
    );
  });

  test('a new Service resolves soon after creation, and a deleted one stops resolving', async () => {
    const svc = await client.create(services(), 'default', {
      metadata: { name: 'fresh' },
      spec: { ports: [{ port: 80 }] },
    });
    await waitFor(
      'fresh to resolve',
      async () => (await dig('fresh.default.svc.cluster.local')).join() === svc.spec.clusterIP,
      { timeoutMs: 10_000 },
    );
    await client.delete(services(), 'default', 'fresh');
    await waitFor('fresh to stop resolving', async () => (await dig('fresh.default.svc.cluster.local')).length === 0, {
      timeoutMs: 10_000,
    });
  });

  test('the cluster DNS answers over UDP and TCP through its Service', async () => {
    const vip = (await client.get(services(), 'default', 'nsvc')).spec.clusterIP;
    assert.deepEqual(await dig('+notcp', FQDN), [vip]);
    assert.deepEqual(await dig('+tcp', FQDN), [vip]);
  });
});
