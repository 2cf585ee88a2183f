import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { isStatusError } from '../api/status.ts';
import { negotiate } from './negotiation.ts';

const PB = 'application/vnd.kubernetes.protobuf';
const req = (accept?: string) => ({ headers: accept === undefined ? {} : { accept } }) as IncomingMessage;

test('negotiate() picks the first servable Accept clause as upstream does', () => {
  assert.deepEqual(negotiate(req()), { encoding: 'json' });
  assert.deepEqual(negotiate(req('*/*')), { encoding: 'json' });
  assert.deepEqual(negotiate(req('application/json, */*')), { encoding: 'json' });
  assert.deepEqual(negotiate(req(`${PB},application/json`)), { encoding: 'protobuf' });
  assert.deepEqual(negotiate(req('application/yaml')), { encoding: 'yaml' });
  assert.deepEqual(
    negotiate(req('application/json;charset=utf-8')),
    { encoding: 'json' },
    'unknown parameters are ignored',
  );
  assert.deepEqual(negotiate(req(`application/json;q=0.5, ${PB};q=0.9`)), { encoding: 'protobuf' }, 'higher q first');
  assert.deepEqual(negotiate(req(`*/*, ${PB}`)), { encoding: 'protobuf' }, 'specific before wildcard');
});

test('negotiate() serves Table only as JSON or YAML and PartialObjectMetadata in any encoding', () => {
  const kubectl =
    'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
  assert.deepEqual(negotiate(req(kubectl)), { encoding: 'json', transform: { kind: 'Table', version: 'v1' } });
  assert.deepEqual(negotiate(req(`${PB};as=Table;v=v1;g=meta.k8s.io,application/json`)), { encoding: 'json' });
  assert.deepEqual(negotiate(req(`${PB};as=PartialObjectMetadataList;v=v1;g=meta.k8s.io`)), {
    encoding: 'protobuf',
    transform: { kind: 'PartialObjectMetadataList', version: 'v1' },
  });
  assert.deepEqual(
    negotiate(req('application/json;as=Table;v=v2;g=meta.k8s.io,application/json')),
    { encoding: 'json' },
    'an unknown transform version is skipped',
  );
});

test('negotiate() streams watch events as JSON or protobuf, and answers 406 when nothing fits', () => {
  assert.deepEqual(negotiate(req(`${PB};stream=watch`), { stream: true }), { encoding: 'protobuf' });
  assert.deepEqual(negotiate(req(`${PB}, application/json`), { stream: true }), { encoding: 'protobuf' });
  assert.deepEqual(negotiate(req('application/yaml, application/json'), { stream: true }), { encoding: 'json' });
  assert.throws(
    () => negotiate(req(`${PB};stream=watch`)),
    (e) => isStatusError(e, 406),
    'stream=watch on a non-watch request',
  );
  assert.throws(
    () => negotiate(req('text/html')),
    (e) =>
      isStatusError(e, 406) &&
      /only the following media types are accepted: application\/json, application\/yaml, application\/vnd.kubernetes.protobuf/.test(
        e.message,
      ),
  );
});
