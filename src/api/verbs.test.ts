import assert from 'node:assert/strict';
import test from 'node:test';
import { verbOfMethod } from './verbs.ts';

test('verbOfMethod names the verb upstream authorizes an HTTP method as', () => {
  assert.deepEqual(['POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'constructor'].map(verbOfMethod), [
    'create',
    'update',
    'patch',
    'delete',
    'get',
    'get',
    'options',
    'constructor',
  ]);
});
