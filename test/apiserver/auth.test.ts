/**
 * Authentication and authorization on the secure port, with the real kubectl: one secure API server (fresh CA, admin
 * certificate in system:masters, ServiceAccount signing key) for the whole file. Users are made with client
 * certificates from the test CA (`kubeconfigFor`) or ServiceAccount tokens from TokenRequest.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { KUBECTL_VERSIONS, kubectl, kubectlAvailable } from '../support/kubectl.ts';
import { startApiServer, type TestApiServer } from '../support/apiserver.ts';

let server: TestApiServer;

/** raw sends one request with optional bearer token, trusting the test CA, and returns status and parsed body. */
function raw(
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ code: number; body: any }> {
  const url = new URL(path, server.url);
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  const text = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (text) headers['Content-Type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca: server.ca!.cert, agent: false }, (res) => {
      let data = '';
      res.on('data', (b) => (data += b));
      res.on('end', () => {
        let body: any = data;
        try {
          body = JSON.parse(data);
        } catch {
          // health endpoints answer text
        }
        resolve({ code: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

before(async () => {
  server = await startApiServer({ secure: true });
});

after(async () => {
  await server?.stop();
});

describe('anonymous and bad credentials', () => {
  it('anonymous requests reach health and version only; discovery needs any authenticated user, as upstream', async () => {
    for (const path of ['/healthz', '/livez', '/readyz', '/version'])
      assert.equal((await raw('GET', path)).code, 200, path);
    // Upstream binds system:discovery to system:authenticated only (since 1.14): anonymous discovery is forbidden.
    for (const path of ['/api', '/apis', '/api/v1', '/apis/apps/v1', '/openapi/v3'])
      assert.equal((await raw('GET', path)).code, 403, path);
    const nobody = await server.kubeconfigFor({ user: 'nobody' });
    const discovery = await kubectl('1.33', nobody, `${server.dir}/cache-nobody`, ['api-resources']);
    assert.equal(discovery.code, 0, discovery.stderr);
    assert.match(discovery.stdout, /rolebindings/);
    const list = await raw('GET', '/api/v1/namespaces/default/pods');
    assert.equal(list.code, 403);
    assert.equal(list.body.reason, 'Forbidden');
    assert.equal(
      list.body.message,
      'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "default"',
    );
    const create = await raw('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'x' } } });
    assert.equal(create.code, 403);
    const node = await raw('DELETE', '/api/v1/nodes/nodea');
    assert.equal(
      node.body.message,
      'nodes "nodea" is forbidden: User "system:anonymous" cannot delete resource "nodes" in API group "" at the cluster scope',
    );
    const path = await raw('GET', '/metrics');
    assert.equal(path.body.message, 'forbidden: User "system:anonymous" cannot get path "/metrics"');
  });

  it('a garbage bearer token gets 401 everywhere, health included', async () => {
    for (const path of ['/healthz', '/version', '/api/v1/namespaces/default/pods']) {
      const r = await raw('GET', path, { token: 'garbage' });
      assert.equal(r.code, 401, path);
      assert.equal(r.body.reason, 'Unauthorized');
    }
    const forged = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpkZWZhdWx0In0.c2lnbmF0dXJl';
    assert.equal((await raw('GET', '/api/v1/namespaces/default/pods', { token: forged })).code, 401);
  });

  it('a client certificate from another CA gets 401', async () => {
    const other = await startApiServer({ secure: true });
    try {
      const foreign = await other.kubeconfigFor({ user: 'mallory', groups: ['system:masters'] });
      const text = (await import('node:fs'))
        .readFileSync(foreign, 'utf8')
        .replace(other.url, server.url)
        .replace(
          /certificate-authority-data: \S+/,
          `certificate-authority-data: ${Buffer.from(server.ca!.cert).toString('base64')}`,
        );
      (await import('node:fs')).writeFileSync(foreign, text);
      const r = await kubectl('1.33', foreign, `${server.dir}/cache-mallory`, ['get', 'pods']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Unauthorized|must be logged in/);
    } finally {
      await other.stop();
    }
  });
});

describe('kubectl over TLS with the admin certificate', () => {
  for (const version of KUBECTL_VERSIONS) {
    it(`kubectl ${version}: get, whoami, can-i`, {
      skip: !kubectlAvailable(version) && `kubectl ${version} not installed`,
    }, async () => {
      const cache = `${server.dir}/cache-admin-${version}`;
      const ns = await kubectl(version, server.kubeconfig, cache, ['get', 'namespaces']);
      assert.equal(ns.code, 0, ns.stderr);
      assert.match(ns.stdout, /kube-system/);
      const created = await kubectl(version, server.kubeconfig, cache, ['create', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `admin-${version.replace('.', '-')}` },
          data: { a: 'b' },
        }),
      });
      assert.equal(created.code, 0, created.stderr);
      const who = await kubectl(version, server.kubeconfig, cache, ['auth', 'whoami']);
      assert.equal(who.code, 0, who.stderr);
      assert.match(who.stdout, /kubernetes-admin/);
      assert.match(who.stdout, /system:masters/);
      const can = await kubectl(version, server.kubeconfig, cache, ['auth', 'can-i', 'delete', 'nodes']);
      assert.equal(can.stdout.trim(), 'yes', can.stderr);
    });
  }
});

describe('RBAC', () => {
  it('impersonation (kubectl --as/--as-group) acts as the impersonated user, and needs the impersonate verb', async () => {
    const cache = `${server.dir}/cache-imp`;
    const admin = (args: string[]) => kubectl('1.33', server.kubeconfig, cache, args);
    const who = await admin(['auth', 'whoami', '--as=erin', '--as-group=qa']);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /erin/);
    assert.match(who.stdout, /\[qa system:authenticated\]/);
    assert.equal((await admin(['auth', 'can-i', 'create', 'pods', '--as=erin'])).stdout.trim(), 'no');
    const sa = await admin(['auth', 'whoami', '--as=system:serviceaccount:default:default']);
    assert.match(sa.stdout, /system:serviceaccounts:default/);
    const forbidden = await admin(['get', 'secrets', '-A', '--as=erin']);
    assert.match(forbidden.stderr, /secrets is forbidden: User "erin" cannot list resource "secrets"/);
    const frank = await server.kubeconfigFor({ user: 'frank' });
    const denied = await kubectl('1.33', frank, `${cache}-frank`, [
      'get',
      '--raw',
      '/api/v1/pods',
      '--as=system:admin',
      '--as-group=system:masters',
    ]);
    assert.notEqual(denied.code, 0);
    assert.match(
      denied.stderr,
      /users "system:admin" is forbidden: User "frank" cannot impersonate resource "users" in API group "" at the cluster scope/,
    );
  });

  it('a user bound to a Role can list pods in its namespace and nothing else; can-i agrees with real requests', async () => {
    const admin = server.kubeconfig;
    const cache = `${server.dir}/cache-rbac`;
    for (const args of [
      ['create', 'namespace', 'team'],
      ['-n', 'team', 'create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods'],
      ['-n', 'team', 'create', 'rolebinding', 'alice-reads', '--role=pod-reader', '--user=alice'],
    ]) {
      const r = await kubectl('1.27', admin, cache, args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    const alice = await server.kubeconfigFor({ user: 'alice', groups: ['devs'] });
    const ac = `${server.dir}/cache-alice`;
    const list = await kubectl('1.27', alice, ac, ['-n', 'team', 'get', 'pods']);
    assert.equal(list.code, 0, list.stderr);
    const canList = await kubectl('1.27', alice, ac, ['-n', 'team', 'auth', 'can-i', 'list', 'pods']);
    assert.equal(canList.stdout.trim(), 'yes');
    const other = await kubectl('1.27', alice, ac, ['-n', 'default', 'get', 'pods']);
    assert.notEqual(other.code, 0);
    assert.match(
      other.stderr,
      /pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"/,
    );
    const canOther = await kubectl('1.27', alice, ac, ['-n', 'default', 'auth', 'can-i', 'list', 'pods']);
    assert.equal(canOther.stdout.trim(), 'no');
    const del = await kubectl('1.27', alice, ac, ['delete', 'node', 'nodea']);
    assert.match(del.stderr, /nodes "nodea" is forbidden: User "alice" cannot delete resource "nodes"/);
    const canDel = await kubectl('1.27', alice, ac, ['auth', 'can-i', 'delete', 'nodes']);
    assert.equal(canDel.stdout.trim(), 'no');
    const rules = await kubectl('1.33', alice, `${ac}-33`, ['-n', 'team', 'auth', 'can-i', '--list']);
    assert.equal(rules.code, 0, rules.stderr);
    assert.match(rules.stdout, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m, 'SelfSubjectRulesReview lists the Role');
    assert.match(rules.stdout, /selfsubjectaccessreviews\.authorization\.k8s\.io/);
    const whoami = await kubectl('1.27', alice, ac, ['auth', 'whoami']);
    assert.match(whoami.stdout, /alice/);
    assert.match(whoami.stdout, /devs/);
  });

  it('nobody grants what they do not hold (escalation check), unless allowed to bind', async () => {
    const cache = `${server.dir}/cache-esc`;
    await kubectl('1.27', server.kubeconfig, cache, ['create', 'namespace', 'esc']);
    await kubectl('1.27', server.kubeconfig, cache, [
      '-n',
      'esc',
      'create',
      'rolebinding',
      'carol-admin',
      '--clusterrole=admin',
      '--user=carol',
    ]);
    const carol = await server.kubeconfigFor({ user: 'carol' });
    const cc = `${server.dir}/cache-carol`;
    const ok = await kubectl('1.27', carol, cc, [
      '-n',
      'esc',
      'create',
      'rolebinding',
      'dave-view',
      '--clusterrole=view',
      '--user=dave',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const escalate = await kubectl('1.27', carol, cc, [
      '-n',
      'esc',
      'create',
      'rolebinding',
      'carol-root',
      '--clusterrole=cluster-admin',
      '--user=carol',
    ]);
    assert.notEqual(escalate.code, 0);
    assert.match(escalate.stderr, /is attempting to grant RBAC permissions not currently held/);
  });

  it('ServiceAccount tokens from TokenRequest authenticate as the ServiceAccount and follow its bindings', async () => {
    const cache = `${server.dir}/cache-sa`;
    await kubectl('1.27', server.kubeconfig, cache, ['create', 'namespace', 'apps1']);
    await kubectl('1.27', server.kubeconfig, cache, ['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'robot', namespace: 'apps1' },
      }),
    });
    const bind = await kubectl('1.27', server.kubeconfig, cache, [
      '-n',
      'apps1',
      'create',
      'rolebinding',
      'robot-view',
      '--clusterrole=view',
      '--serviceaccount=apps1:robot',
    ]);
    assert.equal(bind.code, 0, bind.stderr);
    const token = await kubectl('1.27', server.kubeconfig, cache, [
      '-n',
      'apps1',
      'create',
      'token',
      'robot',
      '--duration=10m',
    ]);
    assert.equal(token.code, 0, token.stderr);
    const robot = await server.kubeconfigFor({ token: token.stdout.trim() });
    const rc = `${server.dir}/cache-robot`;
    const who = await kubectl('1.27', robot, rc, ['auth', 'whoami']);
    assert.match(who.stdout, /system:serviceaccount:apps1:robot/);
    assert.match(who.stdout, /system:serviceaccounts:apps1/);
    assert.equal((await kubectl('1.27', robot, rc, ['-n', 'apps1', 'get', 'pods'])).code, 0);
    assert.equal(
      (await kubectl('1.27', robot, rc, ['-n', 'apps1', 'auth', 'can-i', 'list', 'pods'])).stdout.trim(),
      'yes',
    );
    assert.equal((await kubectl('1.27', robot, rc, ['auth', 'can-i', 'delete', 'nodes'])).stdout.trim(), 'no');
    assert.match((await kubectl('1.27', robot, rc, ['delete', 'node', 'x'])).stderr, /forbidden/);
    const review = await raw('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      token: undefined,
      body: { spec: { token: token.stdout.trim() } },
    });
    assert.equal(review.code, 403, 'anonymous may not review tokens');
    const byAdmin = await server.client.request<any>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: token.stdout.trim() } },
    });
    assert.equal(byAdmin.status.authenticated, true);
    assert.equal(byAdmin.status.user.username, 'system:serviceaccount:apps1:robot');
    const bad = await server.client.request<any>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'garbage' } },
    });
    assert.notEqual(bad.status.authenticated, true);
  });
});
