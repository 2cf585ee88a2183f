/** Probes against servers on 127.0.0.1 (random ports), run in this process's network namespace. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import { checkNetworkProbe, decodeHealthResponse, encodeHealthRequest } from './probe-check.ts';
import { networkProbe } from './probes.ts';

async function listen(server: {
  listen(port: number, host: string, cb: () => void): unknown;
  address(): unknown;
}): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const s = createTcpServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

test('checkNetworkProbe() tcp succeeds on a listening port and fails with connection refused otherwise', async (t) => {
  const server = createTcpServer((socket) => socket.destroy());
  t.after(() => server.close());
  const port = await listen(server);
  assert.deepEqual(await checkNetworkProbe({ kind: 'tcp', host: '127.0.0.1', port, timeoutMs: 1000 }), {
    ok: true,
    output: '',
  });
  const closed = await closedPort();
  const outcome = await checkNetworkProbe({ kind: 'tcp', host: '127.0.0.1', port: closed, timeoutMs: 1000 });
  assert.equal(outcome.ok, false);
  assert.match(outcome.output, /connection refused/);
});

test('checkNetworkProbe() http takes [200, 400), follows same-host redirects, sends headers, times out', async (t) => {
  const seen: Record<string, string | undefined> = {};
  const server = createHttpServer((req, res) => {
    seen[req.url!] = req.headers['x-custom'] as string | undefined;
    if (req.url === '/redirect') res.writeHead(302, { location: '/bad' }).end();
    else if (req.url === '/bad') res.writeHead(500).end();
    else if (req.url === '/slow') setTimeout(() => res.end('late'), 1500);
    else res.writeHead(200).end('ok');
  });
  t.after(() => server.close());
  const port = await listen(server);
  const http = (path: string, timeoutMs = 1000) =>
    checkNetworkProbe({
      kind: 'http',
      scheme: 'http',
      host: '127.0.0.1',
      port,
      path,
      headers: [['X-Custom', 'yes']],
      timeoutMs,
    });
  assert.equal((await http('/healthz')).ok, true);
  assert.equal(seen['/healthz'], 'yes');
  const redirected = await http('/redirect');
  assert.deepEqual(redirected, { ok: false, output: 'HTTP probe failed with statuscode: 500' });
  assert.equal((await http('/slow', 300)).ok, false);
});

test('checkNetworkProbe() grpc is healthy only when the server answers SERVING', async (t) => {
  let status = 1;
  const server = createHttp2Server();
  server.on('stream', (stream, headers) => {
    assert.equal(headers[':path'], '/grpc.health.v1.Health/Check');
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    const message = Buffer.from([0x08, status]);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(message.length, 1);
    stream.end(Buffer.concat([header, message]));
  });
  t.after(() => server.close());
  const port = await listen(server);
  assert.deepEqual(await checkNetworkProbe({ kind: 'grpc', host: '127.0.0.1', port, service: '', timeoutMs: 2000 }), {
    ok: true,
    output: '',
  });
  status = 2;
  const outcome = await checkNetworkProbe({ kind: 'grpc', host: '127.0.0.1', port, service: '', timeoutMs: 2000 });
  assert.equal(outcome.ok, false);
  assert.match(outcome.output, /NOT_SERVING/);
  assert.equal(
    (
      await checkNetworkProbe({
        kind: 'grpc',
        host: '127.0.0.1',
        port: await closedPort(),
        service: '',
        timeoutMs: 1000,
      })
    ).ok,
    false,
  );
});

test('encodeHealthRequest() and decodeHealthResponse() frame grpc.health.v1 messages', () => {
  assert.deepEqual([...encodeHealthRequest('')], [0, 0, 0, 0, 0]);
  assert.deepEqual([...encodeHealthRequest('ab')], [0, 0, 0, 0, 4, 0x0a, 2, 0x61, 0x62]);
  assert.equal(decodeHealthResponse(Buffer.from([0, 0, 0, 0, 2, 0x08, 1])), 1);
  assert.equal(decodeHealthResponse(Buffer.from([0, 0, 0, 0, 0])), 0);
  assert.equal(decodeHealthResponse(Buffer.from([1])), undefined);
});

test('networkProbe() resolves named ports, defaults the host to the pod IP, and rejects unknown names', () => {
  const ports = [{ name: 'http', containerPort: 8080 }];
  assert.deepEqual(networkProbe({ tcpSocket: { port: 'http' } }, '10.244.1.5', ports, 1000), {
    kind: 'tcp',
    host: '10.244.1.5',
    port: 8080,
    timeoutMs: 1000,
  });
  assert.deepEqual(
    networkProbe(
      { httpGet: { port: 80, path: '/x', scheme: 'HTTPS', httpHeaders: [{ name: 'A', value: 'b' }] } },
      '10.244.1.5',
      ports,
      1000,
    ),
    { kind: 'http', scheme: 'https', host: '10.244.1.5', port: 80, path: '/x', headers: [['A', 'b']], timeoutMs: 1000 },
  );
  assert.equal(networkProbe({ tcpSocket: { port: 'nope' } }, '10.244.1.5', ports, 1000), 'unable to find port "nope"');
});
