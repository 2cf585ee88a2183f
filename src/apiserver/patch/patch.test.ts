/**
 * Regression tests for patches built from hostile input: nothing reaches a JavaScript prototype, whatever the
 * patch format, and a short JSON patch cannot grow an object without bound. Objects here are plain ConfigMaps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import { getOwn, hasOwn } from '../../api/own-properties.ts';
import { isStatusError } from '../../api/status.ts';
import { MAX_COPY_BYTES, applyPatch, applyServerSideApply } from './patch.ts';

const CM = () => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cm', namespace: 'default' },
  data: { k: 'v' },
});

function pristine(): void {
  assert.deepEqual(Object.keys(Object.prototype), []);
  assert.equal(({} as Record<string, unknown>).preconditions, undefined);
  assert.equal(({} as Record<string, unknown>).kind, undefined);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
}

test('applyPatch() JSON patch never reaches Object.prototype through __proto__, constructor or prototype', () => {
  const paths = [
    '/__proto__/preconditions',
    '/__proto__/kind',
    '/constructor/prototype/polluted',
    '/metadata/__proto__/polluted',
    '/data/constructor/prototype/polluted',
    '/data/toString/polluted',
  ];
  for (const path of paths) {
    for (const op of ['add', 'replace']) {
      assert.throws(
        () => applyPatch('application/json-patch+json', 'ConfigMap', CM(), [{ op, path, value: { uid: 'x' } }]),
        (e) => isStatusError(e, 422),
        `${op} ${path}`,
      );
      pristine();
    }
    assert.throws(
      () => applyPatch('application/json-patch+json', 'ConfigMap', CM(), [{ op: 'copy', from: '/data', path }]),
      (e) => isStatusError(e, 422),
    );
    assert.throws(
      () => applyPatch('application/json-patch+json', 'ConfigMap', CM(), [{ op: 'move', from: path, path: '/data/x' }]),
      (e) => isStatusError(e, 422),
    );
    pristine();
  }
});

test('applyPatch() keeps "__proto__" as a plain member when a patch adds it (as Go does with any key)', () => {
  const out = applyPatch('application/json-patch+json', 'ConfigMap', CM(), [
    { op: 'add', path: '/data/__proto__', value: 'x' },
  ]);
  const data = getOwn(out, 'data');
  assert.ok(hasOwn(data, '__proto__'));
  assert.equal(Object.getPrototypeOf(data), Object.prototype);
  // biome-ignore lint/suspicious/noProto: the test reads a hostile own key named __proto__ on purpose
  assert.equal(JSON.parse(JSON.stringify(out)).data.__proto__, 'x');
  pristine();
});

test('applyPatch() merge and strategic merge patches treat __proto__ and constructor as plain keys', () => {
  const hostile = JSON.parse(
    '{"__proto__":{"polluted":1},"metadata":{"__proto__":{"preconditions":{"uid":"x"}},"labels":{"constructor":"a"}},"data":{"constructor":{"prototype":{"polluted":1}}}}',
  );
  for (const type of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) {
    const out = applyPatch(type, 'ConfigMap', CM(), hostile);
    pristine();
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    const metadata = getOwn(out, 'metadata') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(metadata), Object.prototype);
    assert.equal(metadata.preconditions, undefined, 'no member read through a prototype');
    assert.equal(getOwn(metadata.labels, 'constructor'), 'a');
  }
  const applied = applyServerSideApply('ConfigMap', CM(), hostile);
  assert.equal(Object.getPrototypeOf(getOwn(applied, 'metadata')), Object.prototype);
  pristine();
  const smpDirectives = JSON.parse(
    '{"$setElementOrder/__proto__":[1],"$deleteFromPrimitiveList/__proto__":[1],"$retainKeys":["__proto__"],"metadata":{"finalizers":["a"]}}',
  );
  applyPatch('application/strategic-merge-patch+json', 'ConfigMap', CM(), smpDirectives);
  pristine();
});

test('applyPatch() merge patch bodies must be objects', () => {
  for (const body of ['str', null, [1, 2], 5, true]) {
    assert.throws(
      () => applyPatch('application/merge-patch+json', 'ConfigMap', CM(), body),
      (e) => isStatusError(e, 400) && e.message === 'Invalid JSON Patch',
    );
    assert.throws(
      () => applyPatch('application/strategic-merge-patch+json', 'ConfigMap', CM(), body),
      (e) => isStatusError(e, 400),
    );
  }
});

test('applyPatch() stops a JSON patch whose copies double the object (the 1 KB heap exhaustion)', () => {
  const ops = [
    { op: 'add', path: '/data/n', value: { a: 'x'.repeat(500) } },
    ...Array.from({ length: 23 }, (_, i) => ({ op: 'copy', from: '/data/n', path: `/data/n/c${i}` })),
  ];
  assert.ok(JSON.stringify(ops).length < 2000);
  const before = process.memoryUsage().heapUsed;
  assert.throws(
    () => applyPatch('application/json-patch+json', 'ConfigMap', CM(), ops),
    (e) => isStatusError(e, 422) && /exceeding the limit/.test(JSON.stringify(e.status)),
  );
  assert.ok(process.memoryUsage().heapUsed - before < 8 * MAX_COPY_BYTES, 'the heap grew by more than a few copies');
});

test('applyPatch() refuses more than 10000 JSON patch operations with 413', () => {
  const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/data/k', value: 'v' }));
  assert.throws(
    () => applyPatch('application/json-patch+json', 'ConfigMap', CM(), ops),
    (e) => isStatusError(e, 413) && /got 10001/.test(e.message),
  );
  assert.deepEqual(applyPatch('application/json-patch+json', 'ConfigMap', CM(), ops.slice(0, 10000)), CM());
});

test('applyPatch() answers malformed JSON patch operations with 422, never a TypeError', () => {
  const bad = [
    [null],
    [1],
    ['x'],
    [[]],
    [{}],
    [{ op: 'add' }],
    [{ op: 'add', path: 5, value: 1 }],
    [{ op: 'remove', path: '' }],
    [{ op: 'copy', path: '/x' }],
    [{ op: 'move', from: '/data', path: '/data/x' }],
    [{ op: 'add', path: '/data/k/0', value: 1 }],
    [{ op: 'add', path: '/a~2', value: 1 }],
  ];
  for (const ops of bad)
    assert.throws(
      () => applyPatch('application/json-patch+json', 'ConfigMap', CM(), ops),
      (e) => isStatusError(e, 422),
      JSON.stringify(ops),
    );
});

test('applyPatch() strategic merge takes list merge keys and strategies from the schema', () => {
  const deploy = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', finalizers: ['a'] },
    spec: {
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx:1.15',
              ports: [{ containerPort: 80, name: 'http' }],
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
            },
            { name: 'sidecar', image: 'busybox' },
          ],
        },
      },
    },
  };
  // kubectl apply's patch for an image change (kubectl-protocol.md gotcha 7): ports and env must survive.
  const patched = applyPatch('application/strategic-merge-patch+json', 'Deployment', deploy, {
    metadata: { finalizers: ['b'] },
    spec: {
      template: {
        metadata: { labels: { tier: 'front' } },
        spec: {
          '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'nginx' }],
          containers: [
            { name: 'nginx', image: 'nginx:1.16', env: [{ name: 'B', value: '3' }], ports: [{ containerPort: 443 }] },
          ],
        },
      },
    },
  }) as Deployment;
  const [sidecar, nginx] = patched.spec?.template.spec?.containers ?? [];
  assert.equal(sidecar?.name, 'sidecar');
  assert.equal(nginx?.image, 'nginx:1.16');
  assert.deepEqual(nginx?.ports, [{ containerPort: 80, name: 'http' }, { containerPort: 443 }]);
  assert.deepEqual(nginx?.env, [
    { name: 'A', value: '1' },
    { name: 'B', value: '3' },
  ]);
  assert.deepEqual(patched.metadata?.finalizers, ['a', 'b'], 'finalizers merge as a set');
  assert.deepEqual(patched.spec?.template.metadata?.labels, { app: 'web', tier: 'front' });

  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's' },
    spec: {
      ports: [{ port: 2000, protocol: 'TCP', targetPort: 80 }],
      clusterIPs: ['10.0.0.5'],
      selector: { app: 'a' },
    },
  };
  const next = applyPatch('application/strategic-merge-patch+json', 'Service', svc, {
    spec: {
      '$setElementOrder/ports': [{ port: 2001 }],
      ports: [
        { port: 2001, protocol: 'TCP', targetPort: 80 },
        { $patch: 'delete', port: 2000 },
      ],
      externalIPs: ['192.168.1.1'],
    },
  }) as Service;
  assert.deepEqual(next.spec?.ports, [{ port: 2001, protocol: 'TCP', targetPort: 80 }]);
  assert.deepEqual(next.spec?.externalIPs, ['192.168.1.1']);
  const atomic = applyPatch(
    'application/strategic-merge-patch+json',
    'Node',
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] } },
    { spec: { taints: [{ key: 'b', effect: 'NoSchedule' }] } },
  ) as Node;
  assert.deepEqual(
    atomic.spec?.taints,
    [{ key: 'b', effect: 'NoSchedule' }],
    'a list without a merge strategy is replaced, as upstream',
  );
});
