/**
 * The API server's /metrics, scraped as Prometheus would, after the real kubectl created and listed Services and kept
 * a watch open: upstream's metric names and labels move with the requests.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type TestApiServer } from '../support/apiserver.ts';
import { kubectl, kubectlAvailable, kubectlPath } from '../support/kubectl.ts';
import { startProcess } from '../support/processes.ts';
import { waitFor } from '../../src/util/wait.ts';

/** sample reads one sample's value from the exposition text, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('API server /metrics', { skip: !kubectlAvailable('1.33') && 'kubectl 1.33 is not installed' }, () => {
  let server: TestApiServer;
  let cache: string;
  const k = (args: string[]) => kubectl('1.33', server.kubeconfig, cache, args);

  before(async () => {
    server = await startApiServer();
    cache = await mkdtemp(join(tmpdir(), 'kubectl-cache-'));
  });
  after(async () => {
    await server?.stop();
    await rm(cache, { recursive: true, force: true });
  });

  test("requests, their durations, open watches and storage latency are counted under upstream's names", async () => {
    const service = (name: string) =>
      JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } });
    for (const name of ['m1', 'm2'])
      await kubectl('1.33', server.kubeconfig, cache, ['create', '-f', '-'], { input: service(name) });
    const scrape = async () => (await k(['get', '--raw', '/metrics'])).stdout;
    const before = await scrape();
    assert.match(before, /^# TYPE apiserver_request_total counter$/m);
    assert.match(before, /^# TYPE apiserver_request_duration_seconds histogram$/m);
    assert.match(before, /^# TYPE etcd_request_duration_seconds histogram$/m);
    const listsBefore =
      sample(before, 'apiserver_request_total', { verb: 'LIST', resource: 'services', code: '200' }) ?? 0;
    await k(['get', 'services']);
    await k(['get', 'service', 'nosuch']).catch(() => undefined);
    const watch = startProcess([
      kubectlPath('1.33'),
      '--kubeconfig',
      server.kubeconfig,
      '--cache-dir',
      cache,
      'get',
      'services',
      '--watch',
    ]);
    try {
      const text = await waitFor(
        'an open watch in /metrics',
        async () => {
          const t = await scrape();
          return (sample(t, 'apiserver_longrunning_requests', { verb: 'WATCH', resource: 'services' }) ?? 0) >= 1
            ? t
            : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      // One LIST for `get services`, one for the watch's initial list.
      assert.equal(
        sample(text, 'apiserver_request_total', {
          verb: 'LIST',
          resource: 'services',
          scope: 'namespace',
          code: '200',
        }),
        listsBefore + 2,
      );
      assert.ok(
        (sample(text, 'apiserver_request_total', {
          verb: 'GET',
          resource: 'services',
          scope: 'resource',
          code: '404',
        }) ?? 0) >= 1,
      );
      assert.ok(
        (sample(text, 'apiserver_request_duration_seconds_count', { verb: 'LIST', resource: 'services' }) ?? 0) >= 1,
      );
      assert.ok(
        (sample(text, 'etcd_request_duration_seconds_count', { operation: 'listWithCount', type: 'services' }) ?? 0) >=
          1,
      );
      assert.ok(
        (sample(text, 'apiserver_current_inflight_requests', { request_kind: 'readOnly' }) ?? 0) >= 1,
        'the scrape itself is in flight',
      );
    } finally {
      await watch.stop();
    }
  });
});
