import assert from 'node:assert/strict';
import test from 'node:test';
import { keyOf, onEveryChange } from './client.ts';

test('keyOf() is namespace/name, or name for cluster-scoped objects', () => {
  assert.equal(keyOf({ metadata: { namespace: 'default', name: 'web' } }), 'default/web');
  assert.equal(keyOf({ metadata: { name: 'nodea' } }), 'nodea');
});

test('onEveryChange() calls back on add, update (with the new object) and delete', () => {
  const seen: string[] = [];
  const handlers = onEveryChange<{ v: string }>((o) => seen.push(o.v));
  handlers.onAdd?.({ v: 'added' });
  handlers.onUpdate?.({ v: 'old' }, { v: 'new' });
  handlers.onDelete?.({ v: 'deleted' });
  assert.deepEqual(seen, ['added', 'new', 'deleted']);
  assert.equal(handlers.onChange, undefined);
});
