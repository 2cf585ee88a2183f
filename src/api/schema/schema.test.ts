import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RESOURCES, groupVersion } from '../resources.ts';
import {
  Descriptions,
  fieldAt,
  jsonField,
  jsonFields,
  kindSchema,
  messageSchema,
  openApiName,
  schemaKinds,
} from './schema.ts';

test('kindSchema() covers every served kind and the kinds issue #9/#10/#11 add', () => {
  for (const r of RESOURCES) assert.ok(kindSchema(groupVersion(r), r.kind), `${groupVersion(r)} ${r.kind}`);
  const wanted = [
    'v1/Namespace',
    'v1/Secret',
    'v1/ServiceAccount',
    'v1/ReplicationController',
    'batch/v1/Job',
    'batch/v1/CronJob',
    'apps/v1/DaemonSet',
    'apps/v1/StatefulSet',
    'autoscaling/v1/Scale',
    'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
    'authentication.k8s.io/v1/TokenReview',
    'authentication.k8s.io/v1/TokenRequest',
    'authorization.k8s.io/v1/SelfSubjectAccessReview',
    'networking.k8s.io/v1/ServiceCIDR',
    'networking.k8s.io/v1/IPAddress',
    'events.k8s.io/v1/Event',
    'policy/v1/Eviction',
    'v1/Status',
    'meta.k8s.io/v1/PartialObjectMetadataList',
    'v1/WatchEvent',
  ];
  for (const k of wanted) {
    const slash = k.lastIndexOf('/');
    assert.ok(kindSchema(k.slice(0, slash), k.slice(slash + 1)), k);
  }
  assert.equal(kindSchema('v1', 'Nope'), undefined);
  assert.ok(schemaKinds().length > 100);
});

test('fieldAt() finds upstream field numbers, types and merge keys', () => {
  const svc = kindSchema('v1', 'Service')!;
  assert.equal(svc.name, 'k8s.io.api.core.v1.Service');
  const ports = fieldAt(svc, ['spec', 'ports'])!;
  assert.deepEqual(
    [ports.number, ports.repeated, ports.patchMergeKey, ports.patchStrategy, ports.listMapKeys],
    [1, true, 'port', 'merge', ['port', 'protocol']],
  );
  const target = fieldAt(svc, ['spec', 'ports', 'targetPort'])!;
  assert.equal(target.number, 4);
  assert.equal(messageSchema(target.type).json, 'int-or-string');
  assert.equal(fieldAt(svc, ['metadata', 'creationTimestamp'])!.type, 'k8s.io.apimachinery.pkg.apis.meta.v1.Time');
  assert.equal(fieldAt(svc, ['spec', 'selector'])!.map, true);
  assert.equal(fieldAt(svc, ['spec', 'nope']), undefined);
  const deploy = kindSchema('apps/v1', 'Deployment')!;
  assert.equal(fieldAt(deploy, ['spec', 'replicas'])!.pointer, true);
  assert.equal(fieldAt(deploy, ['spec', 'template', 'spec', 'containers'])!.patchMergeKey, 'name');
  assert.equal(
    messageSchema(fieldAt(deploy, ['spec', 'template', 'spec', 'containers', 'resources', 'limits'])!.type).json,
    'quantity',
  );
});

test('jsonFields() flattens inline fields as Go does in JSON', () => {
  const volume = messageSchema('k8s.io.api.core.v1.Volume');
  const emptyDir = jsonField(volume, 'emptyDir')!;
  assert.deepEqual(
    emptyDir.via.map((f) => f.name),
    ['volumeSource'],
  );
  assert.equal(jsonFields(volume).has('volumeSource'), false);
  const probe = messageSchema('k8s.io.api.core.v1.Probe');
  assert.ok(jsonField(probe, 'httpGet') && jsonField(probe, 'periodSeconds'));
  assert.equal(openApiName(volume), 'io.k8s.api.core.v1.Volume');
});

test('Descriptions reads type and field docs from the kubernetes-types package at run time', () => {
  const d = new Descriptions();
  const port = d.of('k8s.io.api.core.v1.ServicePort')!;
  assert.match(port.description!, /ServicePort/);
  assert.match(port.fields.get('targetPort')!, /Number or name of the port/);
  assert.match(
    d.of('k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta')!.fields.get('labels')!,
    /Map of string keys and values/,
  );
  assert.equal(d.of('k8s.io.api.core.v1.NoSuchType'), undefined);
});
