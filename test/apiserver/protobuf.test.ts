/**
 * Protobuf on the wire, content negotiation and OpenAPI, against a real `tskube apiserver` (SQLite store): raw HTTP
 * with upstream's media types; the real kubectl 1.33, whose typed clients (create deployment|service|configmap|
 * namespace, scale, expose, set image) send and accept application/vnd.kubernetes.protobuf; `kubectl explain` of
 * 1.27 and 1.33, which walks the OpenAPI v3 schemas.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ConfigMap, Service } from 'kubernetes-types/core/v1.js';
import type { Status } from 'kubernetes-types/meta/v1.js';
import { WatchFrameDecoder, decodeObject, encodeObject } from '../../src/api/protobuf/protobuf.ts';
import { startApiServer, type TestApiServer } from '../support/apiserver.ts';
import { kubectl, kubectlAvailable } from '../support/kubectl.ts';
import { waitFor } from '../../src/util/wait.ts';
import type { Resource } from '../../src/client/client.ts';

const PB = 'application/vnd.kubernetes.protobuf';

interface Reply {
  status: number;
  type: string;
  body: Buffer;
}

function request(
  server: TestApiServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // Node frames a DELETE body only when told its length (Go clients always send Content-Length).
    const framing = body ? { 'Content-Length': String(body.length) } : {};
    const req = http.request(`${server.url}${path}`, { method, headers: { ...headers, ...framing } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type']),
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('protobuf and content negotiation', () => {
  let server: TestApiServer;
  let cache: string;
  before(async () => {
    server = await startApiServer();
    cache = await mkdtemp(join(tmpdir(), 'tskube-kubectl-'));
  });
  after(async () => {
    await server?.stop();
    if (cache) await rm(cache, { recursive: true, force: true });
  });

  test('a Service created, read and listed in protobuf comes back in protobuf', async () => {
    const svc = {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'pb' },
      spec: { ports: [{ port: 80, targetPort: 'http' }], selector: { app: 'pb' } },
    };
    const created = await request(
      server,
      'POST',
      '/api/v1/namespaces/default/services',
      { 'Content-Type': PB, Accept: `${PB}, application/json` },
      encodeObject(svc),
    );
    assert.equal(created.status, 201, created.body.toString());
    assert.equal(created.type, PB);
    const object = decodeObject(created.body) as Service;
    assert.equal(object.kind, 'Service');
    assert.match(object.spec!.clusterIP!, /^10\.0\./);
    assert.equal(object.spec!.ports![0]!.targetPort, 'http');
    const list = await request(server, 'GET', '/api/v1/namespaces/default/services', { Accept: PB });
    assert.equal(list.type, PB);
    const decoded = decodeObject(list.body);
    assert.equal(decoded.kind, 'ServiceList');
    assert.ok(
      (decoded.items as Service[]).some(
        (s) => s.metadata!.name === 'pb' && s.spec!.clusterIP === object.spec!.clusterIP,
      ),
    );
    const json = await request(server, 'GET', '/api/v1/namespaces/default/services/pb', { Accept: 'application/json' });
    assert.deepEqual(JSON.parse(json.body.toString()), object);
  });

  test('errors come back as a protobuf Status; unservable Accept is 406; Table falls back to JSON', async () => {
    const missing = await request(server, 'GET', '/api/v1/namespaces/default/services/nope', { Accept: PB });
    assert.equal(missing.status, 404);
    assert.deepEqual(decodeObject(missing.body), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'services "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'services' },
      code: 404,
    });
    const html = await request(server, 'GET', '/api/v1/namespaces/default/services', { Accept: 'text/html' });
    assert.equal(html.status, 406);
    assert.match(
      JSON.parse(html.body.toString()).message,
      /only the following media types are accepted: application\/json, application\/yaml, application\/vnd.kubernetes.protobuf/,
    );
    const table = await request(server, 'GET', '/api/v1/namespaces/default/services', {
      Accept: `${PB};as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1;g=meta.k8s.io`,
    });
    assert.equal(table.type, 'application/json');
    assert.equal(JSON.parse(table.body.toString()).kind, 'Table');
    const yaml = await request(server, 'GET', '/api/v1/namespaces/default/services/pb', { Accept: 'application/yaml' });
    assert.equal(yaml.type, 'application/yaml');
    assert.match(yaml.body.toString(), /^kind: Service\napiVersion: v1\n/);
    const partial = await request(server, 'GET', '/api/v1/namespaces/default/services', {
      Accept: `${PB};as=PartialObjectMetadataList;v=v1;g=meta.k8s.io`,
    });
    assert.equal(decodeObject(partial.body).kind, 'PartialObjectMetadataList');
    const garbage = await request(
      server,
      'POST',
      '/api/v1/namespaces/default/services',
      { 'Content-Type': PB },
      Buffer.from('not protobuf'),
    );
    assert.equal(garbage.status, 400);
  });

  test('DeleteOptions sent as protobuf (as typed clients do) are read', async () => {
    await server.client.create(server.client.resource('configmaps') as Resource<any>, 'default', {
      metadata: { name: 'gone' },
    });
    const bad = encodeObject({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Sideways' });
    const refused = await request(
      server,
      'DELETE',
      '/api/v1/namespaces/default/configmaps/gone',
      { 'Content-Type': PB, Accept: PB },
      bad,
    );
    assert.equal(refused.status, 422);
    assert.match((decodeObject(refused.body) as Status).message!, /Unsupported value: "Sideways"/);
    const options = encodeObject({
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      gracePeriodSeconds: 0,
      propagationPolicy: 'Background',
    });
    const deleted = await request(
      server,
      'DELETE',
      '/api/v1/namespaces/default/configmaps/gone',
      { 'Content-Type': PB, Accept: PB },
      options,
    );
    assert.equal(deleted.status, 200);
    assert.equal((decodeObject(deleted.body) as ConfigMap).metadata!.name, 'gone');
  });

  test('a protobuf watch streams length-prefixed WatchEvents', async () => {
    const decoder = new WatchFrameDecoder();
    const events: { type: string; object: any }[] = [];
    const req = http.request(`${server.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=0`, {
      headers: { Accept: `${PB};stream=watch` },
    });
    const response = new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
    req.end();
    const res = await response;
    assert.equal(res.headers['content-type'], `${PB};stream=watch`);
    res.on('data', (chunk: Buffer) => events.push(...decoder.push(chunk)));
    await server.client.create(server.client.resource('configmaps') as Resource<any>, 'default', {
      metadata: { name: 'w' },
      data: { a: '1' },
    });
    await waitFor('the ADDED event', () => events.find((e) => e.type === 'ADDED' && e.object.metadata.name === 'w'));
    assert.deepEqual(events.find((e) => e.object.metadata.name === 'w')!.object.data, { a: '1' });
    req.destroy();
  });

  test('kubectl 1.33 typed commands work over protobuf', {
    skip: !kubectlAvailable('1.33') && 'kubectl 1.33 is not installed',
  }, async () => {
    const k = async (...args: string[]) => {
      const r = await kubectl('1.33', server.kubeconfig, cache, args);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const verbose = await kubectl('1.33', server.kubeconfig, cache, [
      'create',
      'deployment',
      'web',
      '--image=nginx',
      '-v=8',
    ]);
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.match(verbose.stderr, /Content-Type: application\/vnd\.kubernetes\.protobuf/);
    assert.match(verbose.stdout, /deployment.apps\/web created/);
    assert.equal(await k('create', 'service', 'clusterip', 'websvc', '--tcp=80:8080'), 'service/websvc created\n');
    assert.equal(await k('create', 'configmap', 'cfg', '--from-literal=a=b'), 'configmap/cfg created\n');
    assert.equal(await k('create', 'namespace', 'team-a'), 'namespace/team-a created\n');
    assert.equal(await k('scale', 'deployment', 'web', '--replicas=3'), 'deployment.apps/web scaled\n');
    assert.equal(await k('expose', 'deployment', 'web', '--port=80', '--target-port=8080'), 'service/web exposed\n');
    assert.equal(await k('set', 'image', 'deployment/web', 'nginx=nginx:1.25'), 'deployment.apps/web image updated\n');
    const deploy = JSON.parse(await k('get', 'deployment', 'web', '-o', 'json'));
    assert.equal(deploy.spec.replicas, 3);
    assert.equal(deploy.spec.template.spec.containers[0].image, 'nginx:1.25');
    assert.equal(deploy.metadata.generateName, undefined);
    assert.equal(deploy.spec.strategy.type, 'RollingUpdate');
    assert.deepEqual(JSON.parse(await k('get', 'service', 'websvc', '-o', 'json')).spec.ports[0].targetPort, 8080);
    assert.deepEqual(JSON.parse(await k('get', 'configmap', 'cfg', '-o', 'json')).data, { a: 'b' });
    assert.match(await k('describe', 'service', 'web'), /TargetPort:\s+8080\/TCP/);
  });

  for (const version of ['1.27', '1.33']) {
    test(`kubectl ${version} explain reads the OpenAPI v3 schemas`, {
      skip: !kubectlAvailable(version) && `kubectl ${version} is not installed`,
    }, async () => {
      const explain = async (...args: string[]) => {
        const r = await kubectl(version, server.kubeconfig, join(cache, version), ['explain', ...args]);
        assert.equal(r.code, 0, r.stderr);
        return r.stdout;
      };
      const ports = await explain('service.spec.ports');
      assert.match(ports, /^KIND:\s+Service\nVERSION:\s+v1\n/);
      assert.match(ports, /FIELD: ports <\[\]ServicePort>/);
      assert.match(ports, /\n {2}targetPort\t<IntOrString>\n/);
      assert.match(ports, /\n {2}port\t<integer> -required-\n {4}The port that will be exposed by this service\./);
      assert.match(
        await explain('deployment.spec.template.spec.containers.resources.limits'),
        /GROUP:\s+apps\n[\s\S]*FIELD: limits <map\[string\]Quantity>/,
      );
      assert.match(await explain('lease.spec.renewTime'), /FIELD: renewTime <string>/);
      const missing = await kubectl(version, server.kubeconfig, join(cache, version), ['explain', 'service.spec.nope']);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /field "nope" does not exist/);
    });
  }

  for (const version of ['1.27', '1.33']) {
    test(`kubectl ${version} apply of a changed Deployment keeps container ports and env (merge keys from the schema)`, {
      skip: !kubectlAvailable(version) && `kubectl ${version} is not installed`,
    }, async () => {
      const name = `applied-${version.replace('.', '')}`;
      const manifest = (image: string, replicas: number) =>
        JSON.stringify({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name, labels: { app: name } },
          spec: {
            replicas,
            selector: { matchLabels: { app: name } },
            template: {
              metadata: { labels: { app: name } },
              spec: {
                containers: [
                  { name: 'nginx', image, ports: [{ containerPort: 80 }], env: [{ name: 'MODE', value: 'x' }] },
                ],
              },
            },
          },
        });
      const apply = async (text: string) => {
        const r = await kubectl(version, server.kubeconfig, join(cache, `apply-${version}`), ['apply', '-f', '-'], {
          input: text,
        });
        assert.equal(r.code, 0, r.stderr);
        return r.stdout;
      };
      assert.equal(await apply(manifest('nginx:1.15', 1)), `deployment.apps/${name} created\n`);
      assert.equal(await apply(manifest('nginx:1.16', 2)), `deployment.apps/${name} configured\n`);
      const got = await server.client.get(server.client.resource('deployments') as Resource<any>, 'default', name);
      const [container] = got.spec.template.spec.containers;
      assert.equal(container.image, 'nginx:1.16');
      assert.equal(got.spec.replicas, 2);
      assert.deepEqual(
        container.ports.map((p: any) => p.containerPort),
        [80],
      );
      assert.deepEqual(container.env, [{ name: 'MODE', value: 'x' }]);
    });
  }
});
