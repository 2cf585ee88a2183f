import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompactedError,
  KeyExistsError,
  RevisionConflictError,
  type Store,
  type WatchEvent,
} from '../../src/apiserver/storage/store.ts';
import { sleep } from '../../src/util/wait.ts';

/**
 * storeSuite registers the behaviour every Store backend must share; each backend's test file calls it with a
 * factory that opens a fresh, empty store.
 */
export function storeSuite(open: () => Promise<Store>): void {
  test('revisions are global and strictly increasing across keys', async () => {
    const store = await open();
    try {
      const a = await store.create('/t/a', '1');
      const b = await store.create('/t/b', '2');
      const c = await store.update('/t/a', '3', a);
      assert.ok(a < b && b < c);
      assert.equal(await store.currentRevision(), c);
      assert.equal((await store.get('/t/a'))?.modRevision, c);
    } finally {
      await store.close();
    }
  });

  test('create refuses an existing key; update and delete check the revision', async () => {
    const store = await open();
    try {
      const rev = await store.create('/t/x', 'v1');
      await assert.rejects(store.create('/t/x', 'v2'), KeyExistsError);
      await store.update('/t/x', 'v2', rev);
      await assert.rejects(store.update('/t/x', 'v3', rev), RevisionConflictError);
      const current = (await store.get('/t/x'))!;
      await assert.rejects(store.delete('/t/x', rev), RevisionConflictError);
      const deleted = await store.delete('/t/x', current.modRevision);
      assert.equal(deleted.value, 'v2');
      assert.equal(await store.get('/t/x'), undefined);
    } finally {
      await store.close();
    }
  });

  test('list returns one prefix, sorted by key, with the revision it was read at', async () => {
    const store = await open();
    try {
      await store.create('/t/p/b', 'b');
      await store.create('/t/p/a', 'a');
      await store.create('/t/q/c', 'c');
      const { items, revision } = await store.list('/t/p/');
      assert.deepEqual(
        items.map((i) => i.key),
        ['/t/p/a', '/t/p/b'],
      );
      assert.equal(revision, await store.currentRevision());
    } finally {
      await store.close();
    }
  });

  test('list returns every key of a large prefix (more than one page)', async () => {
    const store = await open();
    try {
      await Promise.all(
        Array.from({ length: 2500 }, (_, i) => store.create(`/t/big/${String(i).padStart(5, '0')}`, 'x'.repeat(2000))),
      );
      const { items } = await store.list('/t/big/');
      assert.equal(items.length, 2500);
      assert.equal(items[2499]!.key, '/t/big/02499');
    } finally {
      await store.close();
    }
  });

  test('concurrent creates of one key: exactly one wins', async () => {
    const store = await open();
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.create('/t/race', String(i))),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.ok(
        results
          .filter((r) => r.status === 'rejected')
          .every((r) => (r as PromiseRejectedResult).reason instanceof KeyExistsError),
      );
    } finally {
      await store.close();
    }
  });

  test('watch replays exactly the events after a revision, then live ones, deletes with their last value', async () => {
    const store = await open();
    const abort = new AbortController();
    try {
      const r1 = await store.create('/t/w/a', 'a1');
      const r2 = await store.update('/t/w/a', 'a2', r1);
      await store.create('/t/other', 'x');
      const events: WatchEvent[] = [];
      store.watch('/t/w/', r1, (e) => events.push(e), { signal: abort.signal, onError: (e) => assert.fail(e) });
      const r3 = await store.create('/t/w/b', 'b1');
      await store.delete('/t/w/a');
      await waitUntil(() => events.length >= 3);
      assert.deepEqual(
        events.map((e) => [e.type, e.key, e.value, e.created]),
        [
          ['PUT', '/t/w/a', 'a2', false],
          ['PUT', '/t/w/b', 'b1', true],
          ['DELETE', '/t/w/a', 'a2', false],
        ],
      );
      assert.equal(events[0]!.revision, r2);
      assert.equal(events[1]!.revision, r3);
    } finally {
      abort.abort();
      await store.close();
    }
  });

  test('watch from a compacted revision fails with CompactedError', async () => {
    const store = await open();
    try {
      const r1 = await store.create('/t/c', '1');
      let r = r1;
      for (let i = 0; i < 5; i++) r = await store.update('/t/c', String(i), r);
      await store.compact(r - 1);
      const error = await new Promise<Error>((resolve) =>
        store.watch('/t/', r1, () => undefined, { signal: new AbortController().signal, onError: resolve }),
      );
      assert.ok(error instanceof CompactedError, String(error));
    } finally {
      await store.close();
    }
  });
}

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}
