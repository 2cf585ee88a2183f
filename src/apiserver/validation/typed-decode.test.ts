/**
 * typedDecode() against the one schema: Go's wording for wrong types, unknown fields dropped and listed, nulls as
 * zero values, the special JSON forms (time, int-or-string, quantity, bytes), and hostile keys kept as plain data.
 */
import { test } from 'node:test';
import type { ConfigMap, Service } from 'kubernetes-types/core/v1.js';
import assert from 'node:assert/strict';
import { TypeMismatch, typedDecode } from './typed-decode.ts';

function mismatch(apiVersion: string, kind: string, value: unknown): TypeMismatch {
  try {
    typedDecode(apiVersion, kind, value);
  } catch (error) {
    if (error instanceof TypeMismatch) return error;
    throw error;
  }
  assert.fail('no TypeMismatch');
}

test('typedDecode() words wrong types as Go does, with the field path', () => {
  const e1 = mismatch('v1', 'Service', { metadata: { name: 'a' }, spec: { ports: {} } });
  assert.equal(
    e1.message,
    'json: cannot unmarshal object into Go struct field ServiceSpec.spec.ports of type []v1.ServicePort',
  );
  assert.equal(e1.path, 'spec.ports');
  const e2 = mismatch('apps/v1', 'Deployment', { spec: { replicas: '3' } });
  assert.equal(
    e2.message,
    'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
  );
  const e3 = mismatch('v1', 'ConfigMap', { metadata: { labels: 'abc' } });
  assert.equal(
    e3.message,
    'json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map[string]string',
  );
  const e4 = mismatch('v1', 'Service', { spec: { ports: [{ port: 1.5 }] } });
  assert.equal(
    e4.message,
    'json: cannot unmarshal number 1.5 into Go struct field ServicePort.spec.ports.port of type int32',
  );
  assert.equal(e4.path, 'spec.ports[0].port');
  assert.equal(mismatch('apps/v1', 'Deployment', { spec: { replicas: 2 ** 31 } }).path, 'spec.replicas');
  assert.match(
    mismatch('v1', 'ConfigMap', { metadata: { creationTimestamp: 'yesterday' } }).message,
    /^parsing time "yesterday"/,
  );
  assert.equal(mismatch('v1', 'ConfigMap', { binaryData: { a: 'not base64!' } }).path, 'binaryData["a"]');
  assert.equal(
    mismatch('v1', 'Service', { spec: { ports: [{ port: 80, targetPort: 1.5 }] } }).path,
    'spec.ports[0].targetPort',
  );
});

test('typedDecode() drops unknown fields and nulls, keeps the special forms', () => {
  const { object, unknown } = typedDecode('v1', 'Pod', {
    apiVersion: 'v1',
    kind: 'Pod',
    bogus: 1,
    metadata: { name: 'p', creationTimestamp: null, extra: { x: 1 } },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'i',
          ports: [{ containerPort: 80, nope: true }],
          resources: { limits: { cpu: '500m', memory: 64 } },
        },
      ],
      nodeName: null,
    },
  });
  assert.deepEqual(unknown, ['bogus', 'metadata.extra', 'spec.containers[0].ports[0].nope']);
  assert.deepEqual(object, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: {
      containers: [
        { name: 'c', image: 'i', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '500m', memory: 64 } } },
      ],
    },
  });
  const svc = typedDecode('v1', 'Service', {
    spec: {
      ports: [
        { port: 80, targetPort: 'http' },
        { port: 81, targetPort: 8081 },
      ],
    },
  });
  assert.deepEqual(
    (svc.object as Service).spec?.ports?.map((p) => p.targetPort),
    ['http', 8081],
  );
});

test('typedDecode() keeps __proto__ and constructor as plain data in maps and drops them as fields', () => {
  const { object, unknown } = typedDecode(
    'v1',
    'ConfigMap',
    JSON.parse(
      '{"__proto__":{"polluted":1},"metadata":{"name":"c","constructor":{"prototype":{"x":1}}},"data":{"__proto__":"a","constructor":"b"}}',
    ),
  );
  assert.deepEqual(unknown, ['__proto__', 'metadata.constructor']);
  assert.equal(Object.getPrototypeOf(object), Object.prototype);
  const { data } = object as ConfigMap;
  assert.equal(Object.getPrototypeOf(data), Object.prototype);
  assert.deepEqual(Object.keys(data ?? {}), ['__proto__', 'constructor']);
  assert.equal(Reflect.get({}, 'polluted'), undefined);
});

test('typedDecode() passes kinds without a schema through unchanged', () => {
  const value = { anything: [1, 'x'] };
  assert.deepEqual(typedDecode('example.com/v1', 'Widget', value), { object: value, unknown: [] });
});
