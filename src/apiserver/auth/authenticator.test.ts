import assert from 'node:assert/strict';
import { test } from 'node:test';
import { certificateUser } from './authenticator.ts';

test('certificateUser: CN is the name, every O a group (one O is a string, several an array)', () => {
  assert.deepEqual(certificateUser({ CN: 'system:node:a', O: 'system:nodes' }), {
    username: 'system:node:a',
    groups: ['system:nodes', 'system:authenticated'],
  });
  assert.deepEqual(certificateUser({ CN: ['admin', 'other'], O: ['system:masters', 'devs'] }), {
    username: 'admin',
    groups: ['system:masters', 'devs', 'system:authenticated'],
  });
  assert.equal(certificateUser({ O: 'system:masters' }), undefined);
  assert.equal(certificateUser(undefined), undefined);
});
