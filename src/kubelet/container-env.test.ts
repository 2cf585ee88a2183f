import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { containerEnv, expand } from './container-env.ts';

const pod: Pod = {
  metadata: { name: 'web', namespace: 'ns', uid: 'u1', labels: { app: 'a' } },
  spec: { nodeName: 'nodea', containers: [] },
};
const objects: Record<string, ConfigMap | Secret> = {
  'configmaps/cfg': { data: { MODE: 'fast', LEVEL: '3' } },
  'secrets/pw': { data: { password: Buffer.from('s3cret').toString('base64') } },
};
const get = async (resource: string, name: string) => objects[`${resource}/${name}`];

test('env comes from the base, envFrom with prefixes, then env in order with $(VAR) expansion', async () => {
  const r = await containerEnv(
    pod,
    {
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
      env: [
        { name: 'GREETING', value: 'hi $(HOSTNAME) $(CFG_MODE) $(UNDEFINED) $$(HOSTNAME)' },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 'pw', key: 'password' } } },
        { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'LEVEL' } } },
      ],
    },
    { HOSTNAME: 'web' },
    get,
    '10.1.2.3',
  );
  assert.deepEqual(r, {
    env: {
      HOSTNAME: 'web',
      CFG_MODE: 'fast',
      CFG_LEVEL: '3',
      GREETING: 'hi web fast $(UNDEFINED) $(HOSTNAME)',
      POD: 'web',
      IP: '10.1.2.3',
      PW: 's3cret',
      LEVEL: '3',
    },
  });
});

test('a missing object or key is an error unless optional', async () => {
  assert.deepEqual(
    await containerEnv(
      pod,
      { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'NOPE' } } }] },
      {},
      get,
      '',
    ),
    { error: "couldn't find key NOPE in ConfigMap ns/cfg" },
  );
  assert.deepEqual(await containerEnv(pod, { envFrom: [{ secretRef: { name: 'gone' } }] }, {}, get, ''), {
    error: 'secret "gone" not found',
  });
  assert.deepEqual(
    await containerEnv(
      pod,
      { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k', optional: true } } }] },
      {},
      get,
      '',
    ),
    { env: {} },
  );
  assert.equal(expand('$(A)-$$-$(B)', { A: '1' }), '1-$-$(B)');
});
