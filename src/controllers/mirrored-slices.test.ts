import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mirroredLabels, mirroredSlices, shouldMirror } from './mirrored-slices.ts';

test('shouldMirror() takes Endpoints of selector-less Services only, and honours skip-mirror', () => {
  const ep = { metadata: { name: 'x' } };
  assert.equal(shouldMirror(ep, { spec: {} }), true);
  assert.equal(shouldMirror(ep, { spec: { selector: { app: 'a' } } }), false);
  assert.equal(shouldMirror(ep, undefined), false);
  assert.equal(
    shouldMirror(
      { metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } } },
      { spec: {} },
    ),
    false,
  );
});

test('mirroredSlices() merges subsets with the same ports and marks notReadyAddresses not ready', () => {
  const slices = mirroredSlices({
    subsets: [
      {
        addresses: [{ ip: '10.0.0.1', nodeName: 'n1' }],
        notReadyAddresses: [{ ip: '10.0.0.2' }],
        ports: [{ port: 80 }],
      },
      { addresses: [{ ip: '10.0.0.3', targetRef: { kind: 'Pod', name: 'p' } }], ports: [{ port: 80 }] },
      { addresses: [{ ip: '10.0.0.4' }], ports: [{ name: 'alt', port: 8080, protocol: 'UDP' }] },
    ],
  });
  assert.deepEqual(slices, [
    {
      addressType: 'IPv4',
      ports: [{ name: '', port: 80, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['10.0.0.1'], conditions: { ready: true }, nodeName: 'n1' },
        { addresses: ['10.0.0.2'], conditions: { ready: false } },
        { addresses: ['10.0.0.3'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'p' } },
      ],
    },
    {
      addressType: 'IPv4',
      ports: [{ name: 'alt', port: 8080, protocol: 'UDP' }],
      endpoints: [{ addresses: ['10.0.0.4'], conditions: { ready: true } }],
    },
  ]);
});

test('mirroredLabels() keeps the Endpoints labels and sets the service name and managed-by', () => {
  assert.deepEqual(mirroredLabels({ metadata: { name: 's', labels: { a: 'b' } } }), {
    a: 'b',
    'kubernetes.io/service-name': 's',
    'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io',
  });
});
