import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError, formatDuration, parseDuration, parseFlags, type FlagSpecs } from './flags.ts';

const SPECS: FlagSpecs = {
  kubeconfig: { type: 'string', help: 'path' },
  'allow-privileged': { type: 'bool', default: false, help: 'x' },
  'secure-port': { type: 'int', default: 6443, help: 'x' },
  'etcd-servers': { type: 'strings', default: [], help: 'x' },
  v: { type: 'int', default: 0, help: 'verbosity', short: 'v' },
};

test('parseFlags() reads the forms upstream command lines use', () => {
  const { values, args } = parseFlags(
    [
      '--kubeconfig=nodea.conf',
      '--allow-privileged=true',
      '--secure-port',
      '0',
      '--etcd-servers=http://a:2379,http://b:2379',
      '-v=4',
      'extra',
    ],
    SPECS,
  );
  assert.equal(values.kubeconfig, 'nodea.conf');
  assert.equal(values['allow-privileged'], true);
  assert.equal(values['secure-port'], 0);
  assert.deepEqual(values['etcd-servers'], ['http://a:2379', 'http://b:2379']);
  assert.equal(values.v, 4);
  assert.deepEqual(args, ['extra']);
});

test('parseFlags() names an unknown flag', () => {
  assert.throws(
    () => parseFlags(['--kubeconfg=x'], SPECS),
    (e: unknown) => e instanceof FlagError && e.message === 'unknown flag: --kubeconfg',
  );
  assert.throws(() => parseFlags(['--secure-port=abc'], SPECS), FlagError);
});

test('parseDuration() and formatDuration() follow Go time.Duration', () => {
  assert.equal(parseDuration('15m0s'), 900_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1h0m0s'), 3_600_000);
  assert.throws(() => parseDuration('10 s'), RangeError);
  assert.equal(formatDuration(30_000), '30s');
  assert.equal(formatDuration(900_000), '15m0s');
  assert.equal(formatDuration(86_400_000), '24h0m0s');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(0), '0s');
});
