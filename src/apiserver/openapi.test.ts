import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RESOURCES, groupVersion } from '../api/resources.ts';
import { OpenApi } from './openapi.ts';

const API = new OpenApi({ serverVersion: 'v1.33.0' });

function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref') out.push(String(v));
      else refs(v, out);
    }
  }
  return out;
}

/** The parts of an OpenAPI v3 document this test reads. */
interface Gvk {
  group: string;
  version: string;
  kind: string;
}
interface V3Document {
  components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: Gvk[]; properties?: object }> };
  paths: Record<string, Record<string, { 'x-kubernetes-group-version-kind'?: Gvk; parameters?: { name: string }[] }>>;
}

test('OpenApi v3 documents have a schema with x-kubernetes-group-version-kind for every served kind, and every $ref resolves', () => {
  const index = API.v3Index() as { paths: Record<string, { serverRelativeURL: string }> };
  for (const [path, { serverRelativeURL }] of Object.entries(index.paths)) {
    assert.match(serverRelativeURL, new RegExp(`^/openapi/v3/${path}\\?hash=[0-9A-F]{128}$`));
    const doc: V3Document = JSON.parse(API.v3Document(path)!);
    const schemas = doc.components.schemas;
    for (const r of RESOURCES.filter(
      (x) => (x.group === '' ? `api/${x.version}` : `apis/${x.group}/${x.version}`) === path,
    )) {
      const found = Object.values(schemas).find((s) =>
        s['x-kubernetes-group-version-kind']?.some(
          (g) => g.group === r.group && g.version === r.version && g.kind === r.kind,
        ),
      );
      assert.ok(found, `${groupVersion(r)} ${r.kind}`);
      assert.ok(found.properties && 'metadata' in found.properties && 'apiVersion' in found.properties, r.kind);
      const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
      if (!r.verbs.includes('get')) {
        // Create-only kinds (TokenReview, SubjectAccessReview, ...) have only POST on the collection, as upstream.
        const collection = doc.paths[`${base}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.resource}`];
        assert.deepEqual(collection?.post?.['x-kubernetes-group-version-kind'], {
          group: r.group,
          version: r.version,
          kind: r.kind,
        });
        continue;
      }
      const item = doc.paths[`${base}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.resource}/{name}`];
      assert.deepEqual(item?.get?.['x-kubernetes-group-version-kind'], {
        group: r.group,
        version: r.version,
        kind: r.kind,
      });
      assert.ok(
        item?.patch?.parameters?.some((p) => p.name === 'fieldValidation'),
        'kubectl leaves validation to the server',
      );
    }
    for (const ref of refs(doc)) assert.ok(schemas[ref.replace('#/components/schemas/', '')], `${path}: ${ref}`);
  }
});

test('OpenApi v3 schemas carry upstream types, merge keys and descriptions', () => {
  const schemas = JSON.parse(API.v3Document('api/v1')!).components.schemas;
  const ports = schemas['io.k8s.api.core.v1.ServiceSpec'].properties.ports;
  assert.deepEqual(ports.items, { $ref: '#/components/schemas/io.k8s.api.core.v1.ServicePort' });
  assert.equal(ports['x-kubernetes-patch-merge-key'], 'port');
  assert.deepEqual(ports['x-kubernetes-list-map-keys'], ['port', 'protocol']);
  assert.match(ports.description, /ports/);
  const port = schemas['io.k8s.api.core.v1.ServicePort'];
  assert.deepEqual(port.required, ['port']);
  assert.deepEqual(port.properties.port, {
    type: 'integer',
    format: 'int32',
    description: port.properties.port.description,
  });
  assert.deepEqual(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].oneOf, [
    { type: 'integer' },
    { type: 'string' },
  ]);
  assert.equal(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Time'].format, 'date-time');
  assert.ok(schemas['io.k8s.api.core.v1.Volume'].properties.emptyDir, 'inline VolumeSource fields are flattened');
  assert.equal(schemas['io.k8s.api.core.v1.Secret'].properties.data.additionalProperties.format, 'byte');
});

test('OpenApi v2 (JSON) document has definitions for the same kinds', () => {
  const doc = JSON.parse(API.v2Document());
  assert.equal(doc.swagger, '2.0');
  assert.ok(doc.definitions['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind']);
  for (const ref of refs(doc)) assert.ok(doc.definitions[ref.replace('#/definitions/', '')], ref);
});
