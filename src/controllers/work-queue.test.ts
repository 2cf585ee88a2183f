import assert from 'node:assert/strict';
import test from 'node:test';
import { StatusError } from '../api/status.ts';
import { waitFor } from '../util/wait.ts';
import { WorkQueue } from './work-queue.ts';

const status = (code: number) =>
  new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, message: `code ${code}` });

test('WorkQueue runs a key queued while it runs once more afterwards, not once per add', async () => {
  const runs: string[] = [];
  let release: () => void = () => undefined;
  const queue = new WorkQueue(
    async (key) => {
      runs.push(key);
      if (runs.length === 1) await new Promise<void>((resolve) => (release = resolve));
    },
    { onError: () => undefined },
  );
  queue.add('a');
  queue.add('a');
  queue.add('a');
  release();
  await waitFor('two runs', () => runs.length === 2);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(runs, ['a', 'a']);
  queue.stop();
});

test('requeueOn() queues the key again for the listed status codes and rethrows others', async () => {
  const runs: string[] = [];
  const queue = new WorkQueue(async (key) => void runs.push(key), { onError: () => undefined });
  assert.equal(await Promise.reject(status(409)).catch(queue.requeueOn('ns/web', 1, 409, 404)), undefined);
  await waitFor('the requeued key', () => runs.includes('ns/web'));
  await assert.rejects(Promise.reject(status(500)).catch(queue.requeueOn('ns/other', 1, 409)), /code 500/);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(runs, ['ns/web']);
  queue.stop();
});
