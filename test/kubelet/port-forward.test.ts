/**
 * `kubectl port-forward` through a real API server to the kubelet's port-forward server (a fake node whose kubelet
 * endpoint is a loopback HTTPS server running servePortForward, with a serving certificate the API server verifies
 * through --kubelet-certificate-authority, as it always reaches kubelets over HTTPS). The connection into the pod is dialled with busybox nc
 * on loopback here (the e2e test covers the pod's network namespace). kubectl 1.33 speaks SPDY tunnelled in
 * WebSocket, 1.30 plain SPDY; both must fetch the page, and a closed port must print upstream's error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { servePortForward } from '../../src/kubelet/port-forward.ts';
import { spawnPiped } from '../../src/sys/run.ts';
import { createCa, issueCertificate } from '../../src/pki/pki.ts';
import { startApiServer, type TestApiServer } from '../support/apiserver.ts';
import { kubectlAvailable, kubectlPath } from '../support/kubectl.ts';
import { freePort } from '../support/processes.ts';
import { waitFor } from '../../src/util/wait.ts';
import type { Resource } from '../../src/client/client.ts';

const VERSIONS = ['1.33', '1.30'].filter(kubectlAvailable);

describe('kubectl port-forward', { skip: VERSIONS.length === 0 && 'kubectl 1.30/1.33 are not installed' }, () => {
  let server: TestApiServer;
  let kubelet: https.Server;
  let web: http.Server;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tskube-pf-'));
    web = http.createServer((_req, res) => res.end('hello through the tunnel\n'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', () => resolve()));
    const webPort = (web.address() as AddressInfo).port;
    // The kubelet serves HTTPS with a certificate for its node from its own CA, which the API server is told to trust.
    const ca = await createCa('tskube-test-kubelet-ca');
    const serving = await issueCertificate(ca, {
      commonName: 'n1',
      usage: 'server',
      dnsNames: ['n1'],
      ips: ['127.0.0.1'],
    });
    await writeFile(join(dir, 'kubelet-ca.crt'), ca.cert);
    kubelet = https.createServer({ cert: serving.cert, key: serving.key }, (_req, res) => res.writeHead(404).end());
    // The pod's port 8080 is the web server; any other port is closed (9 is discard, never listened on here).
    const dial = async (port: number) =>
      spawnPiped(['/bin/busybox', 'nc', '127.0.0.1', String(port === 8080 ? webPort : 9)]);
    kubelet.on('upgrade', (req, socket, head) =>
      servePortForward(req, socket, head, { netns: 'tkpf-pod', pod: 'web', uid: 'uid-1', dial }),
    );
    await new Promise<void>((resolve) => kubelet.listen(0, '127.0.0.1', () => resolve()));
    server = await startApiServer({ extraFlags: [`--kubelet-certificate-authority=${join(dir, 'kubelet-ca.crt')}`] });
    const r = (n: string) => server.client.resource(n) as Resource<any>;
    await server.client.create(r('nodes'), undefined, {
      metadata: { name: 'n1' },
      status: {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: (kubelet.address() as AddressInfo).port } },
      },
    });
    const pod = await server.client.create(r('pods'), 'default', {
      metadata: { name: 'web' },
      spec: { nodeName: 'n1', containers: [{ name: 'web', image: 'busybox' }] },
    });
    await server.client.update(r('pods'), { ...pod, status: { phase: 'Running' } }, { subresource: 'status' });
  });

  after(async () => {
    kubelet?.close();
    web?.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** forwarding runs `kubectl port-forward` until stop() and collects what it printed. */
  function forwarding(version: string, spec: string): { output: () => string; stop: () => Promise<void> } {
    const child = spawn(
      kubectlPath(version),
      [
        `--kubeconfig=${server.kubeconfig}`,
        `--cache-dir=${join(dir, `cache-${version}`)}`,
        'port-forward',
        'pod/web',
        spec,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir } },
    );
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    return {
      output: () => out,
      stop: () =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.on('close', () => resolve());
          child.kill('SIGTERM');
        }),
    };
  }

  for (const version of VERSIONS) {
    test(`kubectl ${version}: a request through the forwarded port answers, twice`, async () => {
      const local = await freePort();
      const pf = forwarding(version, `${local}:8080`);
      try {
        await waitFor(
          'the forwarding line',
          async () => pf.output().includes(`Forwarding from 127.0.0.1:${local} -> 8080`),
          { timeoutMs: 15_000 },
        );
        for (let i = 0; i < 2; i++) {
          const body = await (await fetch(`http://127.0.0.1:${local}/`)).text();
          assert.equal(body, 'hello through the tunnel\n');
        }
        assert.match(pf.output(), /Handling connection for \d+/);
      } finally {
        await pf.stop();
      }
    });

    test(`kubectl ${version}: a port nothing listens on gives upstream's error`, async () => {
      const local = await freePort();
      const pf = forwarding(version, `${local}:9999`);
      try {
        await waitFor(
          'the forwarding line',
          async () => pf.output().includes(`Forwarding from 127.0.0.1:${local} -> 9999`),
          { timeoutMs: 15_000 },
        );
        await fetch(`http://127.0.0.1:${local}/`).catch(() => undefined);
        await waitFor(
          'the error',
          async () => (pf.output().includes('an error occurred forwarding') ? true : undefined),
          { timeoutMs: 10_000 },
        );
        assert.match(
          pf.output(),
          new RegExp(
            `an error occurred forwarding ${local} -> 9999: error forwarding port 9999 to pod web, uid uid-1: failed to connect to localhost:9999 inside namespace \\\\?"tkpf-pod\\\\?": can't connect to remote host \\(127.0.0.1\\): Connection refused`,
          ),
        );
        // As upstream's kubectl (1.2x+), a failed forward tears the connection down.
        await waitFor('kubectl to end', async () => pf.output().includes('error: lost connection to pod'), {
          timeoutMs: 10_000,
        });
      } finally {
        await pf.stop();
      }
    });
  }
});
