/**
 * The protobuf codec against upstream's wire format. Conventions: fixtures in testdata/objects.yaml are written as
 * the API server serves them (upstream's normal JSON: zero values of omitempty fields left out), one or more per
 * served kind; synthetic objects fill every field of every kind in the schema with non-zero values.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { RESOURCES, groupVersion } from '../resources.ts';
import {
  elementMessage,
  isScalar,
  jsonFields,
  schemaKinds,
  type FieldSchema,
  type MessageSchema,
} from '../schema/schema.ts';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { JsonObject } from '../own-properties.ts';
import { type DecodedObject, WatchFrameDecoder, decodeObject, encodeObject, encodeWatchFrame } from './protobuf.ts';

const FIXTURES: DecodedObject[] = parseAllDocuments(
  readFileSync(new URL('./testdata/objects.yaml', import.meta.url), 'utf8'),
).map((d) => d.toJS());

test('decodeObject(encodeObject()) is the identity on realistic objects of every served kind', () => {
  for (const object of FIXTURES) {
    const bytes = encodeObject(object);
    assert.deepEqual(decodeObject(bytes), object, `${object.apiVersion} ${object.kind}`);
  }
  const covered = new Set(FIXTURES.map((o) => `${o.apiVersion}/${o.kind}`));
  const wanted = [
    ...RESOURCES.map((r) => `${groupVersion(r)}/${r.kind}`),
    'v1/Secret',
    'v1/ServiceAccount',
    'v1/ReplicationController',
    'batch/v1/Job',
    'batch/v1/CronJob',
    'apps/v1/DaemonSet',
    'autoscaling/v1/Scale',
    'networking.k8s.io/v1/ServiceCIDR',
    'networking.k8s.io/v1/IPAddress',
    'v1/Status',
  ];
  for (const k of wanted) assert.ok(covered.has(k), `no fixture for ${k}`);
});

test('decodeObject(encodeObject()) is the identity on every field of every kind in the schema', () => {
  let kinds = 0;
  for (const { apiVersion, kind, message } of schemaKinds()) {
    const object = { ...syntheticFields(message, 0, new Set()), kind, apiVersion };
    assert.deepEqual(decodeObject(encodeObject(object)), object, `${apiVersion} ${kind}`);
    kinds++;
  }
  assert.ok(kinds > 100);
});

test('decodeObject() reads protobuf the way Go clients write it: zero omitempty fields as absent, pointers kept', () => {
  const sent = {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { name: 'web', generateName: '', creationTimestamp: null, labels: {} },
    spec: {
      replicas: 0,
      paused: false,
      minReadySeconds: 0,
      selector: { matchLabels: { app: 'web' } },
      strategy: {},
      template: {
        metadata: {},
        spec: {
          containers: [{ name: 'nginx', image: 'nginx', imagePullPolicy: '', ports: [] }],
          activeDeadlineSeconds: 0,
        },
      },
    },
    status: {},
  };
  assert.deepEqual(decodeObject(encodeObject(sent)), {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { name: 'web' },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      strategy: {},
      template: { metadata: {}, spec: { containers: [{ name: 'nginx', image: 'nginx' }], activeDeadlineSeconds: 0 } },
    },
    status: {},
  });
});

test('encodeObject() writes time, int-or-string and quantity as upstream does', () => {
  // A Pod in, a Pod out: the decoded JSON read as the kind it is.
  const pod = decodeObject(
    encodeObject({
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name: 'p', creationTimestamp: '2026-11-29T10:00:00.999+01:00' },
      spec: {
        containers: [
          {
            name: 'c',
            resources: { limits: { cpu: 2 } },
            readinessProbe: { httpGet: { port: 8080 } },
            livenessProbe: { httpGet: { port: '8080' } },
          },
        ],
      },
    }),
  ) as Pod;
  const container = pod.spec!.containers[0]!;
  assert.equal(pod.metadata!.creationTimestamp, '2026-11-29T09:00:00Z');
  assert.equal(container.resources!.limits!.cpu, '2');
  assert.equal(container.readinessProbe!.httpGet!.port, 8080);
  assert.equal(container.livenessProbe!.httpGet!.port, '8080');
  assert.throws(
    () => encodeObject({ kind: 'Pod', apiVersion: 'v1', metadata: { creationTimestamp: 'yesterday' } }),
    RangeError,
  );
  assert.throws(() => encodeObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1' }), TypeError);
});

test("encodeObject() writes upstream's envelope byte for byte", () => {
  const bytes = encodeObject({ kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200 });
  const status = `1207${hex('Success')}30c801`;
  const typeMeta = `0a02${hex('v1')}1206${hex('Status')}`;
  assert.equal(bytes.toString('hex'), `6b3873000a0c${typeMeta}120c${status}1a002200`);
});

test('decodeObject() rejects bytes that are not an enveloped object', () => {
  assert.throws(() => decodeObject(Buffer.from('{"kind":"Pod"}')), SyntaxError);
  assert.throws(() => decodeObject(Buffer.from([0x6b, 0x38, 0x73, 0, 0xff, 0xff])), SyntaxError);
  const alien = encodeObject({ kind: 'Status', apiVersion: 'v1' });
  alien[alien.indexOf(Buffer.from('Status'))] = 0x78;
  assert.throws(() => decodeObject(alien), /no kind "xtatus" is registered for version "v1"/);
});

test('WatchFrameDecoder reads length-prefixed WatchEvents however the stream is cut', () => {
  const svc = FIXTURES.find((o) => o.kind === 'Service');
  const stream = Buffer.concat([encodeWatchFrame('ADDED', svc), encodeWatchFrame('DELETED', svc)]);
  assert.equal(stream.readUInt32BE(0) + 4, encodeWatchFrame('ADDED', svc).length);
  const decoder = new WatchFrameDecoder();
  const events = [];
  for (let i = 0; i < stream.length; i += 7) events.push(...decoder.push(stream.subarray(i, i + 7)));
  assert.deepEqual(
    events.map((e) => e.type),
    ['ADDED', 'DELETED'],
  );
  assert.deepEqual(events[1]!.object, svc);
});

function hex(text: string): string {
  return Buffer.from(text).toString('hex');
}

/** synthetic fills every JSON field of a message with a non-zero value (recursion stops at a repeated message). */
function synthetic(message: MessageSchema, depth: number, path: Set<string>): unknown {
  return message.json ? special(message, depth) : syntheticFields(message, depth, path);
}

function syntheticFields(message: MessageSchema, depth: number, path: Set<string>): JsonObject {
  const out: JsonObject = {};
  if (path.has(message.name) || depth > 14) return out;
  const inner = new Set(path).add(message.name);
  for (const [name, f] of jsonFields(message)) {
    const one = () => value(f, depth + 1, inner);
    out[name] = f.map ? { k1: one(), k2: one() } : f.repeated ? [one(), one()] : one();
  }
  return out;
}

function value(f: FieldSchema, depth: number, path: Set<string>): unknown {
  if (!isScalar(f.type)) return synthetic(elementMessage(f)!, depth, path);
  switch (f.type) {
    case 'string':
      return `s-${f.name}`;
    case 'bytes':
      return 'AQID';
    case 'bool':
      return true;
    case 'int64':
      return 1234567890123;
    case 'double':
      return 1.5;
    case 'float':
      return 0.5;
    default:
      return 7;
  }
}

function special(message: MessageSchema, depth: number): unknown {
  switch (message.json) {
    case 'time':
      return '2026-01-02T03:04:05Z';
    case 'micro-time':
      return '2026-01-02T03:04:05.123456Z';
    case 'duration':
      return '1h1m30.5s';
    case 'int-or-string':
      return depth % 2 ? 8080 : 'http';
    case 'quantity':
      return '250m';
    case 'raw-extension':
    case 'raw-json':
      return { a: [1, 'b'], c: { d: null } };
    case 'string-array':
      return ['x', 'y'];
    default:
      throw new RangeError(String(message.json));
  }
}
