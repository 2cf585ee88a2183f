import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import { notFound } from '../api/status.ts';
import { type PodsAndNodes, kubeletAddress, proxyExecUpgrade } from './kubelet-proxy.ts';

const META = { uid: 'u', resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z' };

function registry(node: Node): PodsAndNodes {
  return {
    getPod: async (namespace, name) => {
      if (name !== 'web') throw notFound({ group: '', resource: 'pods' }, name);
      const pod: Stored<Pod> = {
        metadata: { ...META, name, namespace },
        spec: { nodeName: 'n1', containers: [{ name: 'c' }] },
      };
      return pod;
    },
    getNode: async (name) => ({ ...node, metadata: { ...META, name } }),
  };
}

/** upgrade runs proxyExecUpgrade for a path and returns what it wrote back on the client's socket. */
async function upgrade(path: string, node: Node): Promise<string> {
  const socket = new PassThrough();
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => socket.on('finish', resolve));
  const req = { url: path, method: 'GET', headers: {} } as IncomingMessage;
  await proxyExecUpgrade(req, socket, Buffer.alloc(0), registry(node));
  await ended;
  return Buffer.concat(chunks).toString();
}

test('exec to a pod whose node has no InternalIP is a 400, not a dial to localhost', async () => {
  const answer = await upgrade('/api/v1/namespaces/default/pods/web/exec?command=ls', { status: { addresses: [] } });
  assert.match(answer, /^HTTP\/1.1 400 /);
  assert.match(answer, /node n1 has no InternalIP/);
});

test('exec to a missing pod answers the registry status code', async () => {
  const answer = await upgrade('/api/v1/namespaces/default/pods/gone/exec', {});
  assert.match(answer, /^HTTP\/1.1 404 /);
  assert.match(answer, /pods \\"gone\\" not found/);
});

test('kubeletAddress is the InternalIP and the reported port, 10250 by default', () => {
  assert.deepEqual(kubeletAddress({ status: { addresses: [{ type: 'Hostname', address: 'n1' }] } }), {
    ip: undefined,
    port: 10250,
  });
  assert.deepEqual(
    kubeletAddress({
      status: {
        addresses: [{ type: 'InternalIP', address: '10.0.0.2' }],
        daemonEndpoints: { kubeletEndpoint: { Port: 10251 } },
      },
    }),
    { ip: '10.0.0.2', port: 10251 },
  );
});
