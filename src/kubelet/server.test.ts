/** Unit tests of the kubelet's server without root: a fake kubelet whose exec sessions come from the FakeRuntime. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type http from 'node:http';
import { FakeRuntime, plainContainer } from './fake-runtime.ts';
import { type ServedKubelet, serveKubelet } from './server.ts';

let server: http.Server;
let base: string;
let dir: string;
const runtime = new FakeRuntime();
let containerId = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubelet-server-'));
  writeFileSync(join(dir, 'container.log'), 'one\ntwo\nthree\n');
  const sandbox = await runtime.runPodSandbox({
    metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
    netns: 'n1',
    hostname: 'web',
  });
  containerId = await runtime.createContainer(sandbox, plainContainer('app'), {
    metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
    netns: 'n1',
    hostname: 'web',
  });
  await runtime.startContainer(containerId);
  runtime.execHandler = (_c, command) =>
    command[0] === 'fail'
      ? { exitCode: 3, stdout: '', stderr: 'bad\n' }
      : { exitCode: 0, stdout: `ran ${command.join(' ')}\n`, stderr: '' };
  const kubelet: ServedKubelet = {
    podLogPath: async (ns, pod, container) =>
      ns === 'ns' && pod === 'web' && container === 'app' ? join(dir, 'container.log') : undefined,
    exec: async (ns, pod, container, command) =>
      ns === 'ns' && pod === 'web' && container === 'app' ? runtime.exec(containerId, command) : undefined,
    podSandbox: () => undefined,
    portForward: (_ns, _pod, port) => runtime.portForward(sandbox, port),
  };
  server = await serveKubelet(kubelet, '127.0.0.1', 0);
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** exec runs a command over the v5 channel protocol and returns what came on each stream. */
async function exec(command: string[]): Promise<Record<number, string>> {
  const query = command.map((c) => `command=${encodeURIComponent(c)}`).join('&');
  const ws = new WebSocket(`ws://${base}/exec/ns/web/app?${query}&stdout=true&stderr=true`, ['v5.channel.k8s.io']);
  ws.binaryType = 'arraybuffer';
  const streams: Record<number, string> = {};
  await new Promise<void>((resolve, reject) => {
    ws.onmessage = (m) => {
      const data = Buffer.from(m.data as ArrayBuffer);
      streams[data[0]!] = (streams[data[0]!] ?? '') + data.subarray(1).toString();
    };
    ws.onclose = () => resolve();
    ws.onerror = () => reject(new Error('WebSocket error'));
  });
  return streams;
}

test('exec streams the output and ends with a Success status', async () => {
  const streams = await exec(['echo', 'hi']);
  assert.equal(streams[1], 'ran echo hi\n');
  assert.deepEqual(JSON.parse(streams[3]!), { metadata: {}, status: 'Success' });
});

test('exec of a failing command gives its stderr and a NonZeroExitCode status', async () => {
  const streams = await exec(['fail']);
  assert.equal(streams[2], 'bad\n');
  const status = JSON.parse(streams[3]!);
  assert.equal(status.reason, 'NonZeroExitCode');
  assert.equal(
    status.message,
    'command terminated with non-zero exit code: error executing command [fail], exit code 3',
  );
  assert.deepEqual(status.details, { causes: [{ reason: 'ExitCode', message: '3' }] });
});

test('containerLogs answers the log with tailLines, and 404 for an unknown container', async () => {
  const tail = await fetch(`http://${base}/containerLogs/ns/web/app?tailLines=2`);
  assert.equal(tail.status, 200);
  assert.equal(await tail.text(), 'two\nthree\n');
  const missing = await fetch(`http://${base}/containerLogs/ns/web/other`);
  assert.equal(missing.status, 404);
});

test('exec into a container that is not there is a 404', async () => {
  const ws = new WebSocket(`ws://${base}/exec/ns/web/other?command=true`, ['v5.channel.k8s.io']);
  const failed = await new Promise<boolean>((resolve) => {
    ws.onerror = () => resolve(true);
    ws.onopen = () => resolve(false);
  });
  assert.equal(failed, true);
});
