/**
 * Unit tests of the process runtime's bookkeeping without root (sandbox records, container ids and states): the
 * network is a fake and no container is started (that needs namespaces; test/e2e/pod-sandbox.test.ts runs them).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ProcessRuntime } from './process-runtime.ts';
import { ProcessRuntimeService, type SandboxNetwork } from './process-runtime-service.ts';
import { plainContainer } from './fake-runtime.ts';
import type { PodSandboxConfig } from './runtime-service.ts';

const dir = mkdtempSync(join(tmpdir(), 'process-runtime-service-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const calls: string[] = [];
const network: SandboxNetwork = {
  setUp: async (uid, netns) => {
    calls.push(`setUp ${uid} ${netns}`);
    return '10.88.0.7';
  },
  tearDown: async (uid, netns) => {
    calls.push(`tearDown ${uid} ${netns}`);
  },
};
const processes = new ProcessRuntime(join(dir, 'root'));
const runtime = new ProcessRuntimeService(network, processes, join(dir, 'root'));
const sandbox: PodSandboxConfig = {
  metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
  netns: 'test-u1',
  hostname: 'web',
};
const config = plainContainer;

test('a sandbox is the pod uid, recorded with its IP; running it again keeps it', async () => {
  assert.equal(await runtime.podSandboxStatus('u1'), undefined);
  assert.equal(await runtime.runPodSandbox(sandbox), 'u1');
  assert.equal(await runtime.runPodSandbox(sandbox), 'u1');
  const status = await runtime.podSandboxStatus('u1');
  assert.deepEqual(status, {
    id: 'u1',
    metadata: sandbox.metadata,
    state: 'SANDBOX_READY',
    ip: '10.88.0.7',
    netns: 'test-u1',
    hostNetwork: false,
  });
  assert.deepEqual(await runtime.listPodSandbox({ uid: 'u1' }), [status]);
  assert.deepEqual(await runtime.listPodSandbox({ uid: 'other' }), []);
  assert.deepEqual(calls, ['setUp u1 test-u1', 'setUp u1 test-u1']);
});

test('a hostNetwork sandbox has the node IP and no network of its own', async () => {
  const id = await runtime.runPodSandbox({
    ...sandbox,
    metadata: { ...sandbox.metadata, uid: 'h1' },
    hostNetwork: true,
    hostIP: '192.0.2.1',
  });
  assert.equal((await runtime.podSandboxStatus(id))?.ip, '192.0.2.1');
  assert.ok(!calls.some((c) => c.includes('h1')));
  await runtime.removePodSandbox(id);
  assert.ok(!calls.some((c) => c.includes('h1')), 'nothing to tear down');
});

test('a created container is listed by its id <uid>/<name> in the created state, with its attempt', async () => {
  await assert.rejects(runtime.createContainer('nope', config('app'), sandbox), /no sandbox nope/);
  const id = await runtime.createContainer('u1', config('app', 2), sandbox);
  assert.equal(id, 'u1/app');
  const status = await runtime.containerStatus(id);
  assert.equal(status?.state, 'CONTAINER_CREATED');
  assert.deepEqual(status?.metadata, { name: 'app', attempt: 2 });
  assert.deepEqual(
    (await runtime.listContainers({ podSandboxId: 'u1' })).map((c) => c.id),
    ['u1/app'],
  );
  assert.equal(await runtime.containerStatus('u1/other'), undefined);
  assert.deepEqual(await runtime.execSync('u1/app', ['true'], 1000), {
    exitCode: -1,
    stdout: '',
    stderr: 'container app is not running',
  });
  assert.equal(await runtime.exec('u1/app', ['true']), undefined);
});

test('removing the sandbox tears its network down and forgets its containers', async () => {
  await runtime.removePodSandbox('u1');
  assert.equal(calls.at(-1), 'tearDown u1 test-u1');
  assert.equal(await runtime.podSandboxStatus('u1'), undefined);
  assert.deepEqual(await runtime.listContainers({ podSandboxId: 'u1' }), []);
  assert.equal(existsSync(processes.path('u1')), false);
  await assert.rejects(runtime.startContainer('u1/app'), /was not created/);
});
