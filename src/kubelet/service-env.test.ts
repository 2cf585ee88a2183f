import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service, ServiceSpec } from 'kubernetes-types/core/v1.js';
import { serviceEnvironment } from './service-env.ts';

const svc = (namespace: string, name: string, spec: ServiceSpec): Service => ({ metadata: { namespace, name }, spec });
const kubernetes = svc('default', 'kubernetes', {
  clusterIP: '10.96.0.1',
  ports: [{ name: 'https', port: 443, protocol: 'TCP' }],
});

test("serviceEnvironment() gives the KUBERNETES_* set and the namespace's Services, as upstream names them", () => {
  const env = serviceEnvironment(
    [
      kubernetes,
      svc('ns1', 'fooservice', { clusterIP: '10.96.5.6', ports: [{ port: 8765, protocol: 'TCP', targetPort: 8080 }] }),
    ],
    'ns1',
    true,
  );
  assert.deepEqual(env, {
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_443_TCP_PORT: '443',
    KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
    FOOSERVICE_SERVICE_HOST: '10.96.5.6',
    FOOSERVICE_SERVICE_PORT: '8765',
    FOOSERVICE_PORT: 'tcp://10.96.5.6:8765',
    FOOSERVICE_PORT_8765_TCP: 'tcp://10.96.5.6:8765',
    FOOSERVICE_PORT_8765_TCP_PROTO: 'tcp',
    FOOSERVICE_PORT_8765_TCP_PORT: '8765',
    FOOSERVICE_PORT_8765_TCP_ADDR: '10.96.5.6',
  });
});

test('serviceEnvironment() names dashed Services and ports with underscores and covers every port', () => {
  const env = serviceEnvironment(
    [
      svc('a', 'my-svc', {
        clusterIP: '10.0.0.2',
        ports: [
          { name: 'http-alt', port: 80, protocol: 'TCP' },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      }),
    ],
    'a',
    undefined,
  );
  assert.equal(env.MY_SVC_SERVICE_PORT, '80');
  assert.equal(env.MY_SVC_SERVICE_PORT_HTTP_ALT, '80');
  assert.equal(env.MY_SVC_SERVICE_PORT_DNS, '53');
  assert.equal(env.MY_SVC_PORT, 'tcp://10.0.0.2:80');
  assert.equal(env.MY_SVC_PORT_53_UDP, 'udp://10.0.0.2:53');
  assert.equal(env.MY_SVC_PORT_53_UDP_PROTO, 'udp');
});

test('serviceEnvironment() leaves out other namespaces, headless and ExternalName Services, and honours enableServiceLinks false', () => {
  const services = [
    kubernetes,
    svc('b', 'other', { clusterIP: '10.0.0.3', ports: [{ port: 1 }] }),
    svc('a', 'headless', { clusterIP: 'None', ports: [{ port: 1 }] }),
    svc('a', 'ext', { type: 'ExternalName', externalName: 'x.example' }),
    svc('a', 'mine', { clusterIP: '10.0.0.4', ports: [{ port: 2 }] }),
  ];
  const keys = Object.keys(serviceEnvironment(services, 'a', true));
  assert.ok(keys.includes('MINE_SERVICE_HOST') && keys.includes('KUBERNETES_SERVICE_HOST'));
  assert.ok(!keys.some((k) => k.startsWith('OTHER_') || k.startsWith('HEADLESS_') || k.startsWith('EXT_')));
  assert.deepEqual(
    Object.keys(serviceEnvironment(services, 'a', false)).filter((k) => !k.startsWith('KUBERNETES_')),
    [],
  );
});

test('serviceEnvironment() lets a namespace\'s own "kubernetes" Service win over the default one', () => {
  const env = serviceEnvironment(
    [kubernetes, svc('a', 'kubernetes', { clusterIP: '10.0.0.9', ports: [{ port: 80 }] })],
    'a',
    true,
  );
  assert.equal(env.KUBERNETES_SERVICE_HOST, '10.0.0.9');
});
