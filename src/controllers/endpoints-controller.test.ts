import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunningApiServer } from '../apiserver/apiserver.ts';
import { startInProcessApiServer } from '../apiserver/testing/in-process.ts';
import type { ResourceInfo } from '../api/resources.ts';
import { RestClient, type WatchEventType, type WatchOptions } from '../client/rest-client.ts';
import type { ObjectOf } from '../client/typed-resources.ts';
import { silentLogger } from '../log/klog.ts';
import { sleep, waitFor } from '../util/wait.ts';
import { startControllers } from './controller-manager.ts';

/** SLICE_WATCH_DELAY_MS holds back EndpointSlice watch events, as a loaded machine does, in the controllers' client. */
const SLICE_WATCH_DELAY_MS = 300;

/** SlowSliceWatch is a client whose EndpointSlice watch events arrive late (in order): the cache lags the writes. */
class SlowSliceWatch extends RestClient {
  override watch<I extends ResourceInfo>(
    info: I,
    options: WatchOptions,
    onEvent: (type: WatchEventType, object: ObjectOf<I>) => void,
  ): Promise<void> {
    if (info.resource !== 'endpointslices') return super.watch(info, options, onEvent);
    return super.watch(info, options, (type, object) => setTimeout(() => onEvent(type, object), SLICE_WATCH_DELAY_MS));
  }
}

describe('endpoints controller against an in-process API server', { timeout: 60_000 }, () => {
  let dir: string;
  let server: RunningApiServer;
  let client: RestClient;
  let cm: { stop(): Promise<void> };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tskube-endpoints-unit-'));
    server = await startInProcessApiServer(join(dir, 'data'));
    client = new RestClient({ server: `http://127.0.0.1:${server.insecurePort}`, namespace: 'default' });
    const slow = new SlowSliceWatch({ server: `http://127.0.0.1:${server.insecurePort}`, namespace: 'default' });
    cm = await startControllers({ client: slow, logger: silentLogger(), nodeMonitorGracePeriodMs: 3_600_000 });
  });

  after(async () => {
    await cm?.stop();
    client?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a deleted managed slice comes back once, also when a sync runs before the new slice reaches the cache', async () => {
    const pods = client.typed('pods');
    const slices = client.typed('endpointslices');
    const pod = await client.create(pods, 'default', {
      metadata: { name: 'pod1', labels: { app: 'one' } },
      spec: { containers: [{ name: 'c', image: 'fake', ports: [{ containerPort: 3000 }] }] },
    });
    await client.update(
      pods,
      { ...pod, status: { phase: 'Running', podIP: '10.244.0.5', conditions: [{ type: 'Ready', status: 'True' }] } },
      { subresource: 'status' },
    );
    await client.create(client.typed('services'), 'default', {
      metadata: { name: 'svc' },
      spec: { selector: { app: 'one' }, ports: [{ port: 80, targetPort: 3000, protocol: 'TCP' }] },
    });
    const managed = async () =>
      (await client.list(slices, { namespace: 'default', labelSelector: 'kubernetes.io/service-name=svc' })).items;
    await waitFor('the first slice', async () => (await managed()).length === 1, { timeoutMs: 5000 });
    const [slice] = await managed();
    await client.delete(slices, 'default', slice!.metadata.name);
    // The controller creates the slice again; a pod event right after queues the Service while its cache still lacks
    // the new slice (its ADDED is SLICE_WATCH_DELAY_MS late).
    await waitFor('the slice created again', async () => (await managed()).length > 0, {
      timeoutMs: 5000,
      intervalMs: 5,
    });
    const p = await client.get(pods, 'default', 'pod1');
    await client.update(pods, { ...p, metadata: { ...p.metadata, annotations: { touched: 'yes' } } });
    await sleep(4 * SLICE_WATCH_DELAY_MS);
    const got = await managed();
    assert.deepEqual(
      got.map((s) => s.endpoints?.map((e) => e.addresses)),
      [[['10.244.0.5']]],
      `one slice, not ${got.map((s) => s.metadata.name).join(',')}`,
    );
  });
});
