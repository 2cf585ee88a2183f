import assert from 'node:assert/strict';
import test from 'node:test';
import { FlagError } from './flags.ts';
import { componentFlags, runComponent, type ComponentFlags } from './run-component.ts';

const FLAGS = {
  name: { type: 'string', help: 'a name' },
  count: { type: 'int', default: 2, help: 'a count' },
  ...componentFlags('thing'),
} satisfies ComponentFlags;

test('runComponent() prints --help and starts nothing', async () => {
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stdout.write;
  try {
    const status = await runComponent(['--help'], {
      command: 'tskube thing',
      summary: 'Does a thing.',
      flags: FLAGS,
      logSource: 'thing.go',
      start: () => assert.fail('started'),
    });
    assert.equal(status, 0);
  } finally {
    process.stdout.write = write;
  }
  assert.match(written.join(''), /^Does a thing\.\n\nUsage:\n {2}tskube thing \[flags\]/);
  assert.match(written.join(''), /--count int\ta count \(default 2\)/);
  assert.match(written.join(''), /-h, --help\thelp for thing\n/);
});

test('runComponent() passes typed flag values, runs until SIGTERM, then stops', async () => {
  const events: string[] = [];
  const running = runComponent(['--name=x', '-v=3'], {
    command: 'tskube thing',
    summary: '',
    flags: FLAGS,
    logSource: 'thing.go',
    async start({ values, logger }) {
      const name: string | undefined = values.name;
      const count: number = values.count;
      events.push(`start ${name} ${count} ${values.v}`);
      assert.equal(typeof logger.info, 'function');
      return {
        stop: () => {
          events.push('stop');
        },
      };
    },
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(events, ['start x 2 3']);
  process.emit('SIGTERM');
  assert.equal(await running, 0);
  assert.deepEqual(events, ['start x 2 3', 'stop']);
});

test('runComponent() returns at once when start did all the work or failed, and refuses unknown flags', async () => {
  assert.equal(
    await runComponent([], {
      command: 'c',
      summary: '',
      flags: FLAGS,
      logSource: 'c.go',
      start: async () => undefined,
    }),
    0,
  );
  assert.equal(
    await runComponent([], { command: 'c', summary: '', flags: FLAGS, logSource: 'c.go', start: async () => 1 }),
    1,
  );
  await assert.rejects(
    runComponent(['--nope'], {
      command: 'c',
      summary: '',
      flags: FLAGS,
      logSource: 'c.go',
      start: async () => undefined,
    }),
    FlagError,
  );
});
