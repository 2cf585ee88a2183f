import assert from 'node:assert/strict';
import test from 'node:test';
import { StatusError } from '../api/status.ts';
import { ignoreNotFound, ignoreStatus } from './errors.ts';

const status = (code: number) =>
  new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, message: `code ${code}` });

test('ignoreStatus() resolves the listed status codes to undefined and rethrows anything else', async () => {
  assert.equal(await Promise.reject(status(404)).catch(ignoreStatus(404, 409)), undefined);
  assert.equal(await Promise.reject(status(409)).catch(ignoreStatus(404, 409)), undefined);
  await assert.rejects(Promise.reject(status(500)).catch(ignoreStatus(404, 409)), /code 500/);
  await assert.rejects(Promise.reject(new Error('socket hang up')).catch(ignoreStatus(404)), /socket hang up/);
  assert.equal(await Promise.resolve('kept').catch(ignoreStatus(404)), 'kept');
});

test('ignoreNotFound() is ignoreStatus(404)', async () => {
  assert.equal(await Promise.reject(status(404)).catch(ignoreNotFound), undefined);
  await assert.rejects(Promise.reject(status(409)).catch(ignoreNotFound), /code 409/);
});
