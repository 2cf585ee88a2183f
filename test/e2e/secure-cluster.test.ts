/**
 * A default `tskube up` cluster is secure ("tsec", LAN 192.168.238.0/24): credentials are root's files, the API server
 * serves only TLS and refuses anonymous writes, an unprivileged local user cannot create pods, and kubelets refuse
 * exec and logs to callers without credentials or rights, while the admin's kubectl logs and exec work.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadKubeconfig } from '../../src/client/kubeconfig.ts';
import type { RestClient } from '../../src/client/rest-client.ts';
import { run } from '../../src/sys/run.ts';
import { kubectl, kubectlAvailable } from '../support/kubectl.ts';
import { NOT_ROOT } from '../support/netns.ts';
import { waitFor } from '../../src/util/wait.ts';
import { type TestCluster, upCluster } from '../support/cluster.ts';
import type { Resource } from '../../src/client/client.ts';

const NAME = 'tsec';
const CP = '192.168.238.1';
const NODEA = '192.168.238.10';

describe('a default tskube up cluster is secure', {
  skip: NOT_ROOT || (!kubectlAvailable('1.33') && 'kubectl 1.33 is not installed'),
}, () => {
  let cluster: TestCluster | undefined;
  let stateDir: string;
  let cache: string;
  let client: RestClient;
  const admin = () => join(stateDir, 'admin.conf');
  /** asNobody runs curl as the unprivileged user nobody, from the root namespace (the machine's other users). */
  const asNobody = (...args: string[]) =>
    run([
      'setpriv',
      '--reuid=nobody',
      '--regid=nogroup',
      '--clear-groups',
      '--',
      'curl',
      '-s',
      '-m',
      '5',
      ...args,
    ]).catch((e) => ({ stdout: String(e.stdout ?? ''), stderr: String(e.stderr ?? '') }));
  /** fromNode runs curl inside nodea's network namespace (where a pod or a node process would call from). */
  const fromNode = (...args: string[]) =>
    run(['nsenter', `--net=/run/netns/${NAME}-nodea`, '--', 'curl', '-s', '-k', '-m', '5', ...args]).catch((e) => ({
      stdout: String(e.stdout ?? ''),
      stderr: '',
    }));

  before(async () => {
    cluster = await upCluster({ name: NAME, lanCidr: '192.168.238.0/24', upTimeoutMs: 240_000 });
    ({ stateDir, cache, client } = cluster);
    // ServiceAccount admission refuses pods until the controller manager has made the namespace's default account.
    await waitFor(
      'the default ServiceAccount',
      () =>
        client.get(client.resource('serviceaccounts') as Resource<any>, 'default', 'default').catch(() => undefined),
      { timeoutMs: 30_000 },
    );
    await client.create(client.resource('pods') as Resource<any>, 'default', {
      metadata: { name: 'talker' },
      spec: {
        nodeName: 'nodea',
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo secret-log-line; sleep 3600'] }],
      },
    });
    await waitFor(
      'talker running',
      async () =>
        (await client.get(client.resource('pods') as Resource<any>, 'default', 'talker')).status?.phase === 'Running',
      { timeoutMs: 30_000 },
    );
  });

  after(async () => {
    await cluster?.down();
  });

  test('credentials are files only root can read; admin.conf carries a system:masters certificate', async () => {
    const files = [
      admin(),
      join(stateDir, 'controller-manager.conf'),
      join(stateDir, 'scheduler.conf'),
      join(stateDir, 'nodea.conf'),
      join(stateDir, 'nodeb.conf'),
      ...(await readdir(join(stateDir, 'pki'))).map((f) => join(stateDir, 'pki', f)),
    ];
    for (const file of files) {
      const st = statSync(file);
      assert.equal(st.mode & 0o777, 0o600, file);
      assert.equal(st.uid, 0, file);
    }
    assert.equal(statSync(stateDir).mode & 0o077, 0, 'the state directory is closed to others');
    const who = await kubectl('1.33', admin(), cache, ['auth', 'whoami']);
    assert.match(who.stdout, /system:masters/);
    const nodeWho = await kubectl('1.33', join(stateDir, 'nodea.conf'), cache, ['auth', 'whoami']);
    assert.match(nodeWho.stdout, /system:node:nodea/);
  });

  test('an unprivileged local user cannot create pods (no insecure port, anonymous is forbidden, admin.conf unreadable)', async () => {
    const pod = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'evil' },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    const created = await asNobody(
      '-k',
      '-X',
      'POST',
      '-H',
      'Content-Type: application/json',
      `https://${CP}:6443/api/v1/namespaces/default/pods`,
      '-d',
      pod,
    );
    assert.match(created.stdout, /"code":403/);
    assert.match(created.stdout, /User \\"system:anonymous\\" cannot create resource \\"pods\\"/);
    const insecure = await asNobody(`http://${CP}:8080/api/v1/pods`);
    assert.equal(insecure.stdout, '', "nothing answers on the lab's insecure port");
    const read = await run([
      'setpriv',
      '--reuid=nobody',
      '--regid=nogroup',
      '--clear-groups',
      '--',
      'cat',
      admin(),
    ]).then(
      () => 'read',
      () => 'refused',
    );
    assert.equal(read, 'refused');
    await assert.rejects(client.get(client.resource('pods') as Resource<any>, 'default', 'evil'), /not found/);
  });

  test('kubelets refuse logs and exec without credentials or rights; the admin gets both through the API server', async () => {
    const logs = `https://${NODEA}:10250/containerLogs/default/talker/c`;
    assert.equal((await fromNode(logs)).stdout, 'Unauthorized');
    assert.equal((await fromNode('-H', 'Authorization: Bearer not-a-token', logs)).stdout, 'Unauthorized');
    assert.equal(
      (
        await fromNode(
          '-H',
          'Connection: Upgrade',
          '-H',
          'Upgrade: websocket',
          '-H',
          'Sec-WebSocket-Version: 13',
          '-H',
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
          '-H',
          'Sec-WebSocket-Protocol: v4.channel.k8s.io',
          `https://${NODEA}:10250/exec/default/talker/c?command=id&output=1`,
        )
      ).stdout,
      'Unauthorized',
    );
    // A real identity without rights on nodes/proxy: a ServiceAccount token, checked by TokenReview and SubjectAccessReview.
    await kubectl('1.33', admin(), cache, ['create', 'serviceaccount', 'plain']);
    const token = (await kubectl('1.33', admin(), cache, ['create', 'token', 'plain'])).stdout.trim();
    assert.ok(token.length > 100);
    assert.equal(
      (await fromNode('-H', `Authorization: Bearer ${token}`, logs)).stdout,
      'Forbidden (user=system:serviceaccount:default:plain, verb=get, resource=nodes, subresource=proxy)',
    );
    const viaApi = await kubectl('1.33', admin(), cache, ['logs', 'talker']);
    assert.equal(viaApi.stdout, 'secret-log-line\n');
    const exec = await kubectl('1.33', admin(), cache, ['exec', 'talker', '--', 'echo', 'exec-ok']);
    assert.equal(exec.stdout, 'exec-ok\n');
    const tokenConf = join(stateDir, 'plain.conf');
    const { writeFile } = await import('node:fs/promises');
    const ca = (await loadKubeconfig(admin())).ca!.toString('base64');
    await writeFile(
      tokenConf,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://${CP}:6443", certificate-authority-data: ${ca}}}]\nusers: [{name: u, user: {token: ${token}}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n`,
      { mode: 0o600 },
    );
    const denied = await kubectl('1.33', tokenConf, cache, ['exec', 'talker', '--', 'echo', 'no']);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /forbidden/i);
  });

  test('from a pod, https://kubernetes.default answers, and the mounted ServiceAccount token lists what RBAC allows', async () => {
    await kubectl('1.33', admin(), cache, ['create', 'serviceaccount', 'reader']);
    const bind = await kubectl('1.33', admin(), cache, [
      'create',
      'rolebinding',
      'reader-view',
      '--clusterrole=view',
      '--serviceaccount=default:reader',
    ]);
    assert.equal(bind.code, 0, bind.stderr);
    const script = `
      const fs = require('fs'), https = require('https');
      const dir = '/var/run/secrets/kubernetes.io/serviceaccount/';
      const token = fs.readFileSync(dir + 'token', 'utf8'), ca = fs.readFileSync(dir + 'ca.crt'), ns = fs.readFileSync(dir + 'namespace', 'utf8');
      const call = (method, path) => new Promise((done) => {
        const q = https.request({ host: 'kubernetes.default', port: 443, path, method, ca, headers: { Authorization: 'Bearer ' + token } }, (s) => {
          let b = ''; s.on('data', (c) => (b += c)); s.on('end', () => done([s.statusCode, b]));
        });
        q.on('error', (e) => done([0, e.message])); q.end();
      });
      (async () => {
        const list = await call('GET', '/api/v1/namespaces/' + ns + '/pods');
        const del = await call('DELETE', '/api/v1/nodes/nodea');
        const secrets = await call('GET', '/api/v1/namespaces/kube-system/secrets');
        console.log(JSON.stringify({ ns, list: list[0], pods: list[0] === 200 ? JSON.parse(list[1]).items.map((p) => p.metadata.name) : list[1], del: del[0], secrets: secrets[0] }));
      })();`;
    await client.create(client.resource('pods') as Resource<any>, 'default', {
      metadata: { name: 'incluster' },
      spec: {
        serviceAccountName: 'reader',
        restartPolicy: 'Never',
        containers: [{ name: 'c', image: 'node:20', command: ['node', '-e', script] }],
      },
    });
    const pod = await client.get(client.resource('pods') as Resource<any>, 'default', 'incluster');
    assert.ok(
      pod.spec.volumes.some((v: any) => v.name.startsWith('kube-api-access-')),
      'ServiceAccount admission added the projected volume',
    );
    const out = await waitFor(
      "the in-cluster client's answer",
      async () => (await kubectl('1.33', admin(), cache, ['logs', 'incluster'])).stdout.trim() || undefined,
      { timeoutMs: 60_000 },
    );
    const result = JSON.parse(out.split('\n').pop()!);
    assert.equal(result.ns, 'default');
    assert.equal(result.list, 200, `list pods: ${JSON.stringify(result.pods)}`);
    assert.ok(result.pods.includes('talker') && result.pods.includes('incluster'));
    assert.equal(result.del, 403, 'the view role does not delete nodes');
    assert.equal(result.secrets, 403, 'nor read secrets elsewhere');
  });
});
