/** ServicePortCache: buildServicePorts' model, rebuilt only for changed Services (fixtures: testdata/overall.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServicePortCache } from './service-port-cache.ts';
import { buildServicePorts, planServicePort } from './service-ports.ts';
import { overallEndpointSlices, overallServices, TEST_NODE } from './testdata/overall.ts';

test("ServicePortCache.build() gives buildServicePorts' model and names what changed", () => {
  const services = overallServices();
  const slices = overallEndpointSlices();
  const cache = new ServicePortCache();
  for (const s of services) cache.setService(s.metadata.namespace, s.metadata.name, s);
  for (const s of slices) cache.setSlice(s);
  const first = cache.build(TEST_NODE);
  assert.deepEqual(first.ports, buildServicePorts({ services, endpointSlices: slices, nodeName: TEST_NODE }));
  assert.equal(first.changed.size, 6);
  // Each service port carries its plan, computed once when it was built.
  for (const p of first.ports) assert.deepEqual(p.plan, planServicePort(p));
  assert.deepEqual(cache.build(TEST_NODE).changed.size, 0, 'no event: nothing changed');

  // One slice loses an endpoint, one Service goes away.
  const svc4 = { ...slices[3], endpoints: [slices[3].endpoints[0]] };
  cache.setSlice(svc4, slices[3]);
  cache.setService('ns6', 'svc6', undefined);
  const second = cache.build(TEST_NODE);
  assert.deepEqual([...second.changed], ['ns4/svc4:p80']);
  assert.deepEqual(second.removed, ['ns6/svc6:p80/TCP']);
  const nextSlices = slices.map((s, i) => (i === 3 ? svc4 : s));
  assert.deepEqual(
    second.ports,
    buildServicePorts({
      services: services.filter((s) => s.metadata.name !== 'svc6'),
      endpointSlices: nextSlices,
      nodeName: TEST_NODE,
    }),
  );
  assert.equal(
    second.ports.find((p) => p.name === 'ns1/svc1:p80'),
    first.ports.find((p) => p.name === 'ns1/svc1:p80'),
    'unchanged service reused',
  );

  // A slice moving to another Service (label change) marks both.
  const moved = { ...slices[0], metadata: { ...slices[0].metadata, labels: { 'kubernetes.io/service-name': 'svc3' } } };
  cache.setSlice(moved, slices[0]);
  assert.deepEqual([...cache.build(TEST_NODE).changed].sort(), ['ns1/svc1:p80']);
});
